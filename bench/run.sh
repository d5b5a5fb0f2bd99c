#!/usr/bin/env bash
# npm run bench: the dietmesh sidecar (on Bun and on Deno) against nginx as a reverse proxy to the
# same upstream, and against the upstream called directly. See docs/performance.md.
#
# Per target: start it and time exec -> serving; a fixed-rate latency run (bench/load.ts, open loop)
# after a short warm-up at the same rate; peak RSS so far; a wrk throughput run (keep-alive, small
# GET); peak RSS again. Prints a table and writes bench/results/<timestamp>.json.
#
# Layout on a 2-core machine (taskset): CPU 1 = the proxy alone; CPU 0 = load generator + upstream.
# Env: BENCH_SECONDS (10, each measured run), BENCH_WARMUP (2), BENCH_RATE (1000), BENCH_CONNECTIONS
# (50, wrk), BENCH_READY_TIMEOUT (10 s), BENCH_TARGETS ("direct nginx dietmesh-bun dietmesh-deno").
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
RATE=${BENCH_RATE:-1000}
CONNS=${BENCH_CONNECTIONS:-50}
READY_TIMEOUT=${BENCH_READY_TIMEOUT:-10}
TARGETS=${BENCH_TARGETS:-direct nginx dietmesh-bun dietmesh-deno}
HOST=bench-upstream.default.svc.cluster.local:8080
BUN=./node_modules/.bin/bun
DENO=./node_modules/.bin/deno

bash scripts/ensure-tools.sh nginx wrk curl ps

NPROC=$(nproc) # before pinning this script, which would make nproc say 1
if command -v taskset >/dev/null 2>&1 && [ "$NPROC" -ge 2 ]; then
  PIN_LOAD="taskset -c 0" PIN_PROXY="taskset -c 1"
  taskset -cp 0 $$ >/dev/null # this script too: its readiness polling must not take the proxy's CPU
  LAYOUT="proxy pinned to CPU 1; load generator (wrk, bench/load.ts) and upstream pinned to CPU 0"
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

wait_ready() { # pid port path: polls without pause until 200; prints ms since T0; fails on exit/deadline
  local deadline=$((${EPOCHREALTIME/./} + READY_TIMEOUT * 1000000))
  until probe "$2" "$3"; do
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
cpu_ticks() { # user+system clock ticks over the process tree
  local t=0 p v
  for p in $(tree "$1"); do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true); t=$((t + ${v:-0}))
  done
  echo "$t"
}
steal_ticks() { awk '/^cpu / { print $9 }' /proc/stat; } # time the hypervisor gave to others
steal_pct() { # ticks-before wall-us-before: % of this machine's CPU time stolen since then
  awk -v d=$(($(steal_ticks) - $1)) -v us=$((${EPOCHREALTIME/./} - $2)) -v hz="$(getconf CLK_TCK)" -v n="$NPROC" \
    'BEGIN { printf "%.1f", 100 * d / hz / (us / 1e6) / n }'
}
json_num() { sed -n "s/.*\"$1\":\([-0-9.eE]*\).*/\1/p" <<<"$2"; }

ROWS="$TMP/rows.tsv"; : >"$ROWS"
na() { # name reason
  echo "  $1: n/a ($2)" >&2
  [ -n "${PID:-}" ] && [ -f "$TMP/$1.log" ] && tail -n 5 "$TMP/$1.log" | sed 's/^/    | /' >&2
  printf '%s\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\t{}\tn/a\tn/a\t%s\n' "$1" "$2" >>"$ROWS"
}

