"""A real HTTP Kubernetes API server for tests: kmock 0.8 in its own thread, plus a small shim.

The official ``kubernetes`` client is synchronous, so the server runs in a background thread with its
own event loop (running it in the test's loop deadlocks). ``PatchedEmulator`` fills the gaps of raw
kmock 0.8 that the client trips over or that collection depends on:

* list responses carry ``kind``/``apiVersion``; items of built-in kinds do not (as on a real server);
* ``labelSelector``/``fieldSelector`` with equality terms (``=``, ``==``, ``!=``, ``key``, ``!key``);
* ``limit``/``continue`` pagination with an opaque continue token;
* ``Accept: ...;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` served as metadata only;
* ``/version/`` (the client adds a trailing slash) and ``/api/v1/namespaces[/name]`` URL parsing;
* bearer-token authentication (401 for a rejected token, 403 ``system:anonymous`` without one) and
  per-resource 403s, to exercise the collector's error paths;
* ``list_hooks``: per resource plural, a function that rewrites each list page before it is sent (a
  body that is not JSON, a ``continue`` token that never ends, ``items`` that is not a list).

Seed objects with :meth:`ThreadedKMock.seed` (from their ``apiVersion``/``kind``) and declare CRDs with
:meth:`ThreadedKMock.declare_crd`. Every request is kept in ``emulator.requests`` for assertions.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import kmock
import yaml
from kmock._internal import parsing, rendering

PARTIAL_METADATA = "as=PartialObjectMetadataList"
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "rbac.authorization.k8s.io"})

_original_parse_path = parsing.parse_path


def _parse_path(path: str) -> parsing.ParsedPath:
    """kmock 0.8 reads ``/api/v1/namespaces[/name]`` as a namespace prefix and fails; fix that one case."""
    parts = path.strip("/").split("/")
    if len(parts) in (3, 4) and parts[:3] == ["api", "v1", "namespaces"]:
        return parsing.ParsedPath(
            group="", version="v1", plural="namespaces", name=parts[3] if len(parts) == 4 else None
        )
    return _original_parse_path(path)


parsing.parse_path = _parse_path


def _field(obj: Mapping[str, Any], dotted: str) -> str | None:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return None if value is None else str(value)


def _matches(selector: str, lookup: Callable[[str], str | None]) -> bool:
    """Equality-based selector terms joined by commas (set-based terms are not supported)."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if lookup(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if lookup(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if lookup(term[1:]) is not None:
                return False
        elif lookup(term) is None:
            return False
    return True


