#!/bin/bash
# Captures haproxy 2.6's leastconn choices while connections are held: responders are small
# python servers (s1..s3) that answer their name, after 2 s for /slow. Three /slow requests
# are started 0.2 s apart and held, then quick requests are sent one after the other.
# Output lines: `leastconnload KEY SERVER` (KEY: slowN / fastN). Usage: bash capture_leastconn.sh
set -euo pipefail
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
dir=$(mktemp -d)
pids=()
trap 'kill ${pids[@]+"${pids[@]}"} $(cat "$dir/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
cat >"$dir/srv.py" <<'PY'
import sys, time, http.server, socketserver
name, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/slow'):
            time.sleep(2)
        body = name.encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(('127.0.0.1', port), H).serve_forever()
PY
for i in 1 2 3; do python3 "$dir/srv.py" s$i 1910$i & pids+=($!); done
cat >"$dir/haproxy.cfg" <<CFG
global
  nbthread 1
  pidfile $dir/pid
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  option httpclose
listen leastconnload
  bind 127.0.0.1:18100
  balance leastconn
  server s1 127.0.0.1:19101 weight 1
  server s2 127.0.0.1:19102 weight 1
  server s3 127.0.0.1:19103 weight 2
CFG
"$HAPROXY" -D -f "$dir/haproxy.cfg"
sleep 0.7
for i in 1 2 3 4; do
  ( r=$(curl -s --max-time 5 http://127.0.0.1:18100/slow); echo "leastconnload slow$i $r" > "$dir/slow$i" ) &
  pids+=($!)
  sleep 0.2
done
for i in 1 2 3 4; do echo "leastconnload fast$i $(curl -s --max-time 5 http://127.0.0.1:18100/)"; done
wait "${pids[@]: -4}"
cat "$dir"/slow1 "$dir"/slow2 "$dir"/slow3 "$dir"/slow4
