"""One code path from a Kubernetes object (as the API serves it, or as written in a manifest) to records.

Both the live collector and the manifest loader hand every object to :func:`parse_object`, so the
same object gives the same records whichever way it was read. :data:`KINDS` is the single table
of what is read: the live collector lists exactly these kinds, in these API versions.

An object is either parsed into records, ignored (a kind the analysis does not use, e.g. a
Service), or rejected with :class:`ObjectError` naming the field: a document without
kind/apiVersion, an unknown kind in a group whose kinds we know (a typo such as ``Deploymnet``),
or a kind we read in an API version we do not.

Example
-------
>>> p = parse_object({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"}}, cluster="demo")
>>> p.records[0].namespace, p.records[0].subject
('default', 'system:serviceaccount:default:web')
>>> parse_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, cluster="demo").ignored
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.core import parse_namespace, parse_secret, parse_service_account
from irsa_lib.collect.k8s_parse.csi import parse_secret_provider_class
from irsa_lib.collect.k8s_parse.eso import (
    parse_cluster_external_secret,
    parse_external_secret,
    parse_push_secret,
    parse_store,
)
from irsa_lib.collect.k8s_parse.fields import Fields, ObjectError
from irsa_lib.collect.k8s_parse.kes import parse_kes_external_secret
from irsa_lib.collect.k8s_parse.rbac import parse_binding, parse_role
from irsa_lib.collect.k8s_parse.workloads import parse_workload
from irsa_lib.model import (
    Coverage,
    ESOClusterExternalSecret,
    ESOController,
    ESOExternalSecret,
    ESOPushSecret,
    ESOSecretStore,
    K8sSecret,
    KESController,
    KESExternalSecret,
    Namespace,
    RBACBinding,
    RBACRole,
    SecretProviderClass,
    ServiceAccount,
    Workload,
)
from irsa_lib.snapshot import Snapshot, now_utc

__all__ = [
    "K8S_RECORD_FIELDS",
    "KINDS",
    "KindSpec",
    "ObjectError",
    "Parsed",
    "Record",
    "RecordSet",
    "identify",
    "lookup_kind",
    "parse_object",
    "snapshot_field",
    "split_api_version",
]

Record = (
    Namespace
    | ServiceAccount
    | Workload
    | K8sSecret
    | RBACRole
    | RBACBinding
    | KESExternalSecret
    | KESController
    | ESOSecretStore
    | ESOExternalSecret
    | ESOClusterExternalSecret
    | ESOPushSecret
    | ESOController
    | SecretProviderClass
)
Parser = Callable[[K8sObject], Sequence[Record]]


@dataclass(frozen=True)
class KindSpec:
    """A kind the analysis reads: where it lives in the API and how it is parsed."""

    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]
    """Versions read, preferred first (the live collector lists the first one the server serves)."""
    namespaced: bool
    parse: Parser

    @property
    def resource(self) -> str:
        """``plural.group`` (``plural`` for the core group): the coverage name of this kind."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


_RBAC = "rbac.authorization.k8s.io"
_ESO = "external-secrets.io"
_ESO_VERSIONS = ("v1", "v1beta1", "v1alpha1")

KINDS: tuple[KindSpec, ...] = (
    KindSpec("", "Namespace", "namespaces", ("v1",), False, parse_namespace),
    KindSpec("", "ServiceAccount", "serviceaccounts", ("v1",), True, parse_service_account),
    KindSpec("", "Secret", "secrets", ("v1",), True, parse_secret),
    KindSpec("", "Pod", "pods", ("v1",), True, parse_workload),
    KindSpec("", "ReplicationController", "replicationcontrollers", ("v1",), True, parse_workload),
    KindSpec("apps", "Deployment", "deployments", ("v1",), True, parse_workload),
    KindSpec("apps", "StatefulSet", "statefulsets", ("v1",), True, parse_workload),
    KindSpec("apps", "DaemonSet", "daemonsets", ("v1",), True, parse_workload),
    KindSpec("apps", "ReplicaSet", "replicasets", ("v1",), True, parse_workload),
    KindSpec("batch", "Job", "jobs", ("v1",), True, parse_workload),
    KindSpec("batch", "CronJob", "cronjobs", ("v1", "v1beta1"), True, parse_workload),
    KindSpec(_RBAC, "Role", "roles", ("v1",), True, parse_role),
    KindSpec(_RBAC, "ClusterRole", "clusterroles", ("v1",), False, parse_role),
    KindSpec(_RBAC, "RoleBinding", "rolebindings", ("v1",), True, parse_binding),
    KindSpec(_RBAC, "ClusterRoleBinding", "clusterrolebindings", ("v1",), False, parse_binding),
    KindSpec("kubernetes-client.io", "ExternalSecret", "externalsecrets", ("v1",), True, parse_kes_external_secret),
    KindSpec(_ESO, "SecretStore", "secretstores", _ESO_VERSIONS, True, parse_store),
    KindSpec(_ESO, "ClusterSecretStore", "clustersecretstores", _ESO_VERSIONS, False, parse_store),
    KindSpec(_ESO, "ExternalSecret", "externalsecrets", _ESO_VERSIONS, True, parse_external_secret),
    KindSpec(
        _ESO, "ClusterExternalSecret", "clusterexternalsecrets", ("v1", "v1beta1"), False, parse_cluster_external_secret
    ),
    KindSpec(_ESO, "PushSecret", "pushsecrets", ("v1alpha1",), True, parse_push_secret),
    KindSpec(
        "secrets-store.csi.x-k8s.io",
        "SecretProviderClass",
        "secretproviderclasses",
        ("v1", "v1alpha1"),
        True,
        parse_secret_provider_class,
    ),
)

