"""Who may do what in a namespace, from Roles, ClusterRoles and their bindings.

For the rules that ask "can a tenant create an ExternalSecret / SecretStore / PushSecret here?" or
"who can read Secrets cluster-wide?". Rules are matched, and aggregated ClusterRoles resolved, by
:mod:`irsa_lib.graph.rbac_rules`, the matcher the access graph uses too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from irsa_lib.graph.rbac_rules import RoleRules, rule_allows
from irsa_lib.model import PolicyRule, RBACBinding, RBACRole, Subject
from irsa_lib.snapshot import Snapshot

EVERYONE_GROUPS = frozenset({"system:authenticated", "system:unauthenticated", "system:serviceaccounts"})


@dataclass(frozen=True)
class RBACGrant:
    """A subject holding a capability through one binding."""

    subject: Subject
    binding: RBACBinding
    role: RBACRole
    rule: PolicyRule

    @property
    def cluster_wide(self) -> bool:
        return self.binding.kind == "ClusterRoleBinding"

    def describe(self) -> str:
        where = "cluster-wide" if self.cluster_wide else f"in namespace {self.binding.namespace}"
        return (
            f"{subject_name(self.subject)} via {self.binding.kind} {self.binding.name} -> {self.role.kind} "
            f"{self.role.name} ({', '.join(self.rule.verbs)} on {', '.join(self.rule.resources)}) {where}"
        )


def subject_name(s: Subject) -> str:
    return f"ServiceAccount {s.namespace}/{s.name}" if s.kind == "ServiceAccount" else f"{s.kind} {s.name}"


def is_system_subject(s: Subject) -> bool:
    """Kubernetes' own identities (``system:*`` users and groups, kube-system service accounts).

    Groups meaning "everyone" (``system:authenticated``, ``system:serviceaccounts``...) are not system
    subjects: a grant to them reaches every tenant.
    """
    if s.kind == "ServiceAccount":
        return s.namespace == "kube-system"
    if s.name in EVERYONE_GROUPS or s.name.startswith("system:serviceaccounts:"):
        return False
    return s.name.startswith("system:")


def is_admin_role(role: RBACRole) -> bool:
    """A role with every verb on every resource (cluster-admin / admin-like)."""
    return any("*" in r.verbs and "*" in r.resources and "*" in r.api_groups for r in role.rules)


class RBACIndex(RoleRules):
    """Roles and bindings of one snapshot, resolved once."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot.rbac_roles)
        self.bindings = snapshot.rbac_bindings

    def grants(self, cluster: str, namespace: str | None, verb: str, group: str, resource: str) -> list[RBACGrant]:
        """Grants of ``verb`` on every ``group``/``resource`` object in ``namespace`` (None: cluster-wide bindings only)."""
        out: list[RBACGrant] = []
        for b in self.bindings:
            if b.cluster != cluster:
                continue
            if b.kind == "RoleBinding" and (namespace is None or b.namespace != namespace):
                continue
            role = self.role_for(b)
            if role is None:
                continue
            for rule in self.rules_of(role):
                if rule_allows(rule, verb, group, resource):
                    out.extend(RBACGrant(s, b, role, rule) for s in b.subjects)
                    break
        return out

    def tenant_grants(
        self,
        cluster: str,
        namespace: str,
        verbs: Iterable[str],
        group: str,
        resource: str,
        *,
        exclude: Iterable[Subject] = (),
    ) -> list[RBACGrant]:
        """Grants to non-system, non-admin subjects (tenants) of any of ``verbs`` in ``namespace``."""
        skip = {(s.kind, s.namespace, s.name) for s in exclude}
        seen: set[tuple[str, str | None, str, str]] = set()
        out = []
        for verb in verbs:
            for g in self.grants(cluster, namespace, verb, group, resource):
                s = g.subject
                ident = (s.kind, s.namespace if s.kind == "ServiceAccount" else None, s.name, g.binding.name)
                if (
                    is_system_subject(s)
                    or is_admin_role(g.role)
                    or g.binding.name.startswith("system:")
                    or (s.kind, s.namespace, s.name) in skip
                    or ident in seen
                ):
                    continue
                seen.add(ident)
                out.append(g)
        return out
