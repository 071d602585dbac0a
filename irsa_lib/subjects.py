"""Who can read: the one subject model and its one spelling.

An access path starts at a *subject*: something in a cluster that can act. Its kinds are a
service account, a workload, an RBAC user or group, a kubelet (of a named node, or "whichever node
runs the pod"), and "any service account someone could create" in a namespace (or anywhere in the
cluster). Every view (``irsa access``, ``irsa diff``, the report, the notebooks, the trust graph)
writes a subject through :func:`display`, so one subject is spelled one way everywhere.

>>> display(Subject(SubjectKind.SERVICE_ACCOUNT, "demo", "billing", "billing-api"))
'sa demo/billing/billing-api'
>>> display(Subject(SubjectKind.ANY_SERVICE_ACCOUNT, "demo", "billing", "*"))
'any new sa demo/billing/*'
>>> display(Subject(SubjectKind.KUBELET, "demo", None, "*"))
'kubelet demo/(node running the pod)'
>>> display(subject_of_row({"cluster": "demo", "namespace": None, "service_account": "ops",
...                         "subject_kind": "Group"}))
'group demo/ops'
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "KIND_LABELS",
    "Subject",
    "SubjectKind",
    "display",
    "display_node",
    "display_row",
    "subject_of_node",
    "subject_of_row",
]


class SubjectKind(StrEnum):
    SERVICE_ACCOUNT = "ServiceAccount"
    WORKLOAD = "Workload"
    RBAC_USER = "User"
    RBAC_GROUP = "Group"
    KUBELET = "Node"
    ANY_SERVICE_ACCOUNT = "AnyServiceAccount"


KIND_LABELS: Mapping[SubjectKind, str] = {
    SubjectKind.SERVICE_ACCOUNT: "service accounts",
    SubjectKind.WORKLOAD: "workloads",
    SubjectKind.RBAC_USER: "RBAC users",
    SubjectKind.RBAC_GROUP: "RBAC groups",
    SubjectKind.KUBELET: "kubelets (nodes)",
    SubjectKind.ANY_SERVICE_ACCOUNT: "service accounts someone could create",
}
"""Plural names of the kinds, for counts ("RBAC groups: 3")."""

_PREFIX: Mapping[SubjectKind, str] = {
    SubjectKind.SERVICE_ACCOUNT: "sa",
    SubjectKind.WORKLOAD: "workload",
    SubjectKind.RBAC_USER: "user",
    SubjectKind.RBAC_GROUP: "group",
    SubjectKind.KUBELET: "kubelet",
    SubjectKind.ANY_SERVICE_ACCOUNT: "any new sa",
}


@dataclass(frozen=True, order=True)
class Subject:
    """A subject of an access path. ``name``: the service account, workload (``Kind/name``), user,
    group or node name; ``*`` for "any" (a service account that could be created, the kubelet of
    whichever node runs the pod). ``namespace`` is None for cluster-wide subjects."""

    kind: SubjectKind
    cluster: str
    namespace: str | None
    name: str


def display(subject: Subject) -> str:
    """The one spelling of a subject: ``<kind> <cluster>/<namespace>/<name>`` (no namespace part for
    users, groups and kubelets; ``*`` for the namespace of a cluster-wide "any new sa")."""
    kind, cluster, ns, name = subject.kind, subject.cluster, subject.namespace, subject.name
    prefix = _PREFIX[kind]
    if kind == SubjectKind.KUBELET:
        return f"{prefix} {cluster}/{'(node running the pod)' if name == '*' else name}"
    if kind == SubjectKind.ANY_SERVICE_ACCOUNT:
        return f"{prefix} {cluster}/{ns or '*'}/*"
    if kind in (SubjectKind.RBAC_USER, SubjectKind.RBAC_GROUP):
        return f"{prefix} {cluster}/{name}" + (f" (in {ns})" if ns else "")
    return f"{prefix} {cluster}/{ns}/{name}"


def _kind(value: Any) -> SubjectKind:
    try:
        return SubjectKind(str(getattr(value, "value", value)))
    except ValueError:
        raise ValueError(f"unknown subject kind {value!r}") from None


def field_reader(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A reader of the fields ``names`` of one access row (None where missing), in one call: an
    ``AccessRow``, an older row object, or its JSON / CSV form as a mapping."""
    many = operator.attrgetter(*names)
    attrs = many if len(names) > 1 else lambda r: (many(r),)

    def read(row: Any) -> tuple[Any, ...]:
        if isinstance(row, Mapping):
            return tuple(row.get(n) for n in names)
        try:
            return attrs(row)
        except AttributeError:  # an older row object
            return tuple(getattr(row, n, None) for n in names)

    return read


_fields = field_reader(("subject_kind", "cluster", "namespace", "service_account"))
"""An access row's subject kind, cluster, namespace and name, as stored."""


def _subject(kind: Any, cluster: Any, ns: Any, name: Any) -> Subject:
    kind = _kind(kind or SubjectKind.SERVICE_ACCOUNT)
    ns = None if ns in (None, "", "-") or (isinstance(ns, float) and ns != ns) else str(ns)  # NaN from a CSV
    if kind == SubjectKind.KUBELET:
        ns = None
    return Subject(kind, str(cluster), ns, str(name))


def subject_of_row(row: Any) -> Subject:
    """The subject of an access row (an ``AccessRow``, or its JSON / CSV form as a mapping)."""
    return _subject(*_fields(row))


@functools.lru_cache(maxsize=1 << 16)
def _display_fields(kind: Any, cluster: Any, ns: Any, name: Any) -> str:
    return display(_subject(kind, cluster, ns, name))


def display_row(row: Any) -> str:
    """:func:`display` of an access row's subject (worked out once per subject: a table has many rows per
    subject)."""
    fields = _fields(row)
    try:
        return _display_fields(*fields)
    except TypeError:  # a field that cannot be a cache key (a list from a hand-written mapping)
        return display(_subject(*fields))


_NODE_KINDS = {
    "service-account": SubjectKind.SERVICE_ACCOUNT,
    "any-service-account": SubjectKind.ANY_SERVICE_ACCOUNT,
    "workload": SubjectKind.WORKLOAD,
    "kubelet": SubjectKind.KUBELET,
}


def subject_of_node(attrs: Mapping[str, Any]) -> Subject | None:
    """The subject a graph node stands for (its attribute dict), or None when it is not a subject."""
    node_type = str(attrs.get("type", ""))
    cluster = str(attrs.get("cluster") or "")
    if node_type == "rbac-subject":
        rbac = SubjectKind.RBAC_GROUP if attrs.get("kind") == "Group" else SubjectKind.RBAC_USER
        return Subject(rbac, cluster, attrs.get("namespace") or None, str(attrs.get("name")))
    kind = _NODE_KINDS.get(node_type)
    if kind is None:
        return None
    if kind == SubjectKind.WORKLOAD:
        return Subject(kind, cluster, attrs.get("namespace"), f"{attrs.get('kind')}/{attrs.get('name')}")
    if kind == SubjectKind.ANY_SERVICE_ACCOUNT:
        return Subject(kind, cluster, attrs.get("namespace") or None, "*")
    if kind == SubjectKind.KUBELET:
        return Subject(kind, cluster, None, str(attrs.get("name") or "*"))
    return Subject(kind, cluster, attrs.get("namespace"), str(attrs.get("name")))


def display_node(attrs: Mapping[str, Any]) -> str | None:
    """:func:`display` of the subject a graph node stands for, or None when it is not a subject."""
    subject = subject_of_node(attrs)
    return None if subject is None else display(subject)
