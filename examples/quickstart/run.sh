#!/usr/bin/env bash
# Fulcrum quickstart: two tiny upstreams on 127.0.0.1:8081/8082 and Fulcrum
# in front of them (HTTP on :8080, TCP on :8443), all in the foreground.
#
#   examples/quickstart/run.sh
#   curl http://127.0.0.1:8080/          # -> upstream-1, then upstream-2, ...
#   curl http://127.0.0.1:8080/healthz   # -> 200 from the proxy itself
#   curl http://127.0.0.1:8443/          # -> same upstreams through TCP mode
#
# Env:
#   FULCRUM_BIN  run this binary instead of `cargo run --release -p fulcrum`
#                (e.g. FULCRUM_BIN=haproxy: the config is plain HAProxy 2.6)
#   PYTHON       python interpreter for the upstreams (default python3)
#
# Ctrl-C (or SIGTERM to this script) stops the proxy and both upstreams.
# The proxy runs as a child rather than via `exec`, because `exec` would drop
# the cleanup trap; the upstreams additionally exit on their own if this
# script dies without running it (e.g. kill -9).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

cfg=examples/quickstart/fulcrum.cfg
python=${PYTHON:-python3}

pids=()
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

for port in 8080 8081 8082 8443; do
    if port_open "$port"; then
        echo "run.sh: 127.0.0.1:$port is already in use; stop whatever listens there first" >&2
        exit 1
    fi
done

"$python" examples/quickstart/upstream.py --name upstream-1 --port 8081 --parent $$ &
pids+=($!)
"$python" examples/quickstart/upstream.py --name upstream-2 --port 8082 --parent $$ &
pids+=($!)

for port in 8081 8082; do
    for _ in $(seq 100); do
        port_open "$port" && break
        sleep 0.05
    done
    port_open "$port" || { echo "run.sh: upstream on :$port did not start" >&2; exit 1; }
done

if [ -n "${FULCRUM_BIN:-}" ]; then
    proxy=("$FULCRUM_BIN" -f "$cfg")
else
    proxy=(cargo run --release -p fulcrum -- -f "$cfg")
fi
echo "run.sh: starting: ${proxy[*]}" >&2
echo "run.sh: try: curl http://127.0.0.1:8080/  |  curl http://127.0.0.1:8080/healthz  |  curl http://127.0.0.1:8443/" >&2

"${proxy[@]}" &
pids+=($!)
status=0
wait "${pids[-1]}" || status=$?
exit "$status"