measure() { # name pid port start_ms: the runs against a serving target
  local name=$1 pid=$2 port=$3 start_ms=$4 body lat rss_rate t0 t1 wrk_out rps errs rss_peak cpu s0 w0 steal_lat steal_wrk
  local url="http://127.0.0.1:$port/"
  body=$(curl -sf -H "Host: $HOST" "$url") || { na "$name" "GET through it failed"; return 0; }
  [ "$body" = "$EXPECTED" ] || { na "$name" "unexpected body: ${body:0:60}"; return 0; }
  s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  lat=$($PIN_LOAD $BUN bench/load.ts --url "$url" --host "$HOST" --rate "$RATE" --seconds "$DURATION" \
    --warmup "$WARMUP") || { na "$name" "latency run failed"; return 0; }
  steal_lat=$(steal_pct "$s0" "$w0")
  rss_rate=$(peak_rss_mb "$pid")
  t0=$(cpu_ticks "$pid") s0=$(steal_ticks) w0=${EPOCHREALTIME/./}
  wrk_out=$($PIN_LOAD wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" -H "Host: $HOST" "$url") ||
    { na "$name" "wrk failed"; return 0; }
  kill -0 "$pid" 2>/dev/null || { na "$name" "exited during the runs"; return 0; }
  t1=$(cpu_ticks "$pid") steal_wrk=$(steal_pct "$s0" "$w0")
  rss_peak=$(peak_rss_mb "$pid")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$wrk_out")
  errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/[^0-9 ]/, ""); n += $1 + $2 + $3 + $4 } END { print n + 0 }' <<<"$wrk_out")
  errs=$((errs + $(json_num errors "$lat")))
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$DURATION" 'BEGIN { printf "%.0f", 100 * d / hz / s }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' "$name" "$rps" "$(json_num p50_ms "$lat")" \
    "$(json_num p90_ms "$lat")" "$(json_num p99_ms "$lat")" "$rss_rate" "$rss_peak" "$start_ms" "$cpu" \
    "$errs" "$lat" "$steal_lat" "$steal_wrk" >>"$ROWS"
  echo "  $name: $rps req/s, p99 $(json_num p99_ms "$lat") ms at $RATE req/s, start $start_ms ms" >&2
}

sidecar_config() { # dir upstream-port
  mkdir -p "$1"
  cat >"$1/bench-upstream.yaml" <<EOF
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: bench-upstream, namespace: default }
spec:
  hosts: [bench-upstream.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: $2 }, labels: { version: v1 } }]
EOF
}

nginx_config() { # dir listen-port upstream-port
  mkdir -p "$1/logs"
  cat >"$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $1/body; proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
  upstream bench_upstream { server 127.0.0.1:$3; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$2;
    keepalive_requests 1000000; # nginx closes a connection after 1000 by default; Bun and Deno don't
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$LOAD_BEFORE" 'BEGIN { exit !(l > 0.5) }' &&
  echo "warning: the machine is not idle (load average $LOAD_BEFORE); expect noisy numbers" >&2
echo "dietmesh bench: ${DURATION}s runs, $RATE req/s latency runs, $CONNS wrk connections; $LAYOUT" >&2
mapfile -t PORTS < <($BUN bench/free-ports.ts 3)

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

for target in $TARGETS; do
  PID=""
  case "$target" in
    direct)
      measure direct "$UPSTREAM_PID" "$UP_PORT" "$UP_START"
      continue ;;
    nginx)
      nginx_config "$TMP/nginx" "${PORTS[0]}" "$UP_PORT"
      launch nginx $PIN_PROXY nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log"
      port=${PORTS[0]} ready_port=${PORTS[0]} ready_path=/ ;;
    dietmesh-bun | dietmesh-deno)
      sidecar_config "$TMP/mesh" "$UP_PORT"
      if [ "$target" = dietmesh-bun ]; then run=("$BUN"); else run=("$DENO" run -A --quiet); fi
      [ -f runtime/cli/main.ts ] || { na "$target" "runtime/cli/main.ts not there yet"; continue; }
      launch "$target" $PIN_PROXY "${run[@]}" runtime/cli/main.ts sidecar --config "$TMP/mesh" \
        --outbound "127.0.0.1:${PORTS[1]}" --admin "127.0.0.1:${PORTS[2]}"
      port=${PORTS[1]} ready_port=${PORTS[2]} ready_path=/ready ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  if start_ms=$(wait_ready "$PID" "$ready_port" "$ready_path" 2>"$TMP/ready.err"); then
    measure "$target" "$PID" "$port" "$start_ms"
  else
    na "$target" "$(cat "$TMP/ready.err")"
  fi
  stop "$PID"
done

