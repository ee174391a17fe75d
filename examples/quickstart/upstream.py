#!/usr/bin/env python3
"""Tiny HTTP upstream for the Fulcrum quickstart (stdlib only).

Answers every GET/HEAD with its own name, so round-robin is visible:

    python3 upstream.py --name upstream-1 --port 8081

With --parent PID it also exits on its own once that process is gone
(belt and braces next to run.sh's trap, e.g. after a `kill -9`).
"""

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(name):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real upstream
        server_version = "fulcrum-quickstart-upstream"

        def _answer(self, with_body):
            xff = self.headers.get("X-Forwarded-For")
            body = f"{name}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Upstream", name)
            if xff:
                self.send_header("X-Seen-Forwarded-For", xff)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (stdlib naming)
            self._answer(True)

        def do_HEAD(self):  # noqa: N802
            self._answer(False)

        def log_message(self, fmt, *args):
            if os.environ.get("UPSTREAM_VERBOSE"):
                sys.stderr.write(f"[{name}] {fmt % args}\n")

    return Handler


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Proxies close idle upstream connections, often with a reset: not news.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--parent", type=int, help="exit when this PID is gone")
    args = ap.parse_args()

    server = Server((args.host, args.port), make_handler(args.name))
    if args.parent:
        threading.Thread(target=watch_parent, args=(args.parent,), daemon=True).start()
    print(f"{args.name} listening on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
