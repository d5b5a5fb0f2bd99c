#!/usr/bin/env bash
# npm run bench:profile -- [TARGET...]: where a loaded proxy's CPU goes, per request, beside the floor
# that does the same socket work. Each proxy process runs under `perf record` (call graphs, sampled on
# CPU time) with JavaScriptCore's JITDump on, so the samples in JIT-compiled code are named by their
# JavaScript function and tier. Recording starts only after PROFILE_WARM seconds of load (the JIT has
# settled by then) and covers PROFILE_SECONDS of wrk load; bench/profile-report.ts then prints, per
# process, the main thread's µs per request split into the kernel, the runtime's own code (bun.exe:
# sockets, TLS, the collector, and the engine's work that JavaScript asks for), JIT-compiled
# JavaScript and libc, and the JavaScript functions with the runtime time beneath each.
# Targets (Bun only: JITDump is JavaScriptCore's): gateway-bun floor-http-bun mesh-bun floor-meshpipe-bun
# (default: all four), in the layout of `npm run bench` (proxies on CPU 1, upstream and wrk on CPU 0).
# Needs perf (Debian's linux-perf, installed when missing) and permission to use it (root, or
# kernel.perf_event_paranoid ≤ 1).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=${*:-gateway-bun floor-http-bun mesh-bun floor-meshpipe-bun}
SECONDS_MEASURED=${PROFILE_SECONDS:-8}
WARM=${PROFILE_WARM:-8}
FREQ=${PROFILE_FREQ:-999}
CONNS=50
MESH_HOST=b.default.svc.cluster.local:8080
GATEWAY_HOST=bench.example
BUN=./node_modules/.bin/bun

bash scripts/ensure-tools.sh wrk curl openssl perf
PIN_LOAD="taskset -c 0" PIN_PROXY="taskset -c 1"
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1 || PIN_LOAD="" PIN_PROXY=""

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dietmesh-profile.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
source bench/configs.sh

mapfile -t PORTS < <($BUN bench/free-ports.ts 6)
$PIN_LOAD $BUN bench/upstream.ts --port 0 >"$TMP/upstream.log" 2>&1 &
PIDS+=($!)
until UP_PORT=$(grep -m1 -x '[0-9][0-9]*' "$TMP/upstream.log" 2>/dev/null); do sleep 0.05; done

profiled() { # name cmd...: the command on the proxy CPU under perf, recording off until "enable" on its control fifo
  local name=$1; shift
  mkdir -p "$TMP/$name.jit"
  mkfifo "$TMP/$name.ctl"
  BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory="$TMP/$name.jit" $PIN_PROXY perf record -D -1 --control "fifo:$TMP/$name.ctl" \
    -k 1 -q -F "$FREQ" -g -o "$TMP/$name.data" "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
}

serving() { # port host: until a request through it answers 200
  local i
  for ((i = 0; i < 200; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $2" -H 'x-bench-route: v1' "http://127.0.0.1:$1/bench/hello")" = 200 ] && return 0
    sleep 0.1
  done
  echo "not serving on $1" >&2
  return 1
}

for target in $TARGETS; do
  names=()
  case $target in
    gateway-bun)
      gateway_config "$TMP/gateway" "$UP_PORT"
      profiled gateway $BUN runtime/cli/main.ts gateway --config "$TMP/gateway" --bind "80=127.0.0.1:${PORTS[0]}" --admin "127.0.0.1:${PORTS[1]}"
      names=(gateway) host=$GATEWAY_HOST ;;
    floor-http-bun)
      profiled floor-http $BUN bench/floors/bun-http.ts --port "${PORTS[0]}" --upstream "127.0.0.1:$UP_PORT" --host "$GATEWAY_HOST"
      names=(floor-http) host=$GATEWAY_HOST ;;
    mesh-bun)
      mesh_identities
      mesh_config "$TMP/mesh-a" "$TMP/mesh-b" "${PORTS[1]}"
      profiled mesh-b $BUN runtime/cli/main.ts sidecar --config "$TMP/mesh-b" --app "127.0.0.1:$UP_PORT" --inbound "127.0.0.1:${PORTS[1]}" \
        --outbound "127.0.0.1:${PORTS[2]}" --admin "127.0.0.1:${PORTS[3]}" --ca-dir "$TMP/ca" --service-account b --labels app=b
      profiled mesh-a $BUN runtime/cli/main.ts sidecar --config "$TMP/mesh-a" --outbound "127.0.0.1:${PORTS[0]}" \
        --admin "127.0.0.1:${PORTS[4]}" --ca-dir "$TMP/ca" --service-account a
      names=(mesh-a mesh-b) host=$MESH_HOST ;;
    floor-meshpipe-bun)
      mesh_identities
      profiled meshpipe-b $BUN bench/floors/bun-tls-pipe.ts --side b --port "${PORTS[1]}" --upstream "127.0.0.1:$UP_PORT" \
        --cert "$TMP/nginx-b-id/cert.pem" --key "$TMP/nginx-b-id/key.pem" --ca "$TMP/ca/root-cert.pem"
      profiled meshpipe-a $BUN bench/floors/bun-tls-pipe.ts --side a --port "${PORTS[0]}" --upstream "127.0.0.1:${PORTS[1]}" \
        --cert "$TMP/nginx-a-id/cert-chain.pem" --key "$TMP/nginx-a-id/key.pem" --ca "$TMP/ca/root-cert.pem" --servername nginx-b.bench
      names=(meshpipe-a meshpipe-b) host=$MESH_HOST ;;
    *) echo "unknown target $target (gateway-bun floor-http-bun mesh-bun floor-meshpipe-bun)" >&2; exit 2 ;;
  esac
  serving "${PORTS[0]}" "$host"
  load() { $PIN_LOAD wrk -t1 -c"$CONNS" -d"$1s" -H "Host: $host" -H 'x-bench-route: v1' "http://127.0.0.1:${PORTS[0]}/bench/hello"; }
  load "$WARM" >/dev/null
  for n in "${names[@]}"; do echo enable >"$TMP/$n.ctl"; done
  requests=$(load "$SECONDS_MEASURED" | awk '/requests in/ { print $1 }')
  for n in "${names[@]}"; do echo disable >"$TMP/$n.ctl"; done
  # the proxies end on SIGINT (perf then writes its file); perf record is each one's parent
  for n in "${names[@]}"; do pkill -INT -P "$(pgrep -f -n "perf record .*$TMP/$n.data")" || true; done
  for n in "${names[@]}"; do
    while pgrep -f "perf record .*$TMP/$n.data" >/dev/null; do sleep 0.1; done
    echo "== $target: $n, $requests requests in ${SECONDS_MEASURED} s of wrk -c$CONNS"
    $BUN bench/profile-report.ts --data "$TMP/$n.data" --jit "$TMP/$n.jit" --requests "$requests" --frequency "$FREQ"
  done
done
