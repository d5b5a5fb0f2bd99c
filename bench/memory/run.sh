#!/usr/bin/env bash
# Where a dietmesh sidecar's memory goes, per runtime mode (docs/memory-findings.md has the results).
# For each mode in MEM_MODES: a plaintext outbound sidecar under wrk, and an mTLS pair (sidecar A
# outbound -> mTLS -> sidecar B inbound, STRICT -> app) under wrk; each proxy is sampled by
# bench/memory/probe.ts (preloaded; answers SIGUSR2) when idle, in the middle of the wrk run, right
# after it and 3 s later; then, in the plain scenario, with 1, 50 and 500 idle keep-alive connections
# held open (bench/memory/hold.ts). Writes one JSON line per sample to $MEM_OUT/results.jsonl;
# bench/memory/summarize.ts turns them into tables.
#
# Layout as bench/run.sh: proxies on CPU 1, wrk and the upstream on CPU 0.
# Env: MEM_MODES (default "bun deno"), MEM_SECONDS (wrk run, 8), MEM_CONNS (50), MEM_REPEAT (1),
#      MEM_SNAPSHOT=1 (a heap snapshot at the mid-load sample), MEM_HOLD=0 (skip the idle-connection part),
#      MEM_SCENARIOS (default "plain mtls"), MEM_MAIN (the CLI entry the proxies run; default
#      runtime/cli/main.ts, or a bundle's cli/main.js: see docs/performance.md "Sidecar RSS").
set -euo pipefail
cd "$(dirname "$0")/../.."

MODES=${MEM_MODES:-bun deno}
SECS=${MEM_SECONDS:-8}
CONNS=${MEM_CONNS:-50}
REPEAT=${MEM_REPEAT:-1}
SCENARIOS=${MEM_SCENARIOS:-plain mtls}
OUT=${MEM_OUT:-/tmp/dietmesh-memory-$(date -u +%Y%m%dT%H%M%SZ)}
BUN=$PWD/node_modules/.bin/bun
DENO=$PWD/node_modules/.bin/deno
PROBE=$PWD/bench/memory/probe.ts
MAIN=${MEM_MAIN:-runtime/cli/main.ts}
UPHOST=bench-upstream.default.svc.cluster.local:8080
BHOST=b.default.svc.cluster.local:8080
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
PIN_LOAD="taskset -c 0" PIN_PROXY="taskset -c 1"
PIDS=()
cleanup() { local p; for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# mode -> the command line and environment a dietmesh process runs with
mode_cmd() { # mode -> prints: ENV=.. ... runtime flags (one line; word-split by the caller)
  case "$1" in
    bun) echo "$BUN --preload $PROBE" ;;
    bun-smol) echo "$BUN --smol --preload $PROBE" ;;
    bun-tlslow) echo "env DIETMESH_MEM_TLS_LOW=1 $BUN --preload $PROBE" ;;
    bun-gc1) echo "env BUN_GARBAGE_COLLECTOR_LEVEL=1 $BUN --preload $PROBE" ;;
    bun-ram) echo "env BUN_JSC_forceRAMSize=$((64 << 20)) $BUN --preload $PROBE" ;;
    bun-purge) echo "env MIMALLOC_PURGE_DELAY=0 $BUN --preload $PROBE" ;;
    bun-nojit) echo "env BUN_JSC_useFTLJIT=0 $BUN --preload $PROBE" ;;
    bun-smol-tlslow) echo "env DIETMESH_MEM_TLS_LOW=1 $BUN --smol --preload $PROBE" ;;
    deno) echo "$DENO run -A --quiet --v8-flags=--expose-gc --preload $PROBE" ;;
    deno-semi1) echo "$DENO run -A --quiet --v8-flags=--expose-gc,--max-semi-space-size=1 --preload $PROBE" ;;
    deno-old64) echo "$DENO run -A --quiet --v8-flags=--expose-gc,--max-old-space-size=64 --preload $PROBE" ;;
    deno-lite) echo "$DENO run -A --quiet --v8-flags=--expose-gc,--lite-mode --preload $PROBE" ;;
    deno-single) echo "$DENO run -A --quiet --v8-flags=--expose-gc,--single-threaded --preload $PROBE" ;;
    deno-semi1-single) echo "$DENO run -A --quiet --v8-flags=--expose-gc,--max-semi-space-size=1,--single-threaded --preload $PROBE" ;;
    *) echo "unknown mode $1" >&2; exit 2 ;;
  esac
}

