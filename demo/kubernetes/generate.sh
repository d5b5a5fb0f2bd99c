#!/usr/bin/env bash
# Regenerates injected/*.yaml from plain/*.yaml with `dietmesh inject` (the CA address and image
# are inject's defaults). Run it after changing a plain manifest or what inject writes;
# test/demo/kubernetes-demo.test.ts fails while the two disagree.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
for plain in "$here"/plain/*.yaml; do
  name="$(basename "$plain")"
  out="$here/injected/$name"
  {
    echo "# Generated from plain/$name by demo/kubernetes/generate.sh (dietmesh inject). Do not edit."
    node "$root/bin/dietmesh.js" inject -f "$plain"
  } > "$out.tmp"
  mv "$out.tmp" "$out"
  echo "wrote ${out#"$root/"}"
done
