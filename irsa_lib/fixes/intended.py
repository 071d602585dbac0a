"""Which access rows are intended: the chains the cluster's own objects declare.

A fix must cut the unintended readers and keep what the services rely on. Whether a row is
intended is decided from the snapshot's objects, never from the finding being fixed:

1. **A workload's own identity.** A ``direct`` row of a service account (or of a workload running
   as it) whose first AWS identity is the role its ``eks.amazonaws.com/role-arn`` annotation names
   or the role of its Pod Identity association, and whose *reading role* (the last identity before
   the value) is not an external-secrets controller's own identity.
2. **A declared delivery.** A ``via-controller`` row of a workload or service account, or of the
   kubelet (which reads every Secret its pods mount), whose path runs through an ExternalSecret
   that exists (not one someone could create) and whose reading role is not a controller identity.

A controller identity (the KES controller's role, the ESO controller's, the role a store without
auth falls back to: :func:`irsa_lib.findings.rules.secrets.controller_roles`) should only assume
service roles (F04): its chain through an assume-role into a service role is intended, its own
reads are not. Everything else is not intended: ``potential`` rows (they need an RBAC capability),
RBAC users and groups, "any new service account", a node role reached through instance metadata.
"""

from __future__ import annotations

from collections.abc import Iterable

from irsa_lib.access import AccessRow
from irsa_lib.analysis import Analysis
from irsa_lib.findings import FindingContext
from irsa_lib.findings.rules.secrets import controller_roles


def identities(row: AccessRow) -> list[str]:
    """The role ARNs on a row's path, in order (a Pod Identity session counts as its role)."""
    out = []
    for node in row.hop_nodes:
        if node[:1] not in "rs":  # neither "role:" nor "session:": most hops, ruled out by one character
            continue
        if node.startswith("role:"):
            out.append(node[len("role:") :])
        elif node.startswith("session:"):
            out.append(node[len("session:") :].split("#", 1)[0])
    return out


class Intent:
    """Decides :func:`reason` for the rows of one snapshot (see the module docstring)."""

    def __init__(self, analysis: Analysis) -> None:
        snapshot = analysis.snapshot
        ctx = FindingContext(snapshot, graph=analysis.graph, inventory=analysis.inventory)
        self.controllers = frozenset(controller_roles(ctx))
        self.declared: dict[tuple[str, str, str], set[str]] = {}
        for sa in snapshot.service_accounts:
            if sa.role_arn:
                self.declared.setdefault((sa.cluster, sa.namespace, sa.name), set()).add(sa.role_arn)
        for a in snapshot.pod_identity_associations:
            self.declared.setdefault((a.cluster_name, a.namespace, a.service_account), set()).add(a.role_arn)

    def reason(self, row: AccessRow) -> str | None:
        """Why the row is intended, or None when it is not."""
        roles = identities(row)
        reading = roles[-1] if roles else None
        if reading is None or reading in self.controllers:
            return None
        first = row.hop_nodes[0] if row.hop_nodes else ""
        if row.access == "direct" and first.startswith(("sa:", "workload:")):
            declared = self.declared.get((row.cluster, row.namespace or "", row.service_account), set())
            if roles[0] in declared:
                return f"its service account declares {roles[0]}"
            return None
        if row.access == "via-controller" and first.startswith(("sa:", "workload:", "kubelet:")):
            for node in row.hop_nodes:
                if node.startswith(("kes-es:", "eso-es:")) and not node.endswith("/*"):
                    return f"declared delivery: ExternalSecret {node.split(':', 1)[1]} through {reading}"
        return None

    def intended(self, rows: Iterable[AccessRow]) -> list[AccessRow]:
        return [r for r in rows if self.reason(r) is not None]
