#!/usr/bin/env bash
# Installs the Debian packages that tests, the demo or the bench need, only when one is missing.
# Usage: scripts/ensure-tools.sh curl openssl [nginx wrk ...]  (command names; package = command
# except where mapped below).
set -euo pipefail
missing=()
for cmd in "$@"; do
  # nginx's stream module (the bench's TCP rows) is a file, not a command
  if [ "$cmd" = nginx-stream ]; then
    [ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || missing+=(libnginx-mod-stream)
    continue
  fi
  command -v "$cmd" >/dev/null 2>&1 && continue
  case "$cmd" in
    ps) missing+=(procps) ;;
    promtool) missing+=(prometheus) ;;
    kubectl) missing+=(kubernetes-client) ;;
    h2load | nghttp) missing+=(nghttp2-client) ;;
    perf) missing+=(linux-perf) ;; # bench/profile.sh
    # /usr/bin/chromium, driven by playwright-core (test/e2e/dashboard.test.ts); never a downloaded browser
    chromium) missing+=(chromium) ;;
    *) missing+=("$cmd") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "dietmesh: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi
echo "dietmesh: installing ${missing[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
