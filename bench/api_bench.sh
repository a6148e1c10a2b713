#!/usr/bin/env bash
# API load on loopback with wrk: credential reads, lists and creates at concurrency 1, 16 and 64, on
# SQLite and (when PostgreSQL's initdb is installed) PostgreSQL. Prints one line per run and writes
# bench/results/api.tsv. The server's peak RSS (VmHWM) is read from /proc at the end of each backend.
#
#   bench/api_bench.sh                 # both backends, 10 s per run
#   DURATION=5s BACKENDS=sqlite bench/api_bench.sh
#   BIN=/tmp/old/bin OUT=/tmp/old.tsv bench/api_bench.sh   # another build, for an A/B run
#   RUNS="list create" CONCURRENCY=16 bench/api_bench.sh   # some of the loads only
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/bin}
duration=${DURATION:-10s}
backends=${BACKENDS:-sqlite postgres}
conc=${CONCURRENCY:-1 16 64}
runs=${RUNS:-read list create}
for run in $runs; do
  case $run in read | list | create) ;; *) echo "RUNS: unknown load $run (read, list, create)" >&2; exit 2 ;; esac
done
seed=${SEED:-1000}
out=${OUT:-$root/bench/results/api.tsv}
work=$(mktemp -d /tmp/modelkeys-apibench-XXXXXX)
chmod 755 "$work"
token="bench-bootstrap-token-0123456789"
mkdir -p "$(dirname "$out")"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

server_pid=""
pg_stop=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$pg_stop" ] && eval "$pg_stop" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

start_server() { # $1 = --db value
  local log="$work/server-$RANDOM.log"
  MODELKEYS_BOOTSTRAP_TOKEN="$token" MODELKEYS_MASTER_KEY=$(head -c 32 /dev/urandom | base64) \
    "$bin/modelkeys-server" serve --db "$1" --listen 127.0.0.1:0 --max-credentials 100000000 \
    --reverify-interval 0 ${SERVER_FLAGS:-} 2>"$log" &
  server_pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(grep -o '"url":"[^"]*"' "$log" 2>/dev/null | head -1 | cut -d'"' -f4 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$log" >&2; exit 1; }
}

stop_server() {
  local hwm
  hwm=$(awk '/VmHWM/{print $2}' "/proc/$server_pid/status")
  printf '%s\tserver_peak_rss_mib\t-\t%.1f\n' "$backend" "$(echo "$hwm/1024" | bc -l)" | tee -a "$out"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# wrk's summary -> "rps p50_ms p99_ms non2xx"
summarise() {
  awk '
    function ms(v) { if (v ~ /us$/) return substr(v,1,length(v)-2)/1000; if (v ~ /ms$/) return substr(v,1,length(v)-2)+0; if (v ~ /s$/) return substr(v,1,length(v)-1)*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { printf "%.0f\t%.2f\t%.2f\t%d\n", rps, p50, p99, bad }'
}

load() { # name concurrency [wrk args...]
  local name=$1 c=$2; shift 2
  local threads=$(( c < 2 ? 1 : 2 ))
  local res
  res=$(wrk -t"$threads" -c"$c" -d"$duration" --latency -H "Authorization: Bearer $token" "$@" | summarise)
  printf '%s\t%s\tc=%s\t%s\n' "$backend" "$name" "$c" "$res" | tee -a "$out"
}

run_backend() { # $1 = --db value
  start_server "$1"
  # Seed credentials to read.
  : > "$work/ids"
  for i in $(seq "$seed"); do
    curl -sf -X POST "$url/v1/credentials" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"name\":\"seed-$i\",\"provider\":\"openai\",\"api_key\":\"sk-seed-plaintext-$i-000000wxyz\",\"verify\":false}" |
      grep -o '"id":"cred_[^"]*"' | head -1 | cut -d'"' -f4 >> "$work/ids"
  done
  for run in $runs; do
    for c in $conc; do
      case $run in
      read) load read "$c" -s "$root/bench/wrk/read.lua" "$url" -- "$work/ids" ;;
      list) load list "$c" "$url/v1/credentials?limit=50" ;;
      create) load create "$c" -s "$root/bench/wrk/create.lua" "$url" -- "$backend$c$RANDOM" ;;
      esac
    done
  done
  stop_server
}

printf '# %s  %s  %s  cpus=%s  duration=%s\n' "$(date -u +%FT%TZ)" "$(git -C "$root" describe --always --dirty)" "$(uname -r)" "$(nproc)" "$duration" >> "$out"
printf 'backend\trun\tconcurrency\trps\tp50_ms\tp99_ms\tnon2xx\n' >> "$out"
for backend in $backends; do
  case $backend in
  sqlite)
    run_backend "$work/sqlite/modelkeys.db"
    ;;
  postgres)
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$pgbin" ]; then echo "postgres: initdb not installed, skipped" >&2; continue; fi
    pgdir="$work/pg"
    as=""
    if [ "$(id -u)" = 0 ]; then as="runuser -u postgres --"; mkdir -p "$pgdir"; chown postgres "$pgdir"; fi
    $as "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
    port=$(( 20000 + RANDOM % 20000 ))
    $as "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    pg_stop="$as $pgbin/pg_ctl -D $pgdir/data -m immediate stop"
    run_backend "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    eval "$pg_stop" >/dev/null; pg_stop=""
    ;;
  esac
done