_BY_GROUP_KIND: dict[tuple[str, str], KindSpec] = {(s.group, s.kind): s for s in KINDS}

# Kinds of the groups above that exist but do not matter to the analysis. Any other kind in these
# groups is a mistake (``kind: Deploymnet``); kinds of every other group are simply not read.
_KNOWN_UNREAD: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "ConfigMap",
            "Service",
            "Endpoints",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Node",
            "Event",
            "LimitRange",
            "ResourceQuota",
            "PodTemplate",
            "ComponentStatus",
            "Binding",
        }
    ),
    "apps": frozenset({"ControllerRevision"}),
    "batch": frozenset(),
    _RBAC: frozenset(),
    "kubernetes-client.io": frozenset(),
    _ESO: frozenset({"ClusterPushSecret"}),
    "secrets-store.csi.x-k8s.io": frozenset({"SecretProviderClassPodStatus"}),
}


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def lookup_kind(api_version: str, kind: str) -> KindSpec | None:
    """The spec that reads this apiVersion/kind; None for a kind the analysis does not use.

    Raises ObjectError for an unknown kind in a group we read, or a read kind in an unsupported version.
    """
    group, version = split_api_version(api_version)
    spec = _BY_GROUP_KIND.get((group, kind))
    if spec is None:
        if group in _KNOWN_UNREAD and kind not in _KNOWN_UNREAD[group]:
            where = f"apiVersion {api_version}"
            raise ObjectError(f"kind: unknown kind {kind!r} for {where}")
        return None
    if version not in spec.versions:
        supported = ", ".join(spec.api_version(v) for v in spec.versions)
        raise ObjectError(f"apiVersion: {kind} {api_version} is not supported (supported: {supported})")
    return spec


@dataclass(frozen=True)
class Parsed:
    """The outcome for one object: its identity and records (none when ``ignored``)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    spec: KindSpec | None
    records: tuple[Record, ...] = ()

    @property
    def ignored(self) -> bool:
        return self.spec is None


def identify(obj: Mapping[str, Any]) -> tuple[str, str, str | None, str | None]:
    """apiVersion, kind, name and namespace of an object, as far as they are present and strings."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name, namespace = meta.get("name"), meta.get("namespace")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    return (
        api_version if isinstance(api_version, str) else "",
        kind if isinstance(kind, str) else "",
        name if isinstance(name, str) else None,
        namespace if isinstance(namespace, str) else None,
    )


def parse_object(obj: Mapping[str, Any], *, cluster: str, default_namespace: str = "default") -> Parsed:
    """Records of one object (``default_namespace`` for namespaced objects without one).

    Raises ObjectError naming the field when the object cannot be read.
    """
    if not isinstance(obj, Mapping):
        raise ObjectError("the document is not a mapping (an object with apiVersion, kind and metadata)")
    body = Fields(obj)
    api_version, kind = body.str("apiVersion"), body.str("kind")
    if not api_version and not kind:
        raise ObjectError("apiVersion and kind: missing (not a Kubernetes object)")
    if not kind:
        raise ObjectError("kind: missing")
    if not api_version:
        raise ObjectError("apiVersion: missing")
    spec = lookup_kind(api_version, kind)
    meta = body.map("metadata")
    name = meta.str("name")
    if spec is None:
        return Parsed(api_version=api_version, kind=kind, name=name or "", namespace=meta.str("namespace"), spec=None)
    if not name:
        raise meta.error("name", "is required")
    namespace = (meta.str("namespace") or default_namespace) if spec.namespaced else None
    view = K8sObject(cluster=cluster, api_version=api_version, kind=kind, name=name, namespace=namespace, body=body)
    records = tuple(spec.parse(view))
    return Parsed(api_version=api_version, kind=kind, name=name, namespace=namespace, spec=spec, records=records)


_FIELD_BY_TYPE: dict[type, str] = {
    Namespace: "namespaces",
    ServiceAccount: "service_accounts",
    Workload: "workloads",
    K8sSecret: "k8s_secrets",
    RBACRole: "rbac_roles",
    RBACBinding: "rbac_bindings",
    KESExternalSecret: "kes_external_secrets",
    KESController: "kes_controllers",
    ESOSecretStore: "eso_stores",
    ESOExternalSecret: "eso_external_secrets",
    ESOClusterExternalSecret: "eso_cluster_external_secrets",
    ESOPushSecret: "eso_push_secrets",
    ESOController: "eso_controllers",
    SecretProviderClass: "secret_provider_classes",
}

K8S_RECORD_FIELDS: tuple[str, ...] = tuple(_FIELD_BY_TYPE.values())
"""Snapshot fields holding Kubernetes records (each record carries its ``cluster``)."""


def snapshot_field(record: Record) -> str:
    """The snapshot field a Kubernetes record belongs in."""
    return _FIELD_BY_TYPE[type(record)]


def _sort_key(record: Record) -> tuple[str, ...]:
    return (
        record.cluster,
        getattr(record, "namespace", None) or "",
        getattr(record, "kind", None) or "",
        record.name,
    )


class RecordSet:
    """Records gathered from many objects, grouped by snapshot field in a stable order."""

    def __init__(self) -> None:
        self._by_field: dict[str, list[Record]] = {name: [] for name in _FIELD_BY_TYPE.values()}

    def add(self, records: Iterable[Record]) -> None:
        for record in records:
            self._by_field[_FIELD_BY_TYPE[type(record)]].append(record)

    def to_snapshot(self, coverage: Iterable[Coverage]) -> Snapshot:
        """A partial snapshot of these records, each collection sorted, with the given coverage."""
        fields: dict[str, Any] = {name: tuple(sorted(rs, key=_sort_key)) for name, rs in self._by_field.items()}
        return Snapshot(created_at=now_utc(), coverage=tuple(coverage), **fields)
