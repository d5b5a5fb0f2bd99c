#!/usr/bin/env bash
# Makes the demo's CA (once) and puts it into the cluster: the CA directory as the Secret
# dietmesh-ca in dietmesh-system (only the CA pod mounts it), and the root certificate as the
# ConfigMap dietmesh-ca-root in every namespace that runs a sidecar or the gateway. Re-running it
# keeps the existing CA. Usage: demo/kubernetes/setup-ca.sh [CA_DIR]   (default .demo/k8s-ca)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/.demo/k8s-ca}"
if [ ! -f "$dir/root-key.pem" ]; then
  node "$root/bin/dietmesh.js" ca init --dir "$dir"
fi
kubectl -n dietmesh-system create secret generic dietmesh-ca --from-file="$dir" --dry-run=client -o yaml | kubectl apply -f -
for ns in default istio-system; do
  kubectl -n "$ns" create configmap dietmesh-ca-root --from-file=root-cert.pem="$dir/root-cert.pem" --dry-run=client -o yaml | kubectl apply -f -
done
