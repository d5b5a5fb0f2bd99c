# The configurations the bench rows run with, shared by bench/run.sh and bench/profile.sh: sourced,
# with TMP (a scratch folder), BUN, MESH_HOST and GATEWAY_HOST set by the caller.

service_entry() { # name host port address endpoint-port [serviceAccount]: a STATIC ServiceEntry
  cat <<EOF
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: $1, namespace: default }
spec:
  hosts: [$2]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: $3, name: http, protocol: HTTP }]
  endpoints: [{ address: $4, ports: { http: $5 }, labels: { version: v1 }${6:+, serviceAccount: $6} }]
EOF
}

sidecar_config() { # dir upstream-port
  mkdir -p "$1"
  service_entry bench-upstream bench-upstream.default.svc.cluster.local 8080 127.0.0.1 "$2" >"$1/bench-upstream.yaml"
}

gateway_config() { # dir upstream-port: a Gateway and a VirtualService whose one route needs a path
  # prefix and a header; anything else is a 404 (NR), as in nginx's config below
  sidecar_config "$1" "$2"
  cat >"$1/gateway.yaml" <<EOF
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: bench-gateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [$GATEWAY_HOST] }]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: bench-routes, namespace: default }
spec:
  hosts: [$GATEWAY_HOST]
  gateways: [bench-gateway]
  http:
  - match: [{ uri: { prefix: /bench/ }, headers: { x-bench-route: { exact: v1 } } }]
    route: [{ destination: { host: bench-upstream.default.svc.cluster.local, port: { number: 8080 } } }]
EOF
}

mesh_config() { # dir-a dir-b b-inbound-port: A knows b's endpoint (B's inbound, service account b:
  # auto mTLS, B's identity checked); B takes only mTLS (a namespace-wide STRICT PeerAuthentication)
  mkdir -p "$1" "$2"
  service_entry b "${MESH_HOST%:*}" 8080 127.0.0.1 "$3" b >"$1/b.yaml"
  cat >"$2/strict.yaml" <<EOF
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec:
  mtls: { mode: STRICT }
EOF
}

mesh_identities() { # the mesh CA (dietmesh ca init), nginx A's client certificate from it, and nginx B's
  # server certificate signed by its root with openssl: nginx checks the name it dials (DNS SAN), which
  # an SVID (URI SAN only) does not carry. Made once per bench run.
  [ -d "$TMP/ca" ] && return 0
  $BUN runtime/cli/main.ts ca init --dir "$TMP/ca" >/dev/null &&
    $BUN runtime/cli/main.ts ca issue --dir "$TMP/ca" --namespace default --service-account nginx-a \
      --out "$TMP/nginx-a-id" >/dev/null &&
    mkdir -p "$TMP/nginx-b-id" &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=nginx-b.bench \
      -keyout "$TMP/nginx-b-id/key.pem" -out "$TMP/nginx-b-id/csr.pem" 2>/dev/null &&
    printf '%s\n' 'subjectAltName=DNS:nginx-b.bench,URI:spiffe://cluster.local/ns/default/sa/nginx-b' \
      'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
      'extendedKeyUsage=serverAuth,clientAuth' >"$TMP/nginx-b-id/ext.cnf" &&
    openssl x509 -req -in "$TMP/nginx-b-id/csr.pem" -CA "$TMP/ca/root-cert.pem" -CAkey "$TMP/ca/root-key.pem" \
      -set_serial "0x$(openssl rand -hex 16)" -days 1 -extfile "$TMP/nginx-b-id/ext.cnf" \
      -out "$TMP/nginx-b-id/cert.pem" 2>/dev/null
}

