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

# The nginx references, as bench/run.sh's nginx, gateway-nginx and mesh-nginx rows run them.
# test/bench/nginx-reference.test.ts starts each beside the dietmesh row it is measured against and
# checks that the two hand the app the same request.
nginx_main() { # dir: what every reference's nginx.conf holds first (one worker in the foreground, its
  # pid and error log in dir), appended to dir/nginx.conf
  mkdir -p "$1/logs"
  cat >>"$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 1024; }
EOF
}

nginx_config() { # dir server-block: one worker, no access log, temp files in dir; the server block and
  # its upstreams go inside http {}
  rm -f "$1/nginx.conf"
  nginx_main "$1"
  cat >>"$1/nginx.conf" <<EOF
http {
  access_log off;
  client_body_temp_path $1/body; proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
  keepalive_requests 1000000; # nginx closes a connection after 1000 by default; Bun and Deno don't
  # for NGINX_SAME_JOB: the request's own id and scheme header when it has them, else nginx's
  map \$http_x_request_id \$same_job_request_id { "" \$request_id; default \$http_x_request_id; }
  map \$http_x_forwarded_proto \$same_job_proto { "" \$scheme; default \$http_x_forwarded_proto; }
$2
}
EOF
}

# nginx's upstream keep-alive, as every nginx here uses it: HTTP/1.1 and no "Connection: close"
NGINX_KEEPALIVE='proxy_http_version 1.1; proxy_set_header Connection "";'
# What a dietmesh proxy (and Envoy in Istio) does to every request it forwards, as nginx says it, so
# the reference does the same job (since 2026-12-07; docs/performance.md, "The references do the
# same job"): the request's own Host goes on (nginx's default is the upstream block's name),
# X-Forwarded-For gets the client's address, X-Forwarded-Proto and X-Request-Id are set when absent
# (nginx's $request_id: 16 random bytes, as a UUID is). NGINX_ATTEMPTS: the header dietmesh adds to
# every answer it relays to the client.
NGINX_SAME_JOB='proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $same_job_proto; proxy_set_header X-Request-Id $same_job_request_id;'
NGINX_ATTEMPTS='add_header X-Dietmesh-Attempts 1;'
# nginx B describes the verified client to the app, as a sidecar's X-Forwarded-Client-Cert does. nginx
# has no variable for the peer's URI SAN, and its fingerprint is a digest made per request (dietmesh
# hashes a peer's certificate once per connection), so the certificate's serial stands for the hash.
NGINX_XFCC="proxy_set_header X-Forwarded-Client-Cert 'By=spiffe://cluster.local/ns/default/sa/nginx-b;Serial=\$ssl_client_serial;Subject=\"\"';"
# BENCH_NGINX_JOB=plain: the references as they were before (routing only, no header work)
case ${BENCH_NGINX_JOB:-same} in
  same) ;;
  plain) NGINX_SAME_JOB="" NGINX_ATTEMPTS="" NGINX_XFCC="" ;;
  *) echo "BENCH_NGINX_JOB is same or plain, not '$BENCH_NGINX_JOB'" >&2; exit 2 ;;
esac
nginx_upstream() { # name port
  echo "  upstream $1 { server 127.0.0.1:$2; keepalive 64; keepalive_requests 1000000; }"
}

sidecar_nginx_config() { # dir listen-port upstream-port: the nginx row, one reverse proxy
  nginx_config "$1" "$(nginx_upstream bench_upstream "$3")
  server {
    listen 127.0.0.1:$2;
    location / { proxy_pass http://bench_upstream; $NGINX_KEEPALIVE $NGINX_SAME_JOB $NGINX_ATTEMPTS }
  }"
}

gateway_nginx_config() { # dir listen-port upstream-port: the VirtualService's match as nginx says it
  # (host, path prefix, header; else 404), and /nginx-ready for a probe whose Host is not the route's
  nginx_config "$1" "$(nginx_upstream bench_upstream "$3")
  server {
    listen 127.0.0.1:$2 default_server;
    location = /nginx-ready { return 200; }
    location / { return 404; }
  }
  server {
    listen 127.0.0.1:$2;
    server_name $GATEWAY_HOST;
    location /bench/ {
      if (\$http_x_bench_route != v1) { return 404; }
      proxy_pass http://bench_upstream; $NGINX_KEEPALIVE $NGINX_SAME_JOB $NGINX_ATTEMPTS
    }
    location / { return 404; }
  }"
}

mesh_nginx_config() { # dir-a dir-b a-port b-port app-port: nginx A (plain in) -> https with a client
  # certificate, B verified -> nginx B (client certificate required) -> the app; keep-alive and TLS
  # session reuse on both upstream sides; the identities from mesh_identities
  nginx_config "$2" "$(nginx_upstream app "$5")
  server {
    listen 127.0.0.1:$4 ssl;
    ssl_certificate $TMP/nginx-b-id/cert.pem; ssl_certificate_key $TMP/nginx-b-id/key.pem;
    ssl_client_certificate $TMP/ca/root-cert.pem; ssl_verify_client on;
    location / { proxy_pass http://app; $NGINX_KEEPALIVE $NGINX_SAME_JOB $NGINX_XFCC }
  }"
  nginx_config "$1" "$(nginx_upstream mesh_b "$4")
  server {
    listen 127.0.0.1:$3;
    location / {
      proxy_pass https://mesh_b; $NGINX_KEEPALIVE $NGINX_SAME_JOB $NGINX_ATTEMPTS
      proxy_ssl_certificate $TMP/nginx-a-id/cert-chain.pem; proxy_ssl_certificate_key $TMP/nginx-a-id/key.pem;
      proxy_ssl_trusted_certificate $TMP/ca/root-cert.pem; proxy_ssl_verify on; proxy_ssl_name nginx-b.bench;
      proxy_ssl_session_reuse on;
    }
  }"
}

nginx_stream_config() { # dir echo-port listen-port: nginx's stream module relaying TCP, one worker
  mkdir -p "$1"
  echo "load_module /usr/lib/nginx/modules/ngx_stream_module.so;" >"$1/nginx.conf"
  nginx_main "$1"
  cat >>"$1/nginx.conf" <<EOF
stream {
  upstream echo { server 127.0.0.1:$2; }
  server { listen 127.0.0.1:$3; proxy_pass echo; tcp_nodelay on; }
}
EOF
}
