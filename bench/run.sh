#!/usr/bin/env bash
# npm run bench: dietmesh (on Bun and on Deno) against nginx doing the same job, and against the
# upstream called directly, in four shapes: one sidecar (plaintext outbound), one gateway with a routed
# VirtualService, an mTLS mesh hop (sidecar A -> mTLS -> sidecar B, STRICT -> app) against two nginx
# with client certificates (and its floor on Bun: two mTLS byte pipes), a gateway's TCP server against
# nginx's stream module (tcp-*: 64-byte echoes over long-lived connections, bench/tcp-load.ts), and
# each runtime's floors (bare socket server, its own HTTP server, a naive serve + fetch proxy, a pipe,
# the least HTTP-aware proxy on raw sockets; bench/floors/). See docs/performance.md.
#
# Per target: start it and time exec -> serving; BENCH_WARM_LOAD seconds of wrk load; a fixed-rate latency run (bench/load.ts, open loop)
# after a short warm-up at the same rate; peak RSS so far; a one-connection wrk run (wrk -t1 -c1: mean
# and p99 latency); a wrk throughput run (keep-alive, small GET); peak RSS again. Prints a table and
# writes bench/results/<timestamp>.json.
#
# Layout on a 2-core machine (taskset): CPU 1 = the proxy (both proxies of a mesh pair) alone;
# CPU 0 = load generator + upstream.
# Env: BENCH_SECONDS (8, each measured run), BENCH_WARM_LOAD (3: seconds of wrk load before a row's
# measured runs), BENCH_WARMUP (2), BENCH_RATE (1000), BENCH_CONNECTIONS
# (50, wrk), BENCH_READY_TIMEOUT (10 s), BENCH_TARGETS (all of ALL_TARGETS below), BENCH_GRPC_CONNECTIONS
# (10) and BENCH_GRPC_STREAMS (10 per connection) for the gRPC rows, BENCH_ROUNDS (1: the target list run
# this many times in turn; each row then reports the median of its rounds, its ratio the median of the
# ratios taken within each round, and every round's req/s and µs/req are listed), BENCH_PAIRED
# ("mesh-bun gateway-bun"; "" for none), BENCH_SLICES (6) and BENCH_SLICE_SECONDS (2): paired slices,
# BENCH_NGINX_JOB (same: the nginx references do dietmesh's per-request header work; plain: routing only).
# Paired slices: a row named in BENCH_PAIRED is measured again against its reference with both serving
# at once, in BENCH_SLICES pairs of BENCH_SLICE_SECONDS-s wrk runs taken in turn (reference, row; then
# row, reference; ...). The ratio of each pair's req/s, and their median, are printed after the
# table and kept in the JSON ("paired"). Why: the rows' own wrk runs are 20-30 s apart, and on a shared
# host nginx's req/s alone moved 1.5-2x between two such runs; slices seconds apart see the same host.
# gRPC rows (grpc-*, mesh-grpc-*): unary calls driven by h2load (one small message as the request
# body, content-type application/grpc, te: trailers) through the mTLS pair — two nginx with grpc_pass
# and client certificates, or two sidecars on a port declared GRPC (h2c in, h2 over mTLS, h2c to the
# app) — to bench/grpc-upstream.mjs on Node; grpc-direct is that upstream alone, grpc-direct-bun/-deno
# the same server on Bun/Deno (the runtime's own http2 server: the floor under the runtime's rows).
# Their p50-p99 columns are n/a: h2load reports a mean per request (in the note).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS="direct nginx dietmesh-bun dietmesh-deno gateway-nginx gateway-bun gateway-deno
  mesh-nginx mesh-bun mesh-deno floor-meshpipe-bun tcp-nginx tcp-bun tcp-deno floor-socket-bun floor-serve-bun floor-proxy-bun floor-pipe-bun
  floor-http-bun floor-socket-deno floor-serve-deno floor-proxy-deno floor-pipe-deno floor-http-deno
  grpc-direct grpc-direct-bun grpc-direct-deno mesh-grpc-nginx mesh-grpc-bun mesh-grpc-deno"
DURATION=${BENCH_SECONDS:-8}
WARMUP=${BENCH_WARMUP:-2}
WARM_LOAD=${BENCH_WARM_LOAD:-3}
RATE=${BENCH_RATE:-1000}
CONNS=${BENCH_CONNECTIONS:-50}
READY_TIMEOUT=${BENCH_READY_TIMEOUT:-10}
TARGETS=${BENCH_TARGETS:-$ALL_TARGETS}
ROUNDS=${BENCH_ROUNDS:-1}
PAIRED=${BENCH_PAIRED-mesh-bun gateway-bun floor-meshpipe-bun floor-http-bun}
SLICES=${BENCH_SLICES:-6}
SLICE_SECONDS=${BENCH_SLICE_SECONDS:-2}
HOST=bench-upstream.default.svc.cluster.local:8080 # the sidecar rows' service
MESH_HOST=b.default.svc.cluster.local:8080          # the mesh rows' service: sidecar B's workload
GATEWAY_HOST=bench.example                          # the gateway rows' virtual host
GRPC_HOST=$MESH_HOST                                # the gRPC rows' :authority (b, its port declared GRPC)
BUN=./node_modules/.bin/bun
DENO=./node_modules/.bin/deno

bash scripts/ensure-tools.sh nginx wrk curl ps openssl

NPROC=$(nproc) # before pinning this script, which would make nproc say 1
if command -v taskset >/dev/null 2>&1 && [ "$NPROC" -ge 2 ]; then
  PIN_LOAD="taskset -c 0" PIN_PROXY="taskset -c 1"
  taskset -cp 0 $$ >/dev/null # this script too: its readiness polling must not take the proxy's CPU
  LAYOUT="proxy (both of a mesh pair) pinned to CPU 1; load generator (wrk, bench/load.ts) and upstream pinned to CPU 0"
else
  PIN_LOAD="" PIN_PROXY=""
  LAYOUT="unpinned (taskset missing or fewer than 2 CPUs)"
