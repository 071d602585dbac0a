"""A small forwarding proxy in front of the moto server, for what moto cannot show by itself.

It sees every request at the HTTP layer, so it can (a) record each AWS operation actually sent (from
``X-Amz-Target``, the ``Action=`` form field, or the REST path matched against botocore's service
model), (b) answer chosen service / region / operation combinations with a proper AWS error body in the
service's protocol (AccessDenied, a region that is not enabled), and (c) rewrite responses (page a
listing moto returns whole, hide an entry from a dump). stdlib only; binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

_BOTOCORE = botocore.session.get_session()
_MODELS: dict[str, object] = {}
_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def service_model(service: str):  # type: ignore[no-untyped-def]
    if service not in _MODELS:
        _MODELS[service] = _BOTOCORE.get_service_model(service)
    return _MODELS[service]


def _rest_operation(service: str, method: str, path: str) -> str:
    """The operation whose HTTP method and request URI template match (REST protocols)."""
    model = service_model(service)
    best: tuple[int, str] | None = None
    for name in model.operation_names:  # type: ignore[attr-defined]
        http_ = model.operation_model(name).http  # type: ignore[attr-defined]
        if http_.get("method") != method:
            continue
        template = http_["requestUri"].split("?")[0]
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$"
        if re.match(pattern, path):
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            if best is None or literal > best[0]:
                best = (literal, name)
    return best[1] if best else f"<unknown {method} {path}>"


@dataclass(frozen=True)
class Call:
    service: str
    region: str
    operation: str
    params: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ErrorRule:
    """Answer matching requests with an AWS error instead of forwarding them (None matches anything)."""

    code: str
    message: str
    status: int = 400
    service: str | None = None
    region: str | None = None
    operation: str | None = None
    params: Mapping[str, object] | None = None
    """Request parameters that must all be present with these values (e.g. one ``SecretId``)."""

    def matches(self, call: Call) -> bool:
        return all(
            want is None or want == got
            for want, got in (
                (self.service, call.service),
                (self.region, call.region),
                (self.operation, call.operation),
            )
        ) and all(call.params.get(k) == v for k, v in (self.params or {}).items())


ResponseHook = Callable[[Call, dict[str, object], bytes], bytes]
"""(call, request params, moto's body) -> body to return."""


def error_body(service: str, code: str, message: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of an AWS error response in the service's wire protocol."""
    protocol = service_model(service).protocol  # type: ignore[attr-defined]
    if protocol == "json":
        return {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"__type": code, "message": message}).encode()
    if protocol == "rest-json":
        return {"Content-Type": "application/json", "x-amzn-ErrorType": code}, json.dumps({"message": message}).encode()
    if protocol == "ec2":
        body = f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>proxy</RequestID></Response>"
        return {"Content-Type": "text/xml"}, body.encode()
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>proxy</RequestId></ErrorResponse>"
    )
    return {"Content-Type": "text/xml"}, body.encode()


class AwsProxy:
    """Forwards to ``upstream`` (host, port), recording calls and applying rules and hooks."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.calls: list[Call] = []
        self.rules: list[ErrorRule] = []
        self.hooks: dict[tuple[str, str], ResponseHook] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                call, params = proxy.parse(self.command, self.path, dict(self.headers), body)
                with proxy._lock:
                    proxy.calls.append(call)
                rule = next((r for r in proxy.rules if r.matches(call)), None)
                if rule is not None:
                    headers, payload = error_body(call.service, rule.code, rule.message)
                    self._reply(rule.status, headers, payload)
                    return
                hook = proxy.hooks.get((call.service, call.operation))
                forwarded = body
                if hook is not None and ("Limit" in params or "Marker" in params):
                    # the pager hook pages moto's whole answer itself: ask moto for everything
                    forwarded = json.dumps({k: v for k, v in params.items() if k not in ("Limit", "Marker")}).encode()
                status, headers, payload = proxy.forward(self.command, self.path, dict(self.headers), forwarded)
                if hook is not None and status == 200:
                    payload = hook(call, params, payload)
                self._reply(status, headers, payload)

            def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="aws-proxy", daemon=True)

    def start(self) -> AwsProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def parse(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[Call, dict[str, object]]:
        found = _CREDENTIAL.search(headers.get("Authorization", ""))
        region, service = (found.group(1), found.group(2)) if found else ("?", "?")
        params = _params(headers, body)
        target = headers.get("X-Amz-Target")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif "Action" in params:
            operation = str(params["Action"])
        elif service != "?":
            operation = _rest_operation(service, method, urllib.parse.urlsplit(path).path)
        else:
            operation = f"<unsigned {method} {path}>"
        return Call(service=service, region=region, operation=operation, params=params), params

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            send = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "connection")}
            send["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=send)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def operations(self) -> set[tuple[str, str]]:
        with self._lock:
            return {(c.service, c.operation) for c in self.calls}


def _params(headers: object, body: bytes) -> dict[str, object]:
    if not body:
        return {}
    content_type = str(getattr(headers, "get", lambda *_: "")("Content-Type") or "")
    if "x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def page_json_listing(items_key: str, marker_out: str = "NextMarker") -> ResponseHook:
    """Make a JSON listing moto returns whole honour ``Limit``/``Marker`` (KMS style)."""

    def hook(call: Call, params: dict[str, object], body: bytes) -> bytes:
        data = json.loads(body)
        items = data.get(items_key, [])
        start = int(str(params.get("Marker") or 0))
        limit = int(str(params.get("Limit") or len(items) or 1))
        page = items[start : start + limit]
        data[items_key] = page
        more = start + limit < len(items)
        data["Truncated"] = more
        data.pop(marker_out, None)
        if more:
            data[marker_out] = str(start + limit)
        return json.dumps(data).encode()

    return hook


def hide_gaad_policy(arn: str) -> ResponseHook:
    """Remove one managed policy from a GetAccountAuthorizationDetails response (as AWS omits some)."""

    def hook(call: Call, params: dict[str, object], body: bytes) -> bytes:
        root = ET.fromstring(body)
        for parent in root.iter():
            if parent.tag.endswith("Policies"):
                for member in list(parent):
                    if any(child.tag.endswith("Arn") and child.text == arn for child in member):
                        parent.remove(member)
        return ET.tostring(root)

    return hook
