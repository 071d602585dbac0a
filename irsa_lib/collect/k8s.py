"""Kubernetes records from a live cluster, through the official ``kubernetes`` client.

Each call opens its own API client for one kubeconfig context (several clusters can be collected in
one run), lists every kind in :data:`irsa_lib.collect.k8s_parse.KINDS` across all namespaces with
``limit``/``continue`` pagination, and hands each object to the same parser the manifest loader uses.

What is never read: Secrets are listed as ``PartialObjectMetadataList`` (the ``Accept`` header asks
the API server for metadata only), so no secret value crosses the wire; a server that ignores the
request gets its Secret listing discarded unread and recorded as failed. The Secret type is not part
of metadata: it is filled from metadata-only listings filtered by ``fieldSelector=type=...`` for
the types in :data:`SECRET_TYPES_BY_SELECTOR`, and left unknown (None) otherwise.

Failures: a kind the server does not serve (a CRD not installed) is ``absent``; 403 on a kind is
``denied``; an answer that is not a JSON object, or breaks off, is ``failed`` for that kind; collection
continues with the other kinds. An unknown context, an unreachable server, or rejected or missing
credentials raise :class:`CollectionError`, since nothing can be collected then.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from irsa_lib.collect.errors import CollectionError
from irsa_lib.collect.k8s_parse import KINDS, KindSpec, ObjectError, RecordSet, parse_object
from irsa_lib.collect.k8s_parse.core import SA_NAME_ANNOTATION
from irsa_lib.model import Coverage, CoverageStatus
from irsa_lib.snapshot import Snapshot

DEFAULT_PAGE_SIZE = 500
DEFAULT_MAX_PAGES = 1000
"""Pages of one listing before it is given up (500,000 objects of one kind at the default page size):
a server that keeps sending a new ``continue`` token must not keep the collection going forever."""
PARTIAL_METADATA_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
SECRET_TYPES_BY_SELECTOR: tuple[str, ...] = ("Opaque", "kubernetes.io/service-account-token")
DEFAULT_REQUEST_TIMEOUT = 30.0
"""Seconds to wait for an answer to one list request (one page of at most ``page_size`` objects)."""
CONNECT_TIMEOUT = 10.0

# The typed list call of each built-in kind (across all namespaces).
_BUILTIN_LISTS: dict[str, tuple[type, str]] = {
    "namespaces": (client.CoreV1Api, "list_namespace"),
    "serviceaccounts": (client.CoreV1Api, "list_service_account_for_all_namespaces"),
    "secrets": (client.CoreV1Api, "list_secret_for_all_namespaces"),
    "pods": (client.CoreV1Api, "list_pod_for_all_namespaces"),
    "replicationcontrollers": (client.CoreV1Api, "list_replication_controller_for_all_namespaces"),
    "deployments.apps": (client.AppsV1Api, "list_deployment_for_all_namespaces"),
    "statefulsets.apps": (client.AppsV1Api, "list_stateful_set_for_all_namespaces"),
    "daemonsets.apps": (client.AppsV1Api, "list_daemon_set_for_all_namespaces"),
    "replicasets.apps": (client.AppsV1Api, "list_replica_set_for_all_namespaces"),
    "jobs.batch": (client.BatchV1Api, "list_job_for_all_namespaces"),
    "cronjobs.batch": (client.BatchV1Api, "list_cron_job_for_all_namespaces"),
    "roles.rbac.authorization.k8s.io": (client.RbacAuthorizationV1Api, "list_role_for_all_namespaces"),
    "clusterroles.rbac.authorization.k8s.io": (client.RbacAuthorizationV1Api, "list_cluster_role"),
    "rolebindings.rbac.authorization.k8s.io": (client.RbacAuthorizationV1Api, "list_role_binding_for_all_namespaces"),
    "clusterrolebindings.rbac.authorization.k8s.io": (client.RbacAuthorizationV1Api, "list_cluster_role_binding"),
}

Page = Mapping[str, Any]
Fetch = Callable[[str | None], Page]
"""Fetch one page of a list, given the continue token (None for the first page)."""


@dataclass(frozen=True)
class _Cluster:
    """An open connection to one context's API server."""

    api: client.ApiClient
    context: str
    kubeconfig: str
    max_pages: int = DEFAULT_MAX_PAGES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds for each request."""
        return min(CONNECT_TIMEOUT, self.request_timeout), self.request_timeout

    @property
    def where(self) -> str:
        return f"API server {self.api.configuration.host} (context {self.context!r})"


def collect_kubernetes(
    *,
    cluster: str,
    context: str | None = None,
    kubeconfig: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> Snapshot:
    """Records of every kind the analysis reads, from one kubeconfig context, with their coverage.

    ``cluster`` is the EKS cluster name this context reaches (its ServiceAccounts meet that cluster's
    OIDC issuer); ``context`` defaults to the kubeconfig's current context and ``kubeconfig`` to
    ``$KUBECONFIG`` or ``~/.kube/config``. A listing that repeats a ``continue`` token or runs past
    ``max_pages`` pages is stopped and recorded as failed; a request unanswered after ``request_timeout``
    seconds (tried twice) leaves its kind unreachable. Raises CollectionError when nothing can be collected.
    """
    conn = dataclasses.replace(_connect(context, kubeconfig), max_pages=max_pages, request_timeout=request_timeout)
    try:
        return _collect(conn, cluster, page_size)
    finally:
        conn.api.close()


def _connect(context: str | None, kubeconfig: str | None) -> _Cluster:
    path = kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    if not any(os.path.isfile(os.path.expanduser(p)) for p in path.split(os.pathsep) if p):
        raise CollectionError(f"kubeconfig {path}: no such file")
    try:
        contexts, current = config.list_kube_config_contexts(config_file=path)
    except ConfigException as exc:
        raise CollectionError(f"kubeconfig {path}: {exc}") from None
    except (OSError, ValueError) as exc:  # unreadable or malformed YAML
        raise CollectionError(f"kubeconfig {path}: cannot be read: {exc}") from None
    names = [c.get("name") for c in contexts or []]
    chosen = context or (current or {}).get("name")
    if not chosen:
        raise CollectionError(f"kubeconfig {path}: no current context; name one of: {', '.join(names) or '(none)'}")
    if chosen not in names:
        raise CollectionError(
            f"kubeconfig {path}: no context named {chosen!r} (available: {', '.join(map(str, names)) or 'none'})"
        )
    configuration = type.__call__(client.Configuration)  # a fresh one, not a copy of the process default
    configuration.retries = 1
    try:
        api = config.new_client_from_config(
            config_file=path, context=chosen, persist_config=False, client_configuration=configuration
        )
    except ConfigException as exc:
        raise CollectionError(f"kubeconfig {path}, context {chosen!r}: {exc}") from None
    return _Cluster(api=api, context=chosen, kubeconfig=path)


# --- listing --------------------------------------------------------------------------------------


class _Unavailable(Exception):
    """A kind that could not be listed; ``status`` is its coverage status."""

    def __init__(self, status: CoverageStatus, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
        message = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    return f"HTTP {exc.status} {exc.reason}" + (f": {message}" if message else "")


def _call(conn: _Cluster, fetch: Fetch, token: str | None) -> Page:
    """One list request; errors that make the whole cluster uncollectable raise CollectionError."""
    try:
        page = fetch(token)
    except ApiException as exc:
        message = _status_message(exc)
        if exc.status == 401:
            raise CollectionError(
                f"{conn.where} rejected the credentials ({message}); the token may be expired or invalid: "
                f"refresh the kubeconfig (for EKS: aws eks update-kubeconfig)"
            ) from None
        if exc.status == 403 and "system:anonymous" in (exc.body or ""):
            raise CollectionError(
                f"{conn.where} treated the requests as anonymous ({message}); the context's credentials were not "
                f"sent: its exec plugin or token may have failed or expired"
            ) from None
        statuses: dict[int, CoverageStatus] = {403: "denied", 404: "absent", 429: "throttled"}
        status: CoverageStatus = statuses.get(exc.status or 0, "failed")
        raise _Unavailable(status, message, exc.status) from None
    except urllib3.exceptions.HTTPError as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, urllib3.exceptions.ReadTimeoutError):  # connected, but this list is slow
            raise _Unavailable(
                "unreachable", f"no answer within {conn.request_timeout:g} s (the request timeout, --kube-timeout)"
            ) from None
        raise CollectionError(f"cannot reach the {conn.where}: {reason}") from None
    return page


def _list_all(conn: _Cluster, fetch: Fetch) -> tuple[str, list[Mapping[str, Any]]]:
    """Every item of a paginated list, and the list's kind; an expired continue token restarts it once.

    The loop is bounded: a token seen before, or more than ``conn.max_pages`` pages, stops the listing.
    """
    for attempt in (1, 2):
        items: list[Mapping[str, Any]] = []
        token: str | None = None
        seen: set[str] = set()
        list_kind = ""
        try:
            for _ in range(conn.max_pages):
                page = _call(conn, fetch, token)
                list_kind = str(page.get("kind") or list_kind)
                items.extend(_page_items(page))
                token = _continue_token(page)
                if token is None:
                    return list_kind, items
                if token in seen:
                    raise _Unavailable(
                        "failed",
                        f"the API server sent a continue token it had sent before (page {len(seen) + 1}): "
                        "the listing would never end, so it was stopped",
                    )
                seen.add(token)
            raise _Unavailable(
                "failed",
                f"stopped after {conn.max_pages} pages ({len(items)} objects) with the API server still sending "
                "continue tokens",
            )
        except _Unavailable as exc:
            if exc.code == 410 and attempt == 1:
                continue  # 410 Gone: the continue token expired; list again from the start
            raise
    raise AssertionError("unreachable")


def _page_items(page: Page) -> list[Mapping[str, Any]]:
    """The objects of one list page; a page whose ``items`` is not a list of objects is malformed, not empty."""
    if "items" not in page:
        raise _Unavailable("failed", "the answer has no items list")
    items = page["items"]
    if items is None:  # Go encodes an empty (nil) slice as null
        return []
    if not isinstance(items, list):
        raise _Unavailable("failed", f"the answer's items is not a list but {type(items).__name__}")
    bad = sum(not isinstance(i, Mapping) for i in items)
    if bad:
        raise _Unavailable("failed", f"{bad} of the answer's {len(items)} items are not objects")
    return items


def _continue_token(page: Page) -> str | None:
    meta = page.get("metadata")
    token = meta.get("continue") if isinstance(meta, Mapping) else None
    if token is not None and not isinstance(token, str):
        raise _Unavailable("failed", f"the answer's continue token is not a string but {type(token).__name__}")
    return token or None


def _read(response: Any) -> Page:
    """One page of a list: a JSON object, else this kind is unreadable (truncated or garbled), not empty."""
    try:
        raw = response.data
    except urllib3.exceptions.HTTPError as exc:
        raise _Unavailable("failed", f"the answer broke off: {getattr(exc, 'reason', None) or exc}") from None
    try:
        data = json.loads(raw)
    except ValueError:  # a UnicodeDecodeError is a ValueError
        raise _Unavailable("failed", f"the answer is not valid JSON ({len(raw)} bytes, truncated or garbled)") from None
    except RecursionError:
        raise _Unavailable("failed", "the answer is nested too deeply to read") from None
    if not isinstance(data, Mapping):
        raise _Unavailable("failed", f"the answer is not a JSON object but {type(data).__name__}")
    return data


def _builtin_fetch(conn: _Cluster, spec: KindSpec, page_size: int, **extra: Any) -> Fetch:
    api_cls, method = _BUILTIN_LISTS[spec.resource]
    call = getattr(api_cls(conn.api), method)

    def fetch(token: str | None) -> Page:
        kwargs = dict(extra, limit=page_size, _preload_content=False, _request_timeout=conn.timeout)
        if token:
            kwargs["_continue"] = token
        return _read(call(**kwargs))

    return fetch


def _custom_fetch(conn: _Cluster, spec: KindSpec, version: str, page_size: int) -> Fetch:
    api = client.CustomObjectsApi(conn.api)

    def fetch(token: str | None) -> Page:
        kwargs: dict[str, Any] = {"limit": page_size, "_preload_content": False, "_request_timeout": conn.timeout}
        if token:
            kwargs["_continue"] = token
        return _read(api.list_cluster_custom_object(spec.group, version, spec.plural, **kwargs))

    return fetch


def _list_kind(conn: _Cluster, spec: KindSpec, page_size: int) -> list[Mapping[str, Any]]:
    """The objects of one kind, each with kind and apiVersion set (list items of built-ins lack them)."""
    if spec.kind == "Secret":
        return _list_secrets(conn, spec, page_size)
    if spec.resource in _BUILTIN_LISTS:
        version = spec.versions[0]
        _, items = _list_all(conn, _builtin_fetch(conn, spec, page_size))
    else:
        for version in spec.versions:  # the first version the server serves
            try:
                _, items = _list_all(conn, _custom_fetch(conn, spec, version, page_size))
                break
            except _Unavailable as exc:
                if exc.status != "absent":
                    raise
        else:
            served = ", ".join(spec.api_version(v) for v in spec.versions)
            raise _Unavailable("absent", f"not served by this cluster ({served})")
    api_version = spec.api_version(version)
    return [{"kind": spec.kind, "apiVersion": api_version, **item} for item in items]


def _list_secrets(conn: _Cluster, spec: KindSpec, page_size: int) -> list[Mapping[str, Any]]:
    """Secrets as metadata only; the type from field-selected metadata-only listings where known."""
    headers = {"Accept": PARTIAL_METADATA_ACCEPT}
    list_kind, items = _list_all(conn, _builtin_fetch(conn, spec, page_size, _headers=headers))
    if list_kind != "PartialObjectMetadataList":
        raise _Unavailable(
            "failed",
            f"the API server answered the metadata-only Secret listing with {list_kind or 'an unknown kind'}; "
            "the listing was discarded unread so that no secret value is kept",
        )
    types: dict[tuple[str, str], str] = {}
    for secret_type in SECRET_TYPES_BY_SELECTOR:
        fetch = _builtin_fetch(conn, spec, page_size, _headers=headers, field_selector=f"type={secret_type}")
        try:
            kind, typed = _list_all(conn, fetch)
        except _Unavailable:
            continue  # the type stays unknown
        if kind == "PartialObjectMetadataList":
            for item in typed:
                meta = item.get("metadata") or {}
                types[(str(meta.get("namespace")), str(meta.get("name")))] = secret_type
    objects: list[Mapping[str, Any]] = []
    for item in items:
        meta = item.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        objects.append(
            {"apiVersion": "v1", "kind": "Secret", "metadata": _secret_metadata(meta), "type": types.get(key)}
        )
    return objects


def _secret_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata fields the records use. Annotations are dropped here, before parsing, because
    ``kubectl.kubernetes.io/last-applied-configuration`` holds a copy of the Secret's data; only the
    service-account name of a token Secret is kept."""
    kept = {k: meta[k] for k in ("name", "namespace", "labels", "ownerReferences") if k in meta}
    annotations = meta.get("annotations") or {}
    if isinstance(annotations, Mapping) and SA_NAME_ANNOTATION in annotations:
        kept["annotations"] = {SA_NAME_ANNOTATION: annotations[SA_NAME_ANNOTATION]}
    return kept


# --- collection -----------------------------------------------------------------------------------


def _collect(conn: _Cluster, cluster: str, page_size: int) -> Snapshot:
    records = RecordSet()
    coverage: list[Coverage] = []
    for spec in KINDS:
        try:
            objects = _list_kind(conn, spec, page_size)
        except _Unavailable as exc:
            coverage.append(
                Coverage(
                    source="kubernetes",
                    scope=cluster,
                    service=spec.resource,
                    status=exc.status,
                    error=exc.message,
                )
            )
            continue
        count = 0
        for obj in objects:
            try:
                parsed = parse_object(obj, cluster=cluster)
            except ObjectError as exc:
                meta = obj.get("metadata") or {}
                name = "/".join(str(p) for p in (meta.get("namespace"), meta.get("name")) if p)
                coverage.append(
                    Coverage(
                        source="kubernetes",
                        scope=cluster,
                        service=spec.resource,
                        status="failed",
                        resource=f"{spec.kind}/{name}",
                        error=str(exc),
                    )
                )
                continue
            records.add(parsed.records)
            count += 1
        coverage.append(Coverage(source="kubernetes", scope=cluster, service=spec.resource, status="ok", count=count))
    return records.to_snapshot(coverage)