fi
# wrk gets one thread: its CPU is shared with the upstream, a second thread would only add switches.
WRK_THREADS=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dietmesh-bench.XXXXXX")
PIDS=()
stop() { # pid: TERM the process and its children, KILL after 3 s
  local pid=$1 kids i
  kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
  kill "$pid" $kids 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" $kids 2>/dev/null
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=(${keep[@]+"${keep[@]}"})
}
cleanup() {
  local pid
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do stop "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


launch() { # name cmd...: start in the background; sets PID and T0 (just before exec)
  local name=$1; shift
  T0=${EPOCHREALTIME/./} # microseconds
  "$@" >"$TMP/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

probe() { # port path: true when GET answers 200. bash's /dev/tcp, so polling costs no fork.
  local line=""
  { printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$2" "$HOST" >&9 &&
    IFS= read -r -t 2 line <&9; } 2>/dev/null 9<>"/dev/tcp/127.0.0.1/$1" || return 1
  [[ $line == HTTP/1.?\ 200* ]]
}

tcp_probe() { # port: true when a line sent comes back (the TCP rows' echo through the proxy)
  local line=""
  { printf 'ready\n' >&9 && IFS= read -r -t 2 line <&9; } 2>/dev/null 9<>"/dev/tcp/127.0.0.1/$1" || return 1
  [[ $line == ready ]]
}

wait_ready() { # pid port path: polls without pause until 200 (path "=tcp": until an echo); prints ms since T0; fails on exit/deadline
  local deadline=$((${EPOCHREALTIME/./} + READY_TIMEOUT * 1000000))
  until if [ "$3" = "=tcp" ]; then tcp_probe "$2"; elif [ "$3" = "=grpc" ]; then [ "$(grpc_call "$2")" = 0 ]; else probe "$2" "$3"; fi; do
    kill -0 "$1" 2>/dev/null || { echo "exited before serving" >&2; return 1; }
    [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || { echo "not serving after ${READY_TIMEOUT}s" >&2; return 1; }
  done
  awk -v a="$T0" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.0f", (b - a) / 1000 }'
}

tree() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done; }
peak_rss_mb() { # sum of VmHWM (peak resident set) over the process and its descendants
  local kb=0 p v
  for p in $(tree "$1"); do
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true); kb=$((kb + ${v:-0}))
  done
  awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }'
}
rss_each() { # pid...: each one's peak_rss_mb, joined by "/" (a mesh pair: A/B)
  local p out=""
  for p in "$@"; do out+="${out:+/}$(peak_rss_mb "$p")"; done
  echo "$out"
}
cpu_ticks() { # pid...: user+system clock ticks over the process trees
  local t=0 p v root
  for root in "$@"; do
    for p in $(tree "$root"); do
      v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true); t=$((t + ${v:-0}))
    done
  done
  echo "$t"
}
steal_ticks() { awk '/^cpu / { print $9 }' /proc/stat; } # time the hypervisor gave to others
steal_pct() { # ticks-before wall-us-before: % of this machine's CPU time stolen since then
  awk -v d=$(($(steal_ticks) - $1)) -v us=$((${EPOCHREALTIME/./} - $2)) -v hz="$(getconf CLK_TCK)" -v n="$NPROC" \
    'BEGIN { printf "%.1f", 100 * d / hz / (us / 1e6) / n }'
}
json_num() { sed -n "s/.*\"$1\":\([-0-9.eE]*\).*/\1/p" <<<"$2"; }
wrk_ms() { # wrk-output pattern field: a latency wrk printed with a unit (us, ms, s), in ms
  awk -v pat="$2" -v f="$3" '$0 ~ pat { v = $f; n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000
    printf "%.3f", n; exit }' <<<"$1"
}
wrk_errors() { awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/[^0-9 ]/, ""); n += $1 + $2 + $3 + $4 } END { print n + 0 }' <<<"$1"; }

# rows.tsv, one line per target: 1 name, 2 req/s, 3-5 p50/p90/p99 ms, 6 RSS MB after the rate run and
# 7 peak MB (summed over a pair's proxies), 8 start ms, 9 CPU%, 10 errors, 11 latency-run JSON,
# 12-13 steal % (latency, wrk), 14 note, 15 reference row for the ratio, 16-17 one-connection mean
# and p99 ms, 18-19 RSS and peak MB per proxy ("A/B"), 20 steal % (one-connection run), 21 CPU µs per
# request in the wrk run (the proxies' user + system time over the requests they answered: unlike req/s,
# it barely moves when another tenant takes the load generator's or the upstream's CPU)
ROWS="$TMP/rows.tsv"; : >"$ROWS"
na() { # name reason
  echo "  $1: n/a ($2)" >&2
  local log
  for log in "$TMP/$1.log" "$TMP/$1-a.log" "$TMP/$1-b.log"; do
    [ -n "${PID:-}" ] && [ -f "$log" ] && tail -n 5 "$log" | sed "s|^|    ${log##*/} | |" >&2
  done
  printf '%s\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\t{}\tn/a\tn/a\t%s\t%s\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\n' "$1" "$2" "${T_REF:-nginx}" >>"$ROWS"
}

# What the current target is asked for and compared with; set per target before measure.
T_HOST=$HOST T_PATH=/ T_HEADER="" T_REF=nginx T_MISS="" T_KIND=http

measure() { # name port start_ms pid...: the runs against a serving target (pids: one, or a pair)
  local name=$1 port=$2 start_ms=$3; shift 3
  local pids=("$@") body lat rss_rate rss_peak t0 t1 wrk_out c1_out rps errs cpu cpu_us s0 w0 steal_lat steal_wrk steal_c1 p
  local url="http://127.0.0.1:$port$T_PATH" hdr=(-H "Host: $T_HOST") lhdr=()
  [ -n "$T_HEADER" ] && hdr+=(-H "$T_HEADER") lhdr=(--header "$T_HEADER")
  body=$(curl -sf "${hdr[@]}" "$url") || { na "$name" "GET through it failed"; return 0; }
  [ "$body" = "$EXPECTED" ] || { na "$name" "unexpected body: ${body:0:60}"; return 0; }
  if [ -n "$T_MISS" ]; then # a route with a real match: the same request without its header must not match
    local miss
    miss=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $T_HOST" "$url")
    [ "$miss" = "$T_MISS" ] || { na "$name" "without '$T_HEADER' it answered $miss, not $T_MISS"; return 0; }
  fi
  # Every row gets the same full-load warm-up first: a JIT runtime reaches its steady state only
  # after tens of thousands of requests (on one pinned core, its optimizing compiler's threads stall
  # the first ones by milliseconds: docs/performance.md "Warm-up"); nginx gains nothing from it.
  [ "$WARM_LOAD" -gt 0 ] && { $PIN_LOAD wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARM_LOAD}s" "${hdr[@]}" "$url" >/dev/null ||
    { na "$name" "warm-up wrk failed"; return 0; }; }
  s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  lat=$($PIN_LOAD $BUN bench/load.ts --url "$url" --host "$T_HOST" ${lhdr[@]+"${lhdr[@]}"} --rate "$RATE" \
    --seconds "$DURATION" --warmup "$WARMUP") || { na "$name" "latency run failed"; return 0; }
  steal_lat=$(steal_pct "$s0" "$w0")
  rss_rate=$(rss_each "${pids[@]}")
  s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  c1_out=$($PIN_LOAD wrk -t1 -c1 -d"${DURATION}s" --latency "${hdr[@]}" "$url") ||
    { na "$name" "one-connection wrk failed"; return 0; }
  steal_c1=$(steal_pct "$s0" "$w0")
  t0=$(cpu_ticks "${pids[@]}") s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  wrk_out=$($PIN_LOAD wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" "${hdr[@]}" "$url") ||
    { na "$name" "wrk failed"; return 0; }
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { na "$name" "exited during the runs"; return 0; }; done
  t1=$(cpu_ticks "${pids[@]}") steal_wrk=$(steal_pct "$s0" "$w0")
  rss_peak=$(rss_each "${pids[@]}")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$wrk_out")
  errs=$(($(wrk_errors "$wrk_out") + $(wrk_errors "$c1_out") + $(json_num errors "$lat")))
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$DURATION" 'BEGIN { printf "%.0f", 100 * d / hz / s }')
  cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$DURATION" -v r="$rps" 'BEGIN { printf "%.0f", (r > 0 ? 1e6 * d / hz / (r * s) : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" \
    "$(json_num p50_ms "$lat")" "$(json_num p90_ms "$lat")" "$(json_num p99_ms "$lat")" \
    "$(tr / '\n' <<<"$rss_rate" | awk '{ s += $1 } END { printf "%.1f", s }')" \
    "$(tr / '\n' <<<"$rss_peak" | awk '{ s += $1 } END { printf "%.1f", s }')" "$start_ms" "$cpu" \
    "$errs" "$lat" "$steal_lat" "$steal_wrk" "$T_REF" "$(wrk_ms "$c1_out" '^ +Latency ' 2)" \
    "$(wrk_ms "$c1_out" '^ +99%' 2)" "$rss_rate" "$rss_peak" "$steal_c1" "$cpu_us" >>"$ROWS"
  echo "  $name: $rps req/s, p99 $(json_num p99_ms "$lat") ms at $RATE req/s, one connection" \
    "$(wrk_ms "$c1_out" '^ +Latency ' 2) ms mean, RSS $rss_peak MB, start $start_ms ms" >&2
}