@attrs.define(kw_only=True)
class PatchedEmulator(kmock.KubernetesEmulator):
    """kmock's Kubernetes emulator with the behaviour the official client and the collector need."""

    tokens: set[str] | None = None
    """Accepted bearer tokens; None turns authentication off."""
    denied: set[str] = attrs.field(factory=set)
    """Resource plurals (``rolebindings``) every request for which is answered 403."""
    list_hooks: dict[str, Callable[[dict[str, Any]], Any]] = attrs.field(factory=dict)
    """Resource plural -> page -> what is sent instead (a dict is sent as JSON, bytes as they are); an
    async hook is awaited (``asyncio.sleep`` in it delays the answer without stopping the server)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.fallback["get /version/"] << self._serve_server_version

    @property
    def requests(self) -> list[rendering.Request]:
        return list(self)

    async def _handle(self, request: rendering.Request) -> Any:
        if self.tokens is not None:
            auth = request.headers.get("Authorization") or request.headers.get("authorization")
            if not auth:
                if request.resource is not None:
                    raise kmock.KubernetesError(
                        status=403,
                        reason="Forbidden",
                        message=f'{request.resource.plural} is forbidden: User "system:anonymous" cannot '
                        f'list resource "{request.resource.plural}" at the cluster scope',
                        details={"kind": request.resource.plural},
                    )
            elif auth.removeprefix("Bearer ").strip() not in self.tokens:
                raise kmock.KubernetesError(status=401, reason="Unauthorized", message="Unauthorized", details={})
        if request.resource is not None and request.resource.plural in self.denied:
            raise kmock.KubernetesError(
                status=403,
                reason="Forbidden",
                message=f'{request.resource.plural} is forbidden: User "tester" cannot list resource '
                f'"{request.resource.plural}" in API group "{request.resource.group}" at the cluster scope',
                details={"kind": request.resource.plural},
            )
        return await super()._handle(request)

    async def _serve_list(self, request: rendering.Request) -> Any:
        result = await super()._serve_list(request)
        assert request.resource is not None
        group, version, plural = request.resource.group, request.resource.version, request.resource.plural
        items = [dict(item) for item in result["items"]]
        labels = request.params.get("labelSelector")
        if labels:
            items = [
                i for i in items if _matches(labels, lambda k, i=i: (i.get("metadata", {}).get("labels") or {}).get(k))
            ]
        fields = request.params.get("fieldSelector")
        if fields:
            items = [i for i in items if _matches(fields, lambda k, i=i: _field(i, k))]
        items.sort(key=lambda i: (i.get("metadata", {}).get("namespace") or "", i.get("metadata", {}).get("name", "")))

        start = 0
        token = request.params.get("continue")
        if token:
            start = int(json.loads(base64.b64decode(token))["offset"])
        metadata: dict[str, Any] = {"resourceVersion": "1"}
        limit = request.params.get("limit")
        end = len(items) if not limit else start + int(limit)
        if end < len(items):
            metadata["continue"] = base64.b64encode(json.dumps({"offset": end}).encode()).decode()
            metadata["remainingItemCount"] = len(items) - end
        page = items[start:end]

        api_version = f"{group}/{version}" if group else version
        answer: dict[str, Any]
        if PARTIAL_METADATA in request.headers.get("Accept", ""):
            answer = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
                "items": [
                    {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": i.get("metadata", {})}
                    for i in page
                ],
            }
        else:
            if group in BUILTIN_GROUPS:  # a real API server leaves kind/apiVersion off built-in list items
                page = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in page]
            info = self.resources.get(request.resource)
            kind = info.kind if info is not None and info.kind else (plural or "").capitalize()
            answer = {"kind": f"{kind}List", "apiVersion": api_version, "metadata": metadata, "items": page}
        hook = self.list_hooks.get(plural or "")
        if hook is None:
            return answer
        result = hook(answer)
        return await result if inspect.isawaitable(result) else result


# apiVersion/kind -> (resource key, namespaced) for seeding
_BUILTIN_RESOURCES: dict[tuple[str, str], tuple[str, bool]] = {
    ("v1", "Namespace"): ("v1/namespaces", False),
    ("v1", "ServiceAccount"): ("v1/serviceaccounts", True),
    ("v1", "Secret"): ("v1/secrets", True),
    ("v1", "Pod"): ("v1/pods", True),
    ("v1", "ReplicationController"): ("v1/replicationcontrollers", True),
    ("apps/v1", "Deployment"): ("apps/v1/deployments", True),
    ("apps/v1", "StatefulSet"): ("apps/v1/statefulsets", True),
    ("apps/v1", "DaemonSet"): ("apps/v1/daemonsets", True),
    ("apps/v1", "ReplicaSet"): ("apps/v1/replicasets", True),
    ("batch/v1", "Job"): ("batch/v1/jobs", True),
    ("batch/v1", "CronJob"): ("batch/v1/cronjobs", True),
    ("rbac.authorization.k8s.io/v1", "Role"): ("rbac.authorization.k8s.io/v1/roles", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ("rbac.authorization.k8s.io/v1/clusterroles", False),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("rbac.authorization.k8s.io/v1/rolebindings", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): ("rbac.authorization.k8s.io/v1/clusterrolebindings", False),
}

# (group, kind) -> (plural, namespaced) for the custom resources the collector reads
CRDS: dict[tuple[str, str], tuple[str, bool]] = {
    ("kubernetes-client.io", "ExternalSecret"): ("externalsecrets", True),
    ("external-secrets.io", "ExternalSecret"): ("externalsecrets", True),
    ("external-secrets.io", "SecretStore"): ("secretstores", True),
    ("external-secrets.io", "ClusterSecretStore"): ("clustersecretstores", False),
    ("external-secrets.io", "ClusterExternalSecret"): ("clusterexternalsecrets", False),
    ("external-secrets.io", "PushSecret"): ("pushsecrets", True),
    ("secrets-store.csi.x-k8s.io", "SecretProviderClass"): ("secretproviderclasses", True),
}


class ThreadedKMock:
    """Runs a :class:`PatchedEmulator` on 127.0.0.1 (a free port) in a thread with its own event loop."""

    def __init__(self) -> None:
        self.emulator = PatchedEmulator()
        self.emulator.resources.load_bundled()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._url: str | None = None
        self._thread = threading.Thread(target=self._run, name="kmock", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with self.emulator, kmock.Server(self.emulator, host="127.0.0.1") as server:
            self._url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def start(self) -> ThreadedKMock:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError(f"kmock did not start: {self._error!r}") from self._error
        return self

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join()

    @property
    def url(self) -> str:
        assert self._url is not None, "server not started"
        return self._url

    def _in_loop(self, fn: Callable[[], None]) -> None:
        """Run a mutation of the emulator's state in its own thread, between requests."""

        async def call() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(call(), self._loop).result()

    def reset(self) -> None:
        """Forget objects, requests, CRDs, denials and tokens (the bundled built-in resources stay)."""

        def wipe() -> None:
            self.emulator.objects.clear()
            self.emulator._requests.clear()
            self.emulator.resources.clear()
            self.emulator.resources.load_bundled()
            self.emulator.denied.clear()
            self.emulator.list_hooks.clear()
            self.emulator.tokens = None

        self._in_loop(wipe)

    def hook_list(self, plural: str, hook: Callable[[dict[str, Any]], Any]) -> None:
        """Rewrite every list page of ``plural`` with ``hook`` (see ``PatchedEmulator.list_hooks``)."""

        def install() -> None:
            self.emulator.list_hooks[plural] = hook

        self._in_loop(install)

    def declare_crd(self, group: str, version: str, kind: str) -> None:
        plural, namespaced = CRDS[(group, kind)]
        info = kmock.ResourceInfo(kind=kind, namespaced=namespaced, verbs={"list", "get", "watch"})

        def declare() -> None:
            self.emulator.resources[f"{group}/{version}/{plural}"] = info

        self._in_loop(declare)

    def seed(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Store objects as the API server would serve them, keyed by their apiVersion/kind."""
        prepared = []
        for obj in objects:
            api_version, kind = obj["apiVersion"], obj["kind"]
            meta = obj.get("metadata", {})
            if (api_version, kind) in _BUILTIN_RESOURCES:
                key, namespaced = _BUILTIN_RESOURCES[(api_version, kind)]
            else:
                group, version = api_version.split("/")
                plural, namespaced = CRDS[(group, kind)]
                key = f"{group}/{version}/{plural}"
            namespace = (meta.get("namespace") or "default") if namespaced else None
            stored = json.loads(json.dumps(dict(obj)))
            if namespaced:
                stored["metadata"]["namespace"] = namespace
            prepared.append(((key, namespace, meta["name"]), stored))

        def store() -> None:
            for key, stored in prepared:
                self.emulator.objects[key] = stored

        self._in_loop(store)

    def seed_yaml(self, text: str) -> None:
        self.seed(d for d in yaml.safe_load_all(text) if d)

    def write_kubeconfig(
        self,
        path: Path,
        *,
        contexts: Mapping[str, Mapping[str, Any]] | None = None,
        current: str | None = None,
    ) -> Path:
        """A kubeconfig whose contexts all point at this server; ``contexts`` maps a name to its user entry."""
        contexts = contexts or {"kmock": {"token": "valid-token"}}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kmock", "cluster": {"server": self.url}}],
            "users": [{"name": name, "user": dict(user)} for name, user in contexts.items()],
            "contexts": [{"name": name, "context": {"cluster": "kmock", "user": name}} for name in contexts],
            "current-context": current or next(iter(contexts)),
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path
