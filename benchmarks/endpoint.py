"""A local AWS endpoint (moto in server mode) that counts the API calls it serves.

``python -m benchmarks.endpoint`` starts moto's WSGI application on 127.0.0.1 (a free port), wrapped
in a middleware that records ``service:Operation`` for every request, and prints the endpoint URL on
its first line of stdout. Counting happens at the HTTP layer, so it sees every call any client makes
(retries and paginated pages included), whatever the collector does internally.

``GET /__bench/calls`` returns the counts as JSON; ``POST /__bench/reset`` clears them. Run it in
its own process so the collector being measured does not share an interpreter (and a GIL) with moto.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


def operation_of(environ: Environ, body: bytes) -> str:
    """``service:Operation`` of a signed AWS request (JSON target header, query Action, or REST path)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = _SCOPE.search(auth)
    service = m.group(1) if m else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return f"{service}:{action[0]}"
    return f"{service}:{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '')}"


class CountingApp:
    """WSGI middleware: counts operations, serves ``/__bench/*``, passes everything else to moto."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__bench/"):
            if path == "/__bench/reset":
                with self.lock:
                    self.calls.clear()
            with self.lock:
                payload = json.dumps(dict(sorted(self.calls.items()))).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [payload]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        op = operation_of(environ, body)
        with self.lock:
            self.calls[op] += 1
        return self.app(environ, start_response)


def main() -> int:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = CountingApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