measure_tcp() { # name port start_ms pid...: the TCP rows: closed-loop 64-byte echoes (bench/tcp-load.ts)
  local name=$1 port=$2 start_ms=$3; shift 3
  local pids=("$@") out rss t0 t1 s0 w0 steal cpu cpu_us per_s p
  t0=$(cpu_ticks "${pids[@]}") s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  out=$($PIN_LOAD $BUN bench/tcp-load.ts --target "127.0.0.1:$port" --connections "$CONNS" --seconds "$DURATION" \
    --warmup "$WARMUP") || { na "$name" "tcp load failed"; return 0; }
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { na "$name" "exited during the run"; return 0; }; done
  t1=$(cpu_ticks "${pids[@]}") steal=$(steal_pct "$s0" "$w0")
  rss=$(rss_each "${pids[@]}")
  per_s=$(json_num per_s "$out")
  # CPU over the whole load run, warm-up included: per message, over both phases at the measured rate
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$((DURATION + WARMUP))" 'BEGIN { printf "%.0f", 100 * d / hz / s }')
  cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$((DURATION + WARMUP))" -v r="$per_s" 'BEGIN { printf "%.0f", (r > 0 ? 1e6 * d / hz / (r * s) : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t{}\tn/a\t%s\t\t%s\tn/a\tn/a\t%s\t%s\tn/a\t%s\n' "$name" "$per_s" \
    "$(json_num p50_ms "$out")" "$(json_num p90_ms "$out")" "$(json_num p99_ms "$out")" \
    "$(tr / '\n' <<<"$rss" | awk '{ s += $1 } END { printf "%.1f", s }')" "$(tr / '\n' <<<"$rss" | awk '{ s += $1 } END { printf "%.1f", s }')" \
    "$start_ms" "$cpu" "$(json_num errors "$out")" "$steal" "$T_REF" "$rss" "$rss" "$cpu_us" >>"$ROWS"
  echo "  $name: $per_s messages/s (64-byte echoes, $CONNS connections), p99 $(json_num p99_ms "$out") ms, RSS $rss MB" >&2
}

source bench/configs.sh # the rows' configurations: dietmesh's and the nginx references'

tcp_gateway_config() { # dir echo-port: a Gateway TCP server on 31400 and a tcp route to the echo service
  mkdir -p "$1"
  cat >"$1/tcp.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: [tcp-echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: 127.0.0.1, ports: { tcp: $2 } }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: tcp-gateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: ["*"]
  gateways: [tcp-gateway]
  tcp:
  - match: [{ port: 31400 }]
    route: [{ destination: { host: tcp-echo.default.svc.cluster.local, port: { number: 9000 } } }]
EOF
}

ECHO_PORT=""
echo_upstream() { # the TCP rows' echo server, started once (on the load core, as the HTTP upstream)
  [ -n "$ECHO_PORT" ] && return 0
  bash scripts/ensure-tools.sh nginx-stream >&2 || true
  launch tcp-echo $PIN_LOAD $BUN bench/tcp-echo.ts --port 0
  local deadline=$((${EPOCHREALTIME/./} + READY_TIMEOUT * 1000000))
  until ECHO_PORT=$(grep -m1 -x '[0-9][0-9]*' "$TMP/tcp-echo.log" 2>/dev/null); do
    [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || { echo "the TCP echo upstream did not start" >&2; return 1; }
  done
}

grpc_upstream() { # the gRPC rows' upstream (bench/grpc-upstream.mjs on Node), started once, on the load core
  [ -n "$GRPC_PORT" ] && return 0
  command -v h2load >/dev/null 2>&1 || bash scripts/ensure-tools.sh nghttp2-client >&2 || return 1
  printf '\0\0\0\0\7\n\5hello' >"$TMP/grpc-request.bin" # one length-prefixed message: field 1 = "hello"
  launch grpc-upstream $PIN_LOAD node bench/grpc-upstream.mjs --port 0
  GRPC_PID=$PID
  local deadline=$((${EPOCHREALTIME/./} + READY_TIMEOUT * 1000000))
  until GRPC_PORT=$(grep -m1 -x '[0-9][0-9]*' "$TMP/grpc-upstream.log" 2>/dev/null); do
    kill -0 "$GRPC_PID" 2>/dev/null && [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || { echo "the gRPC upstream did not start" >&2; return 1; }
  done
  GRPC_START=$(awk -v a="$T0" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.0f", (b - a) / 1000 }')
}

grpc_call() { # port: the grpc-status of one unary call through it (curl over h2c), or nothing
  curl -s --max-time 5 --http2-prior-knowledge -H "content-type: application/grpc" -H "te: trailers" \
    -H "Host: $T_HOST" --data-binary @"$TMP/grpc-request.bin" -D - -o /dev/null \
    "http://127.0.0.1:$1/bench.Echo/Unary" | tr -d '\r' | sed -n 's/^grpc-status: //p'
}

measure_grpc() { # name port start_ms pid...: h2load, unary calls, BENCH_GRPC_CONNECTIONS x BENCH_GRPC_STREAMS
  local name=$1 port=$2 start_ms=$3; shift 3
  local pids=("$@") out rss t0 t1 s0 w0 steal cpu cpu_us rps ok errs mean status p
  local conns=${BENCH_GRPC_CONNECTIONS:-10} streams=${BENCH_GRPC_STREAMS:-10}
  status=$(grpc_call "$port")
  [ "$status" = 0 ] || { na "$name" "a unary call through it did not end with grpc-status 0 (got '${status:-none}')"; return 0; }
  t0=$(cpu_ticks "${pids[@]}") s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  out=$($PIN_LOAD h2load -D "$DURATION" --warm-up-time="$WARMUP" -c "$conns" -m "$streams" -d "$TMP/grpc-request.bin" \
    -H "content-type: application/grpc" -H "te: trailers" -H ":authority: $T_HOST" "http://127.0.0.1:$port/bench.Echo/Unary") ||
    { na "$name" "h2load failed"; return 0; }
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { na "$name" "exited during the run"; return 0; }; done
  t1=$(cpu_ticks "${pids[@]}") steal=$(steal_pct "$s0" "$w0")
  rss=$(rss_each "${pids[@]}")
  rps=$(awk '/^finished in/ { gsub(/,/, ""); printf "%.0f", $4 }' <<<"$out")
  ok=$(awk '/^requests:/ { print $8 }' <<<"$out")
  errs=$(awk '/^requests:/ { print $10 + $12 + $14 }' <<<"$out")
  mean=$(awk '/^time for request:/ { print $6 }' <<<"$out")
  # h2load counts any 2xx as success; a gRPC error is a 200 too, so the call above checked the status
  [ -n "$rps" ] && [ "${ok:-0}" -gt 0 ] || { na "$name" "h2load: no request succeeded"; return 0; }
  # the whole h2load run (warm-up included) is in the CPU ticks: per request at the measured rate
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$((DURATION + WARMUP))" 'BEGIN { printf "%.0f", 100 * d / hz / s }')
  cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$((DURATION + WARMUP))" -v r="$rps" 'BEGIN { printf "%.0f", (r > 0 ? 1e6 * d / hz / (r * s) : 0) }')
  printf '%s\t%s\tn/a\tn/a\tn/a\t%s\t%s\t%s\t%s\t%s\t{}\tn/a\t%s\t%s\t%s\tn/a\tn/a\t%s\t%s\tn/a\t%s\n' "$name" "$rps" \
    "$(tr / '\n' <<<"$rss" | awk '{ s += $1 } END { printf "%.1f", s }')" "$(tr / '\n' <<<"$rss" | awk '{ s += $1 } END { printf "%.1f", s }')" \
    "$start_ms" "$cpu" "$errs" "$steal" "h2load -c $conns -m $streams: mean $mean per call" "$T_REF" "$rss" "$rss" "$cpu_us" >>"$ROWS"
  echo "  $name: $rps unary calls/s (h2load -c $conns -m $streams, mean $mean), $cpu_us µs CPU/call, RSS $rss MB" >&2
  if [ "${errs:-0}" != 0 ]; then
    grep -E '^(requests|status codes):' <<<"$out" | sed "s|^|    h2load |" >&2
    for p in "$TMP/$name"*/logs/error.log; do [ -f "$p" ] && tail -n 2 "$p" | sed "s|^|    ${p#"$TMP/"} |" >&2; done
  fi
}

# Paired slices (BENCH_PAIRED, see the top): the reference each paired row is compared with (a floor
# with the reference whose job it is the floor of), and the slices themselves.
ref_of() { case "$1" in gateway-bun | gateway-deno | floor-http-bun | floor-http-deno) echo gateway-nginx ;;
  mesh-bun | mesh-deno | floor-meshpipe-bun) echo mesh-nginx ;; dietmesh-bun | dietmesh-deno) echo nginx ;; esac; }
