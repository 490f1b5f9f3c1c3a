"""A loopback reverse proxy that writes every request and response as one JSON line.

Used to record what the real ``mlflow`` client and server say to each other::

    python scripts/recording_proxy.py 5702 http://127.0.0.1:5701 calls.jsonl
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

_LOCK = threading.Lock()
_SKIPPED_HEADERS = {"transfer-encoding", "connection", "content-length", "content-encoding"}


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} binary bytes>"


def make_handler(upstream: str, log_path: str) -> type[BaseHTTPRequestHandler]:
    target = urlparse(upstream)

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "accept-encoding"}
            conn.request(self.command, self.path, body=body, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
            self.send_response(reply.status)
            for key, value in reply.getheaders():
                if key.lower() not in _SKIPPED_HEADERS:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            record = {
                "method": self.command,
                "path": self.path,
                "request": _text(body)[:4000],
                "status": reply.status,
                "response": _text(data)[:4000],
            }
            with _LOCK, open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def main() -> None:
    port, upstream, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ThreadingHTTPServer(("127.0.0.1", port), make_handler(upstream, log_path)).serve_forever()


if __name__ == "__main__":
    main()