start_proxy() { # name mode args... : starts runtime/cli/main.ts; sets PROXY_PID (the runtime's pid)
  local name=$1 mode=$2; shift 2
  local mem=$OUT/$name.mem
  rm -f "$mem" "$mem".*
  # shellcheck disable=SC2046
  DIETMESH_MEM_OUT=$mem $PIN_PROXY $(mode_cmd "$mode") "$MAIN" "$@" >"$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 400; i++)); do [ -s "$mem.pid" ] && break; sleep 0.05; done
  PROXY_PID=$(cat "$mem.pid")
}

wait_ready() { # admin-port
  local i
  for ((i = 0; i < 400; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$1/ready" && return 0; sleep 0.05; done
  echo "not ready: $1" >&2; return 1
}

sample() { # name pid scenario mode phase extra-json: asks the probe, waits for its line, records it
  local name=$1 pid=$2 mem=$OUT/$1.mem n i
  n=$( [ -f "$mem" ] && wc -l <"$mem" || echo 0)
  kill -USR2 "$pid"
  for ((i = 0; i < 200; i++)); do [ -f "$mem" ] && [ "$(wc -l <"$mem")" -gt "$n" ] && break; sleep 0.05; done
  printf '{"scenario":"%s","mode":"%s","proxy":"%s","phase":"%s",%s"sample":%s}\n' "$3" "$4" "$1" "$5" "${6:-}" "$(tail -n 1 "$mem")" >>"$RESULTS"
}


steal() { awk '/^cpu / { print $9 }' /proc/stat; }
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }'))); done; echo "$t"; }
# proxy CPU per request (us), from clock ticks and wrk's request count: steadier than req/s on a busy machine
cpu_us() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" '/ requests in / { n = $1 } END { printf "%.0f", n ? t / hz * 1e6 / n : 0 }' "$OUT/wrk.txt"; }

mapfile -t P < <($BUN bench/free-ports.ts 6)
$PIN_LOAD $BUN bench/upstream.ts --port 0 >"$OUT/upstream.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do UP=$(grep -m1 -x '[0-9][0-9]*' "$OUT/upstream.log" 2>/dev/null) && break; sleep 0.05; done

mkdir -p "$OUT/plain" "$OUT/a" "$OUT/b"
cat >"$OUT/plain/upstream.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: bench-upstream, namespace: default }
spec:
  hosts: [bench-upstream.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: $UP }, labels: { version: v1 } }]
YAML
cat >"$OUT/a/b.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: b, namespace: default }
spec:
  hosts: [b.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${P[3]} }, labels: { app: b }, serviceAccount: b }]
YAML
cat >"$OUT/b/strict.yaml" <<YAML
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: default }
spec:
  selector: { matchLabels: { app: b } }
  mtls: { mode: STRICT }
YAML
if [ ! -d "$OUT/ca" ]; then
  $BUN runtime/cli/main.ts ca init --dir "$OUT/ca" >/dev/null
  $BUN runtime/cli/main.ts ca issue --dir "$OUT/ca" --namespace default --service-account holder --out "$OUT/holder" >/dev/null
fi

