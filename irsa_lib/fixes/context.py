"""What the fix builders read: the analysis, the rules' own indexes, the intended rows, the manifests."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from irsa_lib.access import AccessRow
from irsa_lib.analysis import Analysis
from irsa_lib.findings import FindingContext
from irsa_lib.findings.rbac import RBACIndex
from irsa_lib.fixes.intended import Intent
from irsa_lib.fixes.manifests import ManifestObjects, rebuild
from irsa_lib.fixes.model import ObjectEdit
from irsa_lib.model import Namespace, RBACBinding, SecretsManagerSecret, SSMParameter

Transform = Callable[[dict[str, Any]], dict[str, Any] | None]
"""A change of one object: its document in (a copy), the changed document out (None: delete it)."""


class FixContext:
    """One analysis seen by the fix builders, with indexes built on first use."""

    def __init__(self, analysis: Analysis, manifests: ManifestObjects | None = None) -> None:
        self.analysis = analysis
        self.snapshot = analysis.snapshot
        self.manifests = manifests if manifests is not None else ManifestObjects()

    @cached_property
    def rules(self) -> FindingContext:
        """The findings' own view of the snapshot (the same inventory and graph)."""
        return FindingContext(self.snapshot, graph=self.analysis.graph, inventory=self.analysis.inventory)

    @cached_property
    def intent(self) -> Intent:
        return Intent(self.analysis)

    def intended_readers(self, value_arn: str) -> list[AccessRow]:
        """The intended rows reading the value with ARN ``value_arn``."""
        return self._intended_by_value.get(value_arn, [])

    @cached_property
    def _intended_by_value(self) -> dict[str, list[AccessRow]]:
        out: dict[str, list[AccessRow]] = {}
        for r in self.analysis.rows:
            if self.intent.reason(r) is not None:
                out.setdefault(r.secret_arn, []).append(r)
        return out

    @cached_property
    def values(self) -> dict[str, SSMParameter | SecretsManagerSecret]:
        """Parameters and secrets by ARN."""
        out: dict[str, SSMParameter | SecretsManagerSecret] = {p.arn: p for p in self.snapshot.ssm_parameters}
        out.update((s.arn, s) for s in self.snapshot.secrets)
        return out

    @cached_property
    def rbac(self) -> RBACIndex:
        return RBACIndex(self.snapshot)

    @cached_property
    def namespaces_with_values(self) -> dict[str, set[str]]:
        """Cluster -> namespaces holding a Kubernetes Secret on an access row's path (materialised values)."""
        out: dict[str, set[str]] = {}
        for r in self.analysis.rows:
            for node in r.hop_nodes:
                if node.startswith("k8s-secret:"):
                    cluster, namespace = node[len("k8s-secret:") :].split("/", 2)[:2]
                    out.setdefault(cluster, set()).add(namespace)
        return out

    def object_edit(
        self,
        target: str,
        cluster: str,
        change: Transform,
        *,
        record: Namespace | RBACBinding | None = None,
    ) -> ObjectEdit | None:
        """The edit of the object ``target``: from its manifest when one holds it, else rebuilt from
        ``record``; None when neither is at hand or the change leaves it as it is."""
        found = self.manifests.find(target)
        before: Mapping[str, Any]
        if found is not None:
            before, path, lines, rebuilt = found.document, found.path, (found.first_line, found.last_line), False
        elif record is not None:
            before, path, lines, rebuilt = rebuild(record), None, None, True
        else:
            return None
        after = change(copy.deepcopy(dict(before)))
        if after == before:
            return None
        return ObjectEdit(
            cluster=cluster, target=target, before=before, after=after, path=path, lines=lines, rebuilt=rebuilt
        )


def manifest_hint(kind: str, namespace: str | None, name: str, cluster: str) -> str:
    """How to give a fix the manifest of a live object."""
    ns = f" -n {namespace}" if namespace else ""
    return (
        f"the patch is written against the object's manifest: `kubectl get {kind.lower()}{ns} {name} -o yaml > "
        f"DIR/{name}.yaml`, then give `--manifests DIR --cluster {cluster}`"
    )
