"""Stands in for `kubectl port-forward` in the port-forward helper's own tests.

It listens on a free local port, prints kubectl's "Forwarding from" lines, answers every HTTP
request with 200 (or, while the file named by FAKE_KUBECTL_HANG exists, never answers: a
half-dead tunnel), and prints kubectl's "lost connection to pod" line and exits when the file
named by FAKE_KUBECTL_DIE appears.
"""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        hang = os.environ.get("FAKE_KUBECTL_HANG", "")
        if hang and os.path.exists(hang):
            time.sleep(30)
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    remote = sys.argv[sys.argv.index("port-forward") + 2].lstrip(":")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Forwarding from 127.0.0.1:{port} -> {remote}", flush=True)
    print(f"Forwarding from [::1]:{port} -> {remote}", flush=True)
    die = os.environ.get("FAKE_KUBECTL_DIE", "")
    while not (die and os.path.exists(die)):
        time.sleep(0.05)
    server.shutdown()
    print("E0101 00:00:00.000000 1 portforward.go:413] lost connection to pod", flush=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