for ((rep = 1; rep <= REPEAT; rep++)); do
for mode in $MODES; do
  for scenario in $SCENARIOS; do
    echo "== $mode $scenario (run $rep)" >&2
    if [ "$scenario" = plain ]; then
      start_proxy plain "$mode" sidecar --config "$OUT/plain" --outbound "127.0.0.1:${P[0]}" --admin "127.0.0.1:${P[1]}"
      pp=$PROXY_PID; wait_ready "${P[1]}"
      curl -sf -o /dev/null -H "Host: $UPHOST" "http://127.0.0.1:${P[0]}/"
      sample plain "$pp" plain "$mode" idle
      s0=$(steal) c0=$(ticks "$pp")
      $PIN_LOAD wrk -t1 -c"$CONNS" -d"${SECS}s" -H "Host: $UPHOST" "http://127.0.0.1:${P[0]}/" >"$OUT/wrk.txt" 2>&1 & wpid=$!
      sleep "$(awk -v s="$SECS" 'BEGIN { print s / 2 }')"
      [ "${MEM_SNAPSHOT:-0}" = 1 ] && touch "$OUT/plain.mem.snap"
      sample plain "$pp" plain "$mode" load
      wait "$wpid"; rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$OUT/wrk.txt")
      st=$(( $(steal) - s0 )) cu=$(cpu_us $(( $(ticks "$pp") - c0 )))
      sample plain "$pp" plain "$mode" after "\"rps\":${rps:-0},\"cpu_us_per_req\":$cu,\"steal_ticks\":$st,\"rep\":$rep,"
      sleep 3; sample plain "$pp" plain "$mode" after3s
      if [ "${MEM_HOLD:-1}" = 1 ]; then
        held=0
        for n in 1 49 450; do
          $PIN_LOAD $BUN bench/memory/hold.ts "127.0.0.1:${P[0]}" "$n" "$UPHOST" >"$OUT/hold-$n.txt" 2>&1 & PIDS+=($!)
          for ((i = 0; i < 400; i++)); do grep -q '^held' "$OUT/hold-$n.txt" && break; sleep 0.05; done
          held=$((held + n)); sample plain "$pp" plain "$mode" "hold$held"
        done
      fi
      cleanup; PIDS=()
      $PIN_LOAD $BUN bench/upstream.ts --port "$UP" >"$OUT/upstream.log" 2>&1 & PIDS+=($!)
      for ((i = 0; i < 200; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$UP/" && break; sleep 0.05; done
    else
      start_proxy b "$mode" sidecar --config "$OUT/b" --outbound "127.0.0.1:${P[2]}" --inbound "127.0.0.1:${P[3]}" --admin "127.0.0.1:${P[4]}" \
        --app "127.0.0.1:$UP" --ca-dir "$OUT/ca" --service-account b --labels app=b
      bp=$PROXY_PID
      start_proxy a "$mode" sidecar --config "$OUT/a" --outbound "127.0.0.1:${P[0]}" --admin "127.0.0.1:${P[5]}" --ca-dir "$OUT/ca" --service-account a
      ap=$PROXY_PID
      wait_ready "${P[4]}"; wait_ready "${P[5]}"
      curl -sf -o /dev/null -H "Host: $BHOST" "http://127.0.0.1:${P[0]}/"
      sample a "$ap" mtls "$mode" idle; sample b "$bp" mtls "$mode" idle
      s0=$(steal) c0=$(ticks "$ap" "$bp")
      $PIN_LOAD wrk -t1 -c"$CONNS" -d"${SECS}s" -H "Host: $BHOST" "http://127.0.0.1:${P[0]}/" >"$OUT/wrk.txt" 2>&1 & wpid=$!
      sleep "$(awk -v s="$SECS" 'BEGIN { print s / 2 }')"
      [ "${MEM_SNAPSHOT:-0}" = 1 ] && touch "$OUT/a.mem.snap" "$OUT/b.mem.snap"
      sample a "$ap" mtls "$mode" load; sample b "$bp" mtls "$mode" load
      wait "$wpid"; rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$OUT/wrk.txt")
      errs=$(awk '/Non-2xx/ { n += $NF } END { print n + 0 }' "$OUT/wrk.txt")
      st=$(( $(steal) - s0 )) cu=$(cpu_us $(( $(ticks "$ap" "$bp") - c0 )))
      sample a "$ap" mtls "$mode" after "\"rps\":${rps:-0},\"cpu_us_per_req\":$cu,\"errors\":$errs,\"steal_ticks\":$st,\"rep\":$rep,"
      sample b "$bp" mtls "$mode" after "\"rps\":${rps:-0},\"cpu_us_per_req\":$cu,\"errors\":$errs,\"steal_ticks\":$st,\"rep\":$rep,"
      sleep 3; sample a "$ap" mtls "$mode" after3s; sample b "$bp" mtls "$mode" after3s
      if [ "${MEM_HOLD:-1}" = 1 ]; then
        held=0
        for n in 1 49 450; do # straight to B's mTLS inbound, with a mesh client certificate
          $PIN_LOAD $BUN bench/memory/hold.ts "127.0.0.1:${P[3]}" "$n" "$BHOST" "$OUT/holder" >"$OUT/hold-$n.txt" 2>&1 & PIDS+=($!)
          for ((i = 0; i < 600; i++)); do grep -q '^held' "$OUT/hold-$n.txt" && break; sleep 0.05; done
          held=$((held + n)); sample b "$bp" mtls "$mode" "hold$held"
        done
      fi
      cleanup; PIDS=()
      $PIN_LOAD $BUN bench/upstream.ts --port "$UP" >"$OUT/upstream.log" 2>&1 & PIDS+=($!)
      for ((i = 0; i < 200; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$UP/" && break; sleep 0.05; done
    fi
  done
done
done
echo "wrote $RESULTS" >&2
