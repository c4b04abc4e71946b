"""An HTTP server on loopback that serves images with injected faults, for the remote-image tests.

Each path is one behaviour (``FAULTS``); ``/img/<name>.png`` serves an image that always works. The
server counts the requests each path received, so a test can tell a retry from a single attempt and
a cached image from a fetched one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# path -> behaviour, read by the handler below (the test's fault table names the same paths)
FAULTS = {
    "/missing.png": "404 every time",
    "/forbidden.png": "403 every time",
    "/flaky.png": "500 once, then the image",
    "/down.png": "503 every time",
    "/ratelimited.png": "429 with Retry-After: 0 once, then the image",
    "/slow.png": "no answer within the timeout, every time",
    "/slow-once.png": "no answer within the timeout once, then the image",
    "/truncated.png": "half the declared Content-Length, every time",
    "/truncated-once.png": "half the declared Content-Length once, then the image",
    "/redirect.png": "302 to /img/redirected.png",
    "/not-an-image.png": "200 with text",
}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout, truncated read) breaks the pipe: expected here


class FaultServer:
    """``with FaultServer(images, slow_s) as srv: srv.url("/flaky.png")``; ``srv.hits[path]``."""

    def __init__(self, image: bytes, slow_s: float) -> None:
        self.image = image
        self.slow_s = slow_s
        self.hits: Counter[str] = Counter()
        self.auth: dict[str, str] = {}  # path -> the Authorization header it was asked with
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _count(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            return self.hits[path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _truncated(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(server.image)))
                self.end_headers()
                self.wfile.write(server.image[: len(server.image) // 2])
                self.wfile.flush()
                self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                path = self.path
                n = server._count(path)
                if self.headers.get("Authorization"):
                    server.auth[path] = self.headers["Authorization"]
                image = server.image
                if path.startswith("/img/"):
                    self._send(200, image, {"Content-Type": "image/png"})
                elif path == "/missing.png":
                    self._send(404, b"not found")
                elif path == "/forbidden.png":
                    self._send(403, b"forbidden")
                elif path == "/flaky.png":
                    self._send(500, b"oops") if n == 1 else self._send(200, image)
                elif path == "/down.png":
                    self._send(503, b"down")
                elif path == "/ratelimited.png":
                    self._send(429, b"slow down", {"Retry-After": "0"}) if n == 1 else self._send(200, image)
                elif path in ("/slow.png", "/slow-once.png"):
                    if path == "/slow.png" or n == 1:
                        time.sleep(server.slow_s)
                    self._send(200, image)
                elif path == "/truncated.png" or (path == "/truncated-once.png" and n == 1):
                    self._truncated()
                elif path == "/truncated-once.png":
                    self._send(200, image)
                elif path == "/redirect.png":
                    self._send(302, b"", {"Location": "/img/redirected.png"})
                elif path == "/not-an-image.png":
                    self._send(200, b"<html>hello</html>", {"Content-Type": "text/html"})
                else:
                    self._send(404, b"no such fault")

        return Handler
