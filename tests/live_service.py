"""Real HTTP servers on loopback for the service's tests: the service itself under uvicorn (for
clients that need a URL, such as SPARQLWrapper), and a stand-in remote SPARQL endpoint that counts
what it receives."""

from __future__ import annotations

import http.server
import json
import threading
import time
from contextlib import contextmanager

import uvicorn

from test_store_backends import free_port


@contextmanager
def serving(app):
    """The app served by uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class RemoteEndpoint:
    """A SPARQL endpoint on loopback that answers every request with one solution (?remote =
    "from the remote endpoint"), or, when `failing`, a 500 whose body must never be echoed."""

    SECRET = "internal-only: admin password hunter2"
    SOLUTION = {"head": {"vars": ["remote"]},
                "results": {"bindings": [{"remote": {"type": "literal", "value": "from the remote endpoint"}}]}}

    def __init__(self):
        self.requests: list[str] = []
        self.failing = False
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                endpoint.requests.append(f"{self.command} {self.path} {self.rfile.read(length)!r}")
                status, media_type = ((500, "text/plain") if endpoint.failing
                                      else (200, "application/sparql-results+json"))
                body = (endpoint.SECRET if endpoint.failing else json.dumps(endpoint.SOLUTION)).encode()
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sparql"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
