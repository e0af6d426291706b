"""The explorer over HTTP: the standard library's ``ThreadingHTTPServer``, JSON endpoints and
the page's static files, on 127.0.0.1.

``GET /``                       the page (``static/index.html``)
``GET /static/NAME``            one of the page's files; nothing else on disk can be read
``GET /api/model``              the model: name, parameters, lanes, properties
``GET /api/state?init=I&path=P`` the state at a path: its tables, enabled actions, properties
``POST /api/trace``             a saved trace (JSON) in the body: the ``init`` and ``path``
                                that replay it
``GET /api/check?property=NAME`` a breadth-first check (NAME: one property, default every
                                safety property): the verdict, and the path of the shortest
                                counterexample or of NAME's example

A bad request gets a 4xx and ``{"error": "one line"}``; never a traceback.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from .core import BadRequest, Explorer, parse_index, parse_path

HOST = "127.0.0.1"
MAX_BODY = 20_000_000
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}


def _assets() -> dict[str, tuple[bytes, str]]:
    """The static files, read once: name -> (bytes, content type)."""
    out = {}
    for entry in resources.files(__package__).joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in TYPES:
            out[entry.name] = (entry.read_bytes(), TYPES[suffix])
    return out


class Handler(BaseHTTPRequestHandler):
    server_version = "kafkacheck-explorer"
    explorer: Explorer
    assets: dict

    def log_message(self, format, *args):  # quiet: the terminal shows the URL, not each hit
        pass

    def _send(self, status: int, body: bytes, ctype: str):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj):
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _error(self, status: int, message: str):
        self._json(status, {"error": " ".join(str(message).split())})

    def _guarded(self, fn):
        try:
            fn()
        except BadRequest as e:
            self._error(400, str(e))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug: one line to the page, never a traceback
            self._error(500, f"internal error: {type(e).__name__}: {e}")

    def do_GET(self):
        self._guarded(self._get)

    do_HEAD = do_GET

    def do_POST(self):
        self._guarded(self._post)

    def _get(self):
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            body, ctype = self.assets["index.html"]
            return self._send(200, body, ctype)
        if url.path.startswith("/static/"):
            hit = self.assets.get(url.path[len("/static/"):])
            if hit is None:
                return self._error(404, f"no such file: {url.path}")
            return self._send(200, *hit)
        query = parse_qs(url.query, keep_blank_values=True)
        one = lambda k: query.get(k, [None])[-1]  # noqa: E731
        if url.path == "/api/model":
            return self._json(200, self.explorer.describe())
        if url.path == "/api/state":
            init = parse_index(one("init"), "init")
            return self._json(200, self.explorer.view(init, parse_path(one("path"))))
        if url.path == "/api/check":
            return self._json(200, self.explorer.run_check(one("property") or None))
        self._error(404, f"no such page: {url.path}")

    def _post(self):
        url = urlsplit(self.path)
        if url.path != "/api/trace":
            return self._error(404, f"no such endpoint: POST {url.path}")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if length <= 0 or length > MAX_BODY:
            raise BadRequest(f"send the trace as the request body (1..{MAX_BODY} bytes)")
        raw = self.rfile.read(length)
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"the trace is not JSON: {e}") from None
        self._json(200, self.explorer.path_of_trace(doc))


def make_server(explorer: Explorer, port: int = 0, host: str = HOST) -> ThreadingHTTPServer:
    """A server for ``explorer`` bound to ``host:port`` (port 0: a free one); call
    ``serve_forever()`` on it, and ``shutdown()`` from another thread to stop it."""
    handler = type("ExplorerHandler", (Handler,), {"explorer": explorer, "assets": _assets()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def url_of(server, init: int = 0, path=()) -> str:
    host, port = server.server_address[:2]
    query = ""
    if init or path:
        query = f"?init={init}&path={','.join(map(str, path))}"
    return f"http://{host}:{port}/{query}"