# Report: table on stdout, JSON in bench/results/.
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
OUT="bench/results/$STAMP.json"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NGINX_V=$(nginx -v 2>&1 | sed 's/.*nginx\///')
WRK_V=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }' || true)
awk -F'\t' -v out="$OUT" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v nproc="$NPROC" -v cpu="$CPU_MODEL" \
  -v kernel="$(uname -r)" -v commit="$(git describe --always --dirty 2>/dev/null || echo unknown)" -v load="$LOAD_BEFORE $(cut -d' ' -f1 /proc/loadavg)" -v layout="$LAYOUT" -v dur="$DURATION" -v warm="$WARMUP" -v rate="$RATE" \
  -v conns="$CONNS" -v threads="$WRK_THREADS" -v bunv="$($BUN --version)" \
  -v denov="$($DENO --version | awk 'NR == 1 { print $2 }')" -v nginxv="$NGINX_V" -v wrkv="$WRK_V" '
  function ms(x) { return x == "n/a" ? x : sprintf("%.2f", x) }
  function num(x) { return x == "n/a" || x == "" ? "null" : x }
  function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
  { n++; for (i = 1; i <= 14; i++) f[n, i] = $i
    if ($1 == "nginx") ng = $2; if ($1 == "direct") dp99 = $5 }
  END {
    fmt = "%-14s %9s %6s %7s %7s %7s %9s %8s %8s %8s %5s\n"
    printf fmt, "target", "req/s", "ratio", "p50 ms", "p90 ms", "p99 ms", "+p99 ms", "RSS MB", "peak MB", "start ms", "CPU%"
    printf "%s\n", "(latency at " rate " req/s; RSS MB = peak by the end of that run; peak MB = after the wrk run too)"
    printf "{\n  \"date\": %s,\n  \"machine\": { \"nproc\": %s, \"cpu\": %s, \"kernel\": %s, \"load_average_before_after\": %s },\n", q(date), nproc, q(cpu), q(kernel), q(load) > out
    printf "  \"commit\": %s,\n", q(commit) > out
    printf "  \"tools\": { \"bun\": %s, \"deno\": %s, \"nginx\": %s, \"wrk\": %s },\n", q(bunv), q(denov), q(nginxv), q(wrkv) > out
    printf "  \"settings\": { \"layout\": %s, \"seconds\": %s, \"warmup_seconds\": %s, \"rate\": %s, \"wrk_connections\": %s, \"wrk_threads\": %s },\n", q(layout), dur, warm, rate, conns, threads > out
    printf "  \"results\": [\n" > out
    for (r = 1; r <= n; r++) {
      ok = f[r, 2] != "n/a"
      ratio = ok && ng ? sprintf("%.2f", f[r, 2] / ng) : "n/a"
      added = ok && dp99 != "" && dp99 != "n/a" ? sprintf("%.3f", f[r, 5] - dp99) : "n/a"
      printf fmt, f[r, 1], f[r, 2], ratio, ms(f[r, 3]), ms(f[r, 4]), ms(f[r, 5]), ms(added), f[r, 6], f[r, 7], f[r, 8], f[r, 9]
      printf "    { \"target\": %s, \"requests_per_s\": %s, \"ratio_to_nginx\": %s, \"p50_ms\": %s, \"p90_ms\": %s, \"p99_ms\": %s, \"added_p99_ms\": %s, \"rss_mb_after_rate_run\": %s, \"rss_mb_peak\": %s, \"start_ms\": %s, \"proxy_cpu_pct\": %s, \"errors\": %s, \"latency_run\": %s, \"steal_pct_latency_run\": %s, \"steal_pct_wrk_run\": %s, \"note\": %s }%s\n", \
        q(f[r, 1]), num(f[r, 2]), num(ratio), num(f[r, 3]), num(f[r, 4]), num(f[r, 5]), num(added), num(f[r, 6]), num(f[r, 7]), \
        num(f[r, 8]), num(f[r, 9]), num(f[r, 10]), f[r, 11], num(f[r, 12]), num(f[r, 13]), (f[r, 14] == "" ? "null" : q(f[r, 14])), (r < n ? "," : "") > out
    }
    printf "  ]\n}\n" > out
  }' "$ROWS"
for row in $(awk -F'\t' '$10 != "n/a" && $10 > 0 { print $1 }' "$ROWS"); do
  echo "warning: $row had failed requests (non-2xx, socket errors or unanswered); see $OUT" >&2
done
# The load client's own timer lag is 0-1.1 ms when its CPU is free; far more means something else
# took that CPU during the latency run (often the hypervisor: steal time), and that row's percentiles
# measure the machine, not the proxy. Steal during the wrk run lowers req/s the same way.
awk -F'\t' '$11 ~ /sched_lag/ { l = $11; sub(/.*"sched_lag_p99_ms":/, "", l); sub(/[,}].*/, "", l)
  if (l + 0 > 2 || $12 + 0 > 2) printf "warning: %s latency run disturbed (load client timer lag p99 %s ms, steal %s%%)\n", $1, l, $12
  if ($13 + 0 > 2) printf "warning: %s wrk run disturbed (steal %s%%)\n", $1, $13
  if ($1 == "nginx" && $9 + 0 < 85) printf "warning: nginx used only %s%% of its CPU in the wrk run, so it was not the bottleneck and the ratios are not meaningful\n", $9 }' "$ROWS" >&2
echo "wrote $OUT" >&2
