"""The Kubernetes objects a fix patches: as their manifest files hold them, or rebuilt from the snapshot.

A fix of a Kubernetes object needs the object. :class:`ManifestObjects` reads a manifest tree (the
same files ``--manifests`` collects) and keeps every object with its file and line range, by the id
findings use (``cluster/namespace/Kind/name``). Where no manifest holds the object (a live
cluster), :func:`rebuild` writes it from its snapshot record, for the kinds whose record keeps
everything a patch touches (namespaces, RBAC bindings); a rebuilt object is only good for a merge
patch (the live object holds more).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from irsa_lib.findings import k8s_id
from irsa_lib.locate import files_under
from irsa_lib.model import Namespace, RBACBinding


@dataclass(frozen=True)
class ManifestObject:
    """One object of a manifest file: the document, the file and its lines (1-based, inclusive)."""

    document: Mapping[str, Any]
    path: str
    first_line: int
    last_line: int


class ManifestObjects:
    """Objects of manifest trees ``(directory, cluster)`` by Kubernetes id; the first file holding one wins.

    A file that cannot be read or parsed is left out (collection reports it); objects inside a
    ``List`` are not offered for patching (their lines are the list's).
    """

    def __init__(self, trees: Sequence[tuple[str | os.PathLike[str], str]] = ()) -> None:
        self.objects: dict[str, ManifestObject] = {}
        for root, cluster in trees:
            for file in files_under(Path(root), (".yaml", ".yml", ".json")):
                self._read(file, cluster)

    def _read(self, file: Path, cluster: str) -> None:
        try:
            loader = yaml.SafeLoader(file.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            return
        try:
            while loader.check_node():
                node = loader.get_node()
                if not isinstance(node, yaml.MappingNode):
                    continue
                doc = loader.construct_document(node)
                if not isinstance(doc, Mapping):
                    continue
                ident = object_id(doc, cluster)
                if ident is None:
                    continue
                last = node.end_mark.line + (1 if node.end_mark.column else 0)
                self.objects.setdefault(ident, ManifestObject(doc, str(file), node.start_mark.line + 1, last))
        except yaml.YAMLError:
            return
        finally:
            loader.dispose()

    def find(self, resource: str) -> ManifestObject | None:
        return self.objects.get(resource)


def object_id(doc: Mapping[str, Any], cluster: str) -> str | None:
    """The Kubernetes id of a manifest document (namespaced kinds without a namespace: ``default``)."""
    kind, meta = doc.get("kind"), doc.get("metadata")
    if not isinstance(kind, str) or not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
        return None
    if kind.endswith("List"):
        return None
    ns = meta.get("namespace")
    if kind in CLUSTER_SCOPED:
        return k8s_id(cluster, kind, meta["name"])
    return k8s_id(cluster, kind, meta["name"], ns if isinstance(ns, str) and ns else "default")


CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterSecretStore", "Node"})
"""Kinds fixes touch that have no namespace."""


def rebuild(record: Namespace | RBACBinding) -> dict[str, Any]:
    """The object a namespace or RBAC binding record was read from, as far as the record keeps it."""
    if isinstance(record, Namespace):
        meta: dict[str, Any] = {"name": record.name}
        if record.labels:
            meta["labels"] = dict(record.labels)
        if record.annotations:
            meta["annotations"] = dict(record.annotations)
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
    return binding_object(record)


def binding_object(b: RBACBinding) -> dict[str, Any]:
    """A RoleBinding / ClusterRoleBinding manifest of a binding record."""
    meta: dict[str, Any] = {"name": b.name}
    if b.namespace:
        meta["namespace"] = b.namespace
    subjects = []
    for s in b.subjects:
        item: dict[str, Any] = {"kind": s.kind, "name": s.name}
        if s.kind == "ServiceAccount":
            item["namespace"] = s.namespace or b.namespace or "default"
        else:
            item["apiGroup"] = "rbac.authorization.k8s.io"
        subjects.append(item)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": b.kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": b.role_kind, "name": b.role_name},
        "subjects": subjects,
    }


POD_SPEC_PATH: Mapping[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where the pod spec sits in each workload kind."""