later_than() { local seen="" t; for t in $TARGETS; do [ -n "$seen" ] && echo "$t"; [ "$t" = "$1" ] && seen=1; done; }
is_paired() { [[ " $PAIRED " == *" $1 "* ]] && [ -n "$(ref_of "$1")" ]; }
needed_later() { # reference target: true when a paired row after target in the list compares with it
  local t; for t in $(later_than "$2"); do is_paired "$t" && [ "$(ref_of "$t")" = "$1" ] && return 0; done; return 1
}
PAIRS="$TMP/paired.tsv"; : >"$PAIRS" # 1 row, 2 reference, 3 round, 4-8 per slice: ratio, row req/s, reference req/s, row µs/req, reference µs/req
slice() { # port host path header pids...: one wrk run of SLICE_SECONDS; prints "req/s µs/req" (the pids' CPU per request)
  local port=$1 hdr=(-H "Host: $2") path=$3; [ -n "$4" ] && hdr+=(-H "$4"); shift 4
  local t0 t1 out rps
  t0=$(cpu_ticks "$@")
  out=$($PIN_LOAD wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SLICE_SECONDS}s" "${hdr[@]}" "http://127.0.0.1:$port$path") || return 1
  t1=$(cpu_ticks "$@")
  [ "$(wrk_errors "$out")" = 0 ] || return 1
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$SLICE_SECONDS" -v r="$rps" \
    'BEGIN { printf "%s %.0f\n", r, (r > 0 ? 1e6 * d / hz / (r * s) : 0) }'
}
paired() { # row port pids... -- reference: SLICES pairs of slices, in turn, against the held reference
  local row=$1 port=$2; shift 2
  local pids=() ref rpids i a b a_rps a_us b_rps b_us ratios="" rrps="" frps="" us="" rus=""
  while [ "$1" != -- ]; do pids+=("$1"); shift; done
  ref=$2; read -ra rpids <<<"${HELD_PIDS[$ref]}"
  local mine=("$port" "$T_HOST" "$T_PATH" "$T_HEADER") theirs=("${HELD_PORT[$ref]}" "${HELD_HOST[$ref]}" "${HELD_PATH[$ref]}" "${HELD_HEADER[$ref]}")
  for ((i = 0; i < SLICES; i++)); do
    if ((i % 2 == 0)); then
      b=$(slice "${theirs[@]}" "${rpids[@]}") && a=$(slice "${mine[@]}" "${pids[@]}")
    else
      a=$(slice "${mine[@]}" "${pids[@]}") && b=$(slice "${theirs[@]}" "${rpids[@]}")
    fi || { echo "  paired $row / $ref: a slice failed (wrk errors or no answer)" >&2; return 0; }
    read -r a_rps a_us <<<"$a"; read -r b_rps b_us <<<"$b"
    ratios+="${ratios:+ }$(awk -v x="$a_rps" -v y="$b_rps" 'BEGIN { printf "%.3f", (y > 0 ? x / y : 0) }')"
    rrps+="${rrps:+ }$a_rps" frps+="${frps:+ }$b_rps" us+="${us:+ }$a_us" rus+="${rus:+ }$b_us"
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$row" "$ref" "$round" "$ratios" "$rrps" "$frps" "$us" "$rus" >>"$PAIRS"
  echo "  paired $row / $ref: $ratios" >&2
}
# References kept serving for paired rows later in the round, by name: their port set, port, pids
# (space-separated) and what their slices ask for. Each holds one of the port sets below.
declare -A HELD_SET=() HELD_PORT=() HELD_PIDS=() HELD_HOST=() HELD_PATH=() HELD_HEADER=()
release() { # reference: stop it and free its port set
  local p; for p in ${HELD_PIDS[$1]}; do stop "$p"; done
  unset "HELD_SET[$1]" "HELD_PORT[$1]" "HELD_PIDS[$1]" "HELD_HOST[$1]" "HELD_PATH[$1]" "HELD_HEADER[$1]"
}

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$LOAD_BEFORE" 'BEGIN { exit !(l > 0.5) }' &&
  echo "warning: the machine is not idle (load average $LOAD_BEFORE); expect noisy numbers" >&2
echo "dietmesh bench: ${DURATION}s runs, $RATE req/s latency runs, $CONNS wrk connections; $LAYOUT" >&2
# four sets of six: each reference kept serving for paired slices holds one, a target takes a free one
PORT_SETS=4
mapfile -t ALL_PORTS < <($BUN bench/free-ports.ts $((6 * PORT_SETS)))
free_set() { # the first port set no held reference has
  local i r used
  for ((i = 0; i < PORT_SETS; i++)); do
    used=""; for r in "${!HELD_SET[@]}"; do [ "${HELD_SET[$r]}" = "$i" ] && used=1; done
    [ -z "$used" ] && { echo "$i"; return 0; }
  done
  return 1
}
PORTS=("${ALL_PORTS[@]:0:6}")
GRPC_PORT="" GRPC_PID="" GRPC_START=0

