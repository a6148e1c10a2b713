-- POST /v1/credentials with a name unique to this run, thread and request.
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  prefix = args[1] or "x"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"load-%s-%d-%d","provider":"openai","api_key":"sk-load-plaintext-%d-%d-0000wxyz","verify":false}',
    prefix, tid, counter, tid, counter)
  return wrk.format("POST", "/v1/credentials", nil, body)
end
