-- GET /v1/credentials/{id} over the ids in the file given after --, round robin per thread.
local ids = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  i = math.random(#ids)
end
function request()
  i = i % #ids + 1
  return wrk.format("GET", "/v1/credentials/" .. ids[i])
end