# The upstream serves every target; its start time and memory fill the "direct" row.
PID=""
launch upstream $PIN_LOAD $BUN bench/upstream.ts --port 0
UPSTREAM_PID=$PID
deadline=$((${EPOCHREALTIME/./} + READY_TIMEOUT * 1000000))
until UP_PORT=$(grep -m1 -x '[0-9][0-9]*' "$TMP/upstream.log" 2>/dev/null); do
  kill -0 "$UPSTREAM_PID" 2>/dev/null && [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || { cat "$TMP/upstream.log" >&2; exit 1; }
done
UP_START=$(wait_ready "$UPSTREAM_PID" "$UP_PORT" /)
EXPECTED=$(curl -sf "http://127.0.0.1:$UP_PORT/")

for round in $(seq "$ROUNDS"); do
for target in $TARGETS; do
  rows_before=$(wc -l <"$ROWS")
  set_now=$(free_set) || { echo "bench: every port set is held" >&2; exit 2; }
  PORTS=("${ALL_PORTS[@]:$((6 * set_now)):6}")
  PID="" T_HOST=$HOST T_PATH=/ T_HEADER="" T_REF=nginx T_MISS="" T_KIND=http
  ready=() # pid port path, per process that must serve before the target is measured
  case "$target" in
    direct)
      measure direct "$UP_PORT" "$UP_START" "$UPSTREAM_PID"
      continue ;;
    nginx)
      sidecar_nginx_config "$TMP/nginx" "${PORTS[0]}" "$UP_PORT"
      launch nginx $PIN_PROXY nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log"
      port=${PORTS[0]} ready=("$PID" "${PORTS[0]}" /) ;;
    dietmesh-bun | dietmesh-deno)
      sidecar_config "$TMP/mesh" "$UP_PORT"
      if [ "$target" = dietmesh-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      [ -f runtime/cli/main.ts ] || { na "$target" "runtime/cli/main.ts not there yet"; continue; }
      launch "$target" $PIN_PROXY "${run[@]}" runtime/cli/main.ts sidecar --config "$TMP/mesh" \
        --outbound "127.0.0.1:${PORTS[1]}" --admin "127.0.0.1:${PORTS[2]}"
      port=${PORTS[1]} ready=("$PID" "${PORTS[2]}" /ready) ;;
    gateway-nginx) # the VirtualService's match as nginx says it: host, path prefix, header; else 404
      T_HOST=$GATEWAY_HOST T_PATH=/bench/hello T_HEADER="x-bench-route: v1" T_REF=gateway-nginx T_MISS=404
      gateway_nginx_config "$TMP/gateway-nginx" "${PORTS[0]}" "$UP_PORT"
      launch "$target" $PIN_PROXY nginx -p "$TMP/gateway-nginx" -c "$TMP/gateway-nginx/nginx.conf" \
        -e "$TMP/gateway-nginx/logs/error.log"
      ready=("$PID" "${PORTS[0]}" /nginx-ready) port=${PORTS[0]} ;;
    gateway-bun | gateway-deno)
      T_HOST=$GATEWAY_HOST T_PATH=/bench/hello T_HEADER="x-bench-route: v1" T_REF=gateway-nginx T_MISS=404
      gateway_config "$TMP/gateway" "$UP_PORT"
      if [ "$target" = gateway-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      launch "$target" $PIN_PROXY "${run[@]}" runtime/cli/main.ts gateway --config "$TMP/gateway" \
        --bind "80=127.0.0.1:${PORTS[0]}" --admin "127.0.0.1:${PORTS[1]}"
      port=${PORTS[0]} ready=("$PID" "${PORTS[1]}" /ready) ;;
    mesh-nginx) # nginx A (plain in) -> https with a client certificate, B verified -> nginx B (client
      # certificate required) -> the app; keep-alive and TLS session reuse on both upstream sides
      T_HOST=$MESH_HOST T_REF=mesh-nginx
      mesh_identities || { na "$target" "could not make the mesh identities"; continue; }
      mesh_nginx_config "$TMP/mesh-nginx-a" "$TMP/mesh-nginx-b" "${PORTS[0]}" "${PORTS[1]}" "$UP_PORT"
      launch mesh-nginx-b $PIN_PROXY nginx -p "$TMP/mesh-nginx-b" -c "$TMP/mesh-nginx-b/nginx.conf" \
        -e "$TMP/mesh-nginx-b/logs/error.log"
      b_pid=$PID b_t0=$T0
      launch mesh-nginx-a $PIN_PROXY nginx -p "$TMP/mesh-nginx-a" -c "$TMP/mesh-nginx-a/nginx.conf" \
        -e "$TMP/mesh-nginx-a/logs/error.log"
      T0=$b_t0 port=${PORTS[0]}
      # B answers only TLS, so the probe of A (through B) stands for both; A first: RSS prints as A/B
      ready=("$PID" "${PORTS[0]}" / "$b_pid" - -) ;;
    mesh-bun | mesh-deno)
      T_HOST=$MESH_HOST T_REF=mesh-nginx
      mesh_identities || { na "$target" "could not make the mesh identities"; continue; }
      mesh_config "$TMP/mesh-a" "$TMP/mesh-b" "${PORTS[1]}"
      if [ "$target" = mesh-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      launch "$target-b" $PIN_PROXY "${run[@]}" runtime/cli/main.ts sidecar --config "$TMP/mesh-b" \
        --app "127.0.0.1:$UP_PORT" --inbound "127.0.0.1:${PORTS[1]}" --outbound "127.0.0.1:${PORTS[2]}" \
        --admin "127.0.0.1:${PORTS[3]}" --ca-dir "$TMP/ca" --service-account b --labels app=b
      b_pid=$PID b_t0=$T0
      launch "$target-a" $PIN_PROXY "${run[@]}" runtime/cli/main.ts sidecar --config "$TMP/mesh-a" \
        --outbound "127.0.0.1:${PORTS[0]}" --admin "127.0.0.1:${PORTS[4]}" --ca-dir "$TMP/ca" --service-account a
      T0=$b_t0 port=${PORTS[0]}
      ready=("$PID" "${PORTS[4]}" /ready "$b_pid" "${PORTS[3]}" /ready) ;; # A first: RSS prints as A/B
    tcp-nginx) # nginx's stream module relaying to the echo server
      T_REF=tcp-nginx T_KIND=tcp
      echo_upstream || { na "$target" "no echo upstream"; continue; }
      nginx_stream_config "$TMP/tcp-nginx" "$ECHO_PORT" "${PORTS[0]}"
      launch "$target" $PIN_PROXY nginx -p "$TMP/tcp-nginx" -c "$TMP/tcp-nginx/nginx.conf" -e "$TMP/tcp-nginx/logs/error.log"
      port=${PORTS[0]} ready=("$PID" "${PORTS[0]}" =tcp) ;;
    tcp-bun | tcp-deno) # a gateway's TCP server with a tcp route (issue 12's TCP row)
      T_REF=tcp-nginx T_KIND=tcp
      echo_upstream || { na "$target" "no echo upstream"; continue; }
      tcp_gateway_config "$TMP/tcp-gateway" "$ECHO_PORT"
      if [ "$target" = tcp-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      launch "$target" $PIN_PROXY "${run[@]}" runtime/cli/main.ts gateway --config "$TMP/tcp-gateway" \
        --bind "31400=127.0.0.1:${PORTS[0]}" --admin "127.0.0.1:${PORTS[1]}"
      port=${PORTS[0]} ready=("$PID" "${PORTS[0]}" =tcp) ;;
    grpc-direct) # the gRPC rows' upstream (Node's http2 server) answering h2load
      T_HOST=$GRPC_HOST T_REF=mesh-grpc-nginx T_KIND=grpc
      grpc_upstream || { na "$target" "no gRPC upstream (or no h2load)"; continue; }
      # not stopped after its row: the mesh-grpc rows use it
      measure_grpc "$target" "$GRPC_PORT" "$GRPC_START" "$GRPC_PID"
      continue ;;
    grpc-direct-bun | grpc-direct-deno) # the runtime's own http2 server answering h2load: the floor
      # of what a proxy on that runtime's node:http2 can do (pinned where the proxies run)
      T_HOST=$GRPC_HOST T_REF=mesh-grpc-nginx T_KIND=grpc
      grpc_upstream || { na "$target" "no gRPC upstream (or no h2load)"; continue; }
      if [ "$target" = grpc-direct-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      launch "$target" $PIN_PROXY "${run[@]}" bench/grpc-upstream.mjs --port "${PORTS[0]}"
      port=${PORTS[0]} ready=("$PID" "${PORTS[0]}" =grpc) ;;
    mesh-grpc-nginx) # nginx A (h2c in) -> grpc_pass over TLS with a client certificate, B verified ->
      # nginx B (h2 by ALPN, client certificate required) -> grpc_pass h2c to the app
      T_HOST=$GRPC_HOST T_REF=mesh-grpc-nginx T_KIND=grpc
      grpc_upstream || { na "$target" "no gRPC upstream (or no h2load)"; continue; }
      mesh_identities || { na "$target" "could not make the mesh identities"; continue; }
      nginx_config "$TMP/mesh-grpc-nginx-b" "  upstream app { server 127.0.0.1:$GRPC_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS[1]} ssl http2;
    ssl_certificate $TMP/nginx-b-id/cert.pem; ssl_certificate_key $TMP/nginx-b-id/key.pem;
    ssl_client_certificate $TMP/ca/root-cert.pem; ssl_verify_client on;
    location / { grpc_pass grpc://app; }
  }"
      nginx_config "$TMP/mesh-grpc-nginx-a" "  upstream mesh_b { server 127.0.0.1:${PORTS[1]}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS[0]} http2;
    location / {
      grpc_pass grpcs://mesh_b;
      grpc_ssl_certificate $TMP/nginx-a-id/cert-chain.pem; grpc_ssl_certificate_key $TMP/nginx-a-id/key.pem;
      grpc_ssl_trusted_certificate $TMP/ca/root-cert.pem; grpc_ssl_verify on; grpc_ssl_name nginx-b.bench;
      grpc_ssl_session_reuse on;
    }
  }
  server { listen 127.0.0.1:${PORTS[5]}; location = /nginx-ready { return 200; } }"
      launch mesh-grpc-nginx-b $PIN_PROXY nginx -p "$TMP/mesh-grpc-nginx-b" -c "$TMP/mesh-grpc-nginx-b/nginx.conf" \
        -e "$TMP/mesh-grpc-nginx-b/logs/error.log"
      b_pid=$PID b_t0=$T0
      launch mesh-grpc-nginx-a $PIN_PROXY nginx -p "$TMP/mesh-grpc-nginx-a" -c "$TMP/mesh-grpc-nginx-a/nginx.conf" \
        -e "$TMP/mesh-grpc-nginx-a/logs/error.log"
      T0=$b_t0 port=${PORTS[0]}
      ready=("$PID" "${PORTS[5]}" /nginx-ready "$b_pid" - -) ;; # A first: RSS prints as A/B
    mesh-grpc-bun | mesh-grpc-deno) # the mesh pair as mesh-bun, b's port declared GRPC
      T_HOST=$GRPC_HOST T_REF=mesh-grpc-nginx T_KIND=grpc
      grpc_upstream || { na "$target" "no gRPC upstream (or no h2load)"; continue; }
      mesh_identities || { na "$target" "could not make the mesh identities"; continue; }
      mesh_config "$TMP/$target-a" "$TMP/$target-b" "${PORTS[1]}"
      sed -i 's/name: http, protocol: HTTP/name: grpc, protocol: GRPC/; s/ports: { http: /ports: { grpc: /' "$TMP/$target-a/b.yaml"
      if [ "$target" = mesh-grpc-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      launch "$target-b" $PIN_PROXY "${run[@]}" runtime/cli/main.ts sidecar --config "$TMP/$target-b" \
        --app "127.0.0.1:$GRPC_PORT" --inbound "127.0.0.1:${PORTS[1]}" --outbound "127.0.0.1:${PORTS[2]}" \
        --admin "127.0.0.1:${PORTS[3]}" --ca-dir "$TMP/ca" --service-account b --labels app=b
      b_pid=$PID b_t0=$T0
      launch "$target-a" $PIN_PROXY "${run[@]}" runtime/cli/main.ts sidecar --config "$TMP/$target-a" \
        --outbound "127.0.0.1:${PORTS[0]}" --admin "127.0.0.1:${PORTS[4]}" --ca-dir "$TMP/ca" --service-account a
      T0=$b_t0 port=${PORTS[0]}
      ready=("$PID" "${PORTS[4]}" /ready "$b_pid" "${PORTS[3]}" /ready) ;; # A first: RSS prints as A/B
    floor-meshpipe-bun) # the mesh row's floor: two byte pipes with mTLS between them (bench/floors/bun-tls-pipe.ts)
      T_HOST=$MESH_HOST T_REF=mesh-nginx
      mesh_identities || { na "$target" "could not make the mesh identities"; continue; }
      launch "$target-b" $PIN_PROXY "$BUN" bench/floors/bun-tls-pipe.ts --side b --port "${PORTS[1]}" \
        --upstream "127.0.0.1:$UP_PORT" --cert "$TMP/nginx-b-id/cert.pem" --key "$TMP/nginx-b-id/key.pem" --ca "$TMP/ca/root-cert.pem"
      b_pid=$PID b_t0=$T0
      launch "$target-a" $PIN_PROXY "$BUN" bench/floors/bun-tls-pipe.ts --side a --port "${PORTS[0]}" \
        --upstream "127.0.0.1:${PORTS[1]}" --cert "$TMP/nginx-a-id/cert-chain.pem" --key "$TMP/nginx-a-id/key.pem" \
        --ca "$TMP/ca/root-cert.pem" --servername nginx-b.bench
      T0=$b_t0 port=${PORTS[0]}
      ready=("$PID" "${PORTS[0]}" / "$b_pid" - -) ;; # A first: RSS prints as A/B
    floor-socket-bun | floor-serve-bun | floor-proxy-bun | floor-pipe-bun | floor-http-bun | floor-socket-deno | floor-serve-deno | floor-proxy-deno | floor-pipe-deno | floor-http-deno)
      kind=${target#floor-} kind=${kind%-*} rt=${target##*-}
      if [ "$rt" = bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      args=(--port "${PORTS[0]}"); [ "$kind" = proxy ] || [ "$kind" = pipe ] || [ "$kind" = http ] && args+=(--upstream "127.0.0.1:$UP_PORT")
      [ "$kind" = http ] && args+=(--host "$HOST") # its one-entry route map: the Host the bench sends
      launch "$target" $PIN_PROXY "${run[@]}" "bench/floors/$rt-$kind.ts" "${args[@]}"
      port=${PORTS[0]} ready=("$PID" "${PORTS[0]}" /) ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  pids=() start_ms=0 err=""
  for ((i = 0; i < ${#ready[@]}; i += 3)); do pids+=("${ready[i]}"); done
  for ((i = 0; i < ${#ready[@]}; i += 3)); do
    if [ "${ready[i + 1]}" = - ]; then # served through another's probe: it only has to be alive
      kill -0 "${ready[i]}" 2>/dev/null || { err="exited before serving"; break; }
    elif ms=$(wait_ready "${ready[i]}" "${ready[i + 1]}" "${ready[i + 2]}" 2>"$TMP/ready.err"); then
      start_ms=$((ms > start_ms ? ms : start_ms))
    else
      err=$(cat "$TMP/ready.err"); break
    fi
  done
  if [ -z "$err" ] && [ "$T_KIND" = tcp ]; then
    measure_tcp "$target" "$port" "$start_ms" "${pids[@]}"
  elif [ -z "$err" ] && [ "$T_KIND" = grpc ]; then
    measure_grpc "$target" "$port" "$start_ms" "${pids[@]}"
  elif [ -z "$err" ]; then
    measure "$target" "$port" "$start_ms" "${pids[@]}"
  else
    na "$target" "$err"
  fi
  ok=$(awk -F'\t' -v b="$rows_before" 'NR > b && $2 != "n/a" { n++ } END { print n + 0 }' "$ROWS")
  ref=$(ref_of "$target")
  if [ "$ok" = 1 ] && is_paired "$target" && [ -n "${HELD_SET[$ref]:-}" ]; then
    paired "$target" "$port" "${pids[@]}" -- "$ref"
  fi
  # a reference that a paired row later in this round needs keeps serving on its port set, while a
  # set stays free for the rows in between
  if [ "$ok" = 1 ] && [ "$T_KIND" = http ] && needed_later "$target" "$target" && [ $((${#HELD_SET[@]} + 2)) -le "$PORT_SETS" ]; then
    HELD_SET[$target]=$set_now HELD_PORT[$target]=$port HELD_PIDS[$target]="${pids[*]}"
    HELD_HOST[$target]=$T_HOST HELD_PATH[$target]=$T_PATH HELD_HEADER[$target]=$T_HEADER
  else
    for p in "${pids[@]}"; do stop "$p"; done
  fi
  # a held reference goes once no later paired row in this round needs it
  for r in "${!HELD_SET[@]}"; do [ "$r" = "$target" ] || needed_later "$r" "$target" || release "$r"; done
  # the round this target's row came from (column 22)
  awk -v b="$rows_before" -v r="$round" 'NR > b { $0 = $0 "\t" r } { print }' "$ROWS" >"$ROWS.tmp" && mv "$ROWS.tmp" "$ROWS"
done
for r in "${!HELD_SET[@]}"; do release "$r"; done
done

# With several rounds: one row per target, each figure the median of its rounds (errors and steal the
# worst); column 22 the median of the ratios to the reference taken within each round (the two ran
# minutes apart at most, so a slower or faster host moves both), 23-24 each round's req/s and µs/req.
if [ "$ROUNDS" -gt 1 ]; then
  awk -F'\t' -v OFS='\t' '
    function med(list,   k, m, i, j, t, v) { m = split(list, v, " "); if (m == 0) return "n/a"
      for (i = 2; i <= m; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    { t = $1; if (!(t in seen)) { seen[t] = 1; order[++n] = t }
      rows[t] = rows[t] ? rows[t] SUBSEP NR : NR; for (i = 1; i <= 22; i++) f[NR, i] = $i
      if ($2 != "n/a") rps[t, $22] = $2; ref[t] = $15
      per_rps[t] = per_rps[t] (per_rps[t] == "" ? "" : "/") $2; per_us[t] = per_us[t] (per_us[t] == "" ? "" : "/") $21 }
    END { for (k = 1; k <= n; k++) { t = order[k]; c = split(rows[t], idx, SUBSEP)
        for (i = 1; i <= 21; i++) { list = ""; worst = 0
          for (j = 1; j <= c; j++) { v = f[idx[j], i]; if (v != "n/a" && v != "") { list = list " " v; if (v + 0 > worst) worst = v + 0 } }
          if (i == 10 || i == 12 || i == 13 || i == 20) out[i] = list == "" ? "n/a" : worst
          else if (i ~ /^(2|3|4|5|6|7|8|9|16|17|21)$/) { m = med(list); out[i] = m == "n/a" ? m : (i == 2 || i == 8 || i == 9 || i == 21 ? sprintf("%.0f", m) : sprintf("%.3f", m)) }
          else out[i] = f[idx[1], i] }
        # strings (latency JSON, note, per-proxy RSS): the round whose req/s is the median one
        pick = idx[1]; best = -1
        for (j = 1; j <= c; j++) if (f[idx[j], 2] != "n/a") { d = f[idx[j], 2] - out[2]; d = d < 0 ? -d : d; if (best < 0 || d < best) { best = d; pick = idx[j] } }
        out[11] = f[pick, 11]; out[18] = f[pick, 18]; out[19] = f[pick, 19]
        ratios = ""; for (r = 1; r <= 1000; r++) if ((t, r) in rps && (ref[t], r) in rps && rps[ref[t], r] > 0) ratios = ratios " " rps[t, r] / rps[ref[t], r]
        out[22] = ratios == "" ? "" : sprintf("%.2f", med(ratios)); out[23] = per_rps[t]; out[24] = per_us[t]
        line = out[1]; for (i = 2; i <= 24; i++) line = line OFS out[i]; print line } }' "$ROWS" >"$ROWS.tmp" && mv "$ROWS.tmp" "$ROWS"
fi

# Report: table on stdout, JSON in bench/results/.
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
OUT="bench/results/$STAMP.json"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NGINX_V=$(nginx -v 2>&1 | sed 's/.*nginx\///')
WRK_V=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }' || true)
awk -F'\t' -v out="$OUT" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v nproc="$NPROC" -v cpu="$CPU_MODEL" \
  -v kernel="$(uname -r)" -v commit="$(git describe --always --dirty 2>/dev/null || echo unknown)" -v load="$LOAD_BEFORE $(cut -d' ' -f1 /proc/loadavg)" -v layout="$LAYOUT" -v dur="$DURATION" -v warm="$WARMUP" -v rate="$RATE" \
  -v conns="$CONNS" -v threads="$WRK_THREADS" -v rounds="$ROUNDS" -v bunv="$($BUN --version)" \
  -v denov="$($DENO --version | awk 'NR == 1 { print $2 }')" -v nginxv="$NGINX_V" -v wrkv="$WRK_V" -v nginxjob="${BENCH_NGINX_JOB:-same}" '
  function ms(x) { return x == "n/a" || x == "" ? "n/a" : sprintf("%.2f", x) }
  function num(x) { return x == "n/a" || x == "" ? "null" : x }
  function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
  function arr(s) { if (s == "n/a" || s == "") return "null"; gsub(/\//, ", ", s); return "[" s "]" }
  { n++; for (i = 1; i <= 24; i++) f[n, i] = $i
    if ($2 != "n/a") { rps[$1] = $2; c1[$1] = $16 }
    if ($1 == "direct") dp99 = $5 }
  END {
    fmt = "%-18s %8s %6s %6s %6s %6s %6s %7s %7s %6s %11s %11s %6s %5s %6s\n"
    printf fmt, "target", "req/s", "ratio", "p50", "p90", "p99", "+p99", "c1 mean", "c1 p99", "c1 +", "RSS MB", "peak MB", "start", "CPU%", "µs/req"
    printf "%s\n", "(ms; p50-p99 at " rate " req/s, +p99 over direct; c1 = wrk -c1 -t1 latency, c1 + = its mean over the reference nginx;"
    printf "%s\n", " ratio = req/s over the reference: nginx, gateway-nginx for gateway-*, mesh-nginx for mesh-*; RSS of a pair: A/B;"
    printf "%s\n", " µs/req = CPU time of the proxy (both of a pair) per request in the wrk run: the steadiest figure on a shared host;"
    printf "%s\n", " tcp-*: 64-byte echoes per second over long-lived connections, p50-p99 their round trips, ratio to tcp-nginx)"
    printf "{\n  \"date\": %s,\n  \"machine\": { \"nproc\": %s, \"cpu\": %s, \"kernel\": %s, \"load_average_before_after\": %s },\n", q(date), nproc, q(cpu), q(kernel), q(load) > out
    printf "  \"commit\": %s,\n", q(commit) > out
    printf "  \"nginx_job\": %s,\n", q(nginxjob) > out
    printf "  \"tools\": { \"bun\": %s, \"deno\": %s, \"nginx\": %s, \"wrk\": %s },\n", q(bunv), q(denov), q(nginxv), q(wrkv) > out
    printf "  \"settings\": { \"layout\": %s, \"seconds\": %s, \"warmup_seconds\": %s, \"rate\": %s, \"wrk_connections\": %s, \"wrk_threads\": %s },\n", q(layout), dur, warm, rate, conns, threads > out
    printf "  \"results\": [\n" > out
    for (r = 1; r <= n; r++) {
      ok = f[r, 2] != "n/a"; ref = f[r, 15]
      ratio = ok && rounds > 1 && f[r, 22] != "" ? f[r, 22] : ok && rps[ref] ? sprintf("%.2f", f[r, 2] / rps[ref]) : "n/a"
      ratio_ng = ok && rps["nginx"] ? sprintf("%.2f", f[r, 2] / rps["nginx"]) : "n/a"
      added = ok && dp99 != "" && dp99 != "n/a" && f[r, 5] != "n/a" ? sprintf("%.3f", f[r, 5] - dp99) : "n/a"
      c1added = ok && (ref in c1) && c1[ref] != "" && c1[ref] != "n/a" && f[r, 16] != "n/a" ? sprintf("%.3f", f[r, 16] - c1[ref]) : "n/a"
      printf fmt, f[r, 1], f[r, 2], ratio, ms(f[r, 3]), ms(f[r, 4]), ms(f[r, 5]), ms(added), ms(f[r, 16]), ms(f[r, 17]), ms(c1added), f[r, 18], f[r, 19], f[r, 8], f[r, 9], f[r, 21]
      printf "    { \"target\": %s, \"requests_per_s\": %s, \"reference\": %s, \"ratio_to_reference\": %s, \"ratio_to_nginx\": %s, \"p50_ms\": %s, \"p90_ms\": %s, \"p99_ms\": %s, \"added_p99_ms\": %s, ", \
        q(f[r, 1]), num(f[r, 2]), q(ref), num(ratio), num(ratio_ng), num(f[r, 3]), num(f[r, 4]), num(f[r, 5]), num(added) > out
      printf "\"one_connection_mean_ms\": %s, \"one_connection_p99_ms\": %s, \"one_connection_added_mean_ms\": %s, ", num(f[r, 16]), num(f[r, 17]), num(c1added) > out
      printf "\"rss_mb_after_rate_run\": %s, \"rss_mb_peak\": %s, \"rss_mb_after_rate_run_per_proxy\": %s, \"rss_mb_peak_per_proxy\": %s, ", num(f[r, 6]), num(f[r, 7]), arr(f[r, 18]), arr(f[r, 19]) > out
      if (rounds > 1 && f[r, 23] != "") printf "\"rounds_requests_per_s\": %s, \"rounds_cpu_us_per_request\": %s, ", q(f[r, 23]), q(f[r, 24]) > out
      printf "\"start_ms\": %s, \"proxy_cpu_pct\": %s, \"proxy_cpu_us_per_request\": %s, \"errors\": %s, \"latency_run\": %s, \"steal_pct_latency_run\": %s, \"steal_pct_one_connection_run\": %s, \"steal_pct_wrk_run\": %s, \"note\": %s }%s\n", \
        num(f[r, 8]), num(f[r, 9]), num(f[r, 21]), num(f[r, 10]), f[r, 11], num(f[r, 12]), num(f[r, 20]), num(f[r, 13]), (f[r, 14] == "" ? "null" : q(f[r, 14])), (r < n ? "," : "") > out
    }
    printf "  ]\n}\n" > out
    for (r = 1; r <= n; r++) if (rounds > 1 && f[r, 23] != "") { if (!head++) printf "%s\n", "each round, in order (req/s; µs/req):"; printf "  %-18s %s; %s\n", f[r, 1], f[r, 23], f[r, 24] }
  }' "$ROWS"
# Paired slices: per row, every slice ratio of every round, their median; then into the JSON
if [ -s "$PAIRS" ]; then
  echo "paired slices (row / reference req/s, both serving, ${SLICE_SECONDS}-s wrk runs in turn; per round; CPU µs per request of each):"
  awk -F'\t' '
    function med(list,   m, i, j, t, v) { m = split(list, v, " ")
      for (i = 2; i <= m; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    { k = $1 " / " $2; if (!(k in all)) order[++n] = k; all[k] = all[k] " " $4; per[k] = per[k] "\n    round " $3 ": " $4 " (µs/req " $7 "; reference " $8 ")"
      # how much of its core the reference used in each slice: below 85 % something else set the pace
      c = split($6, r, " "); split($8, u, " "); split($7, w, " ")
      for (i = 1; i <= c; i++) if (r[i] * u[i] / 1e4 < 85) low[k] = low[k] sprintf(" %.0f%%", r[i] * u[i] / 1e4)
      # the same pair read by CPU: reference µs/req over row µs/req, the req/s ratio both would
      # have if each were bound by its core alone (what "the same job on the same core" asks)
      for (i = 1; i <= c; i++) if (w[i] > 0) cpu[k] = cpu[k] " " sprintf("%.3f", u[i] / w[i]) }
    END { for (i = 1; i <= n; i++) { k = order[i]; printf "  %-28s median %.2f; by CPU per request %.2f%s\n", k, med(all[k]), med(cpu[k]), per[k]
        if (low[k] != "") printf "    warning: the reference used only%s of its core in some slices: there its req/s was not its own limit (the CPU reading is the steadier one)\n", low[k] } }' "$PAIRS"
  json=$(awk -F'\t' '
    function arr(s) { gsub(/ /, ", ", s); return "[" s "]" }
    function cpu(row, ref,   c, w, u, i, out) { c = split(row, w, " "); split(ref, u, " ")
      for (i = 1; i <= c; i++) out = out (i > 1 ? " " : "") sprintf("%.3f", w[i] > 0 ? u[i] / w[i] : 0); return out }
    { printf "%s    { \"target\": \"%s\", \"reference\": \"%s\", \"round\": %s, \"slice_seconds\": %s, \"ratios\": %s, \"cpu_ratios\": %s, \"requests_per_s\": %s, \"reference_requests_per_s\": %s, \"cpu_us_per_request\": %s, \"reference_cpu_us_per_request\": %s }", (NR > 1 ? ",\n" : ""), $1, $2, $3, s, arr($4), arr(cpu($7, $8)), arr($5), arr($6), arr($7), arr($8) }' s="$SLICE_SECONDS" "$PAIRS")
  sed -i '$d' "$OUT" && printf ',\n  "paired": [\n%s\n  ]\n}\n' "$json" >>"$OUT"
fi
for row in $(awk -F'\t' '$10 != "n/a" && $10 > 0 { print $1 }' "$ROWS"); do
  echo "warning: $row had failed requests (non-2xx, socket errors or unanswered); see $OUT" >&2
done
# The load client's own timer lag is 0-1.1 ms when its CPU is free; far more means something else
# took that CPU during the latency run (often the hypervisor: steal time), and that row's percentiles
# measure the machine, not the proxy. Steal during the wrk run lowers req/s the same way.
awk -F'\t' '$11 ~ /sched_lag/ { l = $11; sub(/.*"sched_lag_p99_ms":/, "", l); sub(/[,}].*/, "", l)
  if (l + 0 > 2 || $12 + 0 > 2) printf "warning: %s latency run disturbed (load client timer lag p99 %s ms, steal %s%%)\n", $1, l, $12
  if ($13 + 0 > 2) printf "warning: %s wrk run disturbed (steal %s%%)\n", $1, $13
  if ($20 + 0 > 2) printf "warning: %s one-connection run disturbed (steal %s%%)\n", $1, $20
  if ($1 ~ /nginx$/ && $9 != "n/a" && $9 + 0 < 85) printf "warning: %s used only %s%% of its CPU in the wrk run, so it was not the bottleneck and the ratios to it are not meaningful\n", $1, $9 }' "$ROWS" >&2
echo "wrote $OUT" >&2
