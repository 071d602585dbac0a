"""What rules read: the snapshot, indexes over it, coverage gaps, and lazily the heavier analyses.

Rules are pure functions of a :class:`FindingContext`. The context builds each index once; the
evaluator inventory, the graph and the effective-access rows are built only if a rule asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from irsa_lib.findings.statements import Statement, statements
from irsa_lib.model import (
    Coverage,
    EKSCluster,
    KMSKey,
    Namespace,
    Role,
    ServiceAccount,
    User,
    Workload,
)
from irsa_lib.snapshot import Snapshot

KNOWN_AWS_MANAGED: dict[str, Mapping[str, Any]] = {
    # The secret-relevant statement of AmazonSSMManagedInstanceCore, often attached to node roles:
    # ssm:GetParameter(s) on every parameter (AWS managed policy reference).
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": "*"}],
    },
}


def k8s_id(cluster: str, kind: str, name: str, namespace: str | None = None) -> str:
    """Stable Kubernetes resource id: ``cluster/namespace/Kind/name`` (``cluster/Kind/name`` if cluster-scoped).

    >>> k8s_id("demo", "ServiceAccount", "app", "billing")
    'demo/billing/ServiceAccount/app'
    """
    return f"{cluster}/{namespace}/{kind}/{name}" if namespace else f"{cluster}/{kind}/{name}"


def coverage_id(c: Coverage) -> str:
    """The resource an unknown finding is about, for a coverage gap."""
    return c.resource or f"{c.source}:{c.scope}:{c.service}"


def describe_gap(c: Coverage) -> str:
    what = f" ({c.resource})" if c.resource else ""
    err = f": {c.error}" if c.error else ""
    return f"{c.source} {c.service} in {c.scope}{what} was not collected: {c.status}{err}"


class FindingContext:
    """Read-only view of one snapshot for the rules, with indexes built on first use."""

    def __init__(self, snapshot: Snapshot, *, graph: Any = None) -> None:
        self.snapshot = snapshot
        self._graph = graph

    # --- coverage -------------------------------------------------------------------------------
    def gaps(self, source: str, *services: str) -> list[Coverage]:
        """Incomplete coverage of ``source`` whose service starts with one of ``services`` (any if none)."""
        wanted = tuple(s.lower() for s in services)
        return [
            c
            for c in self.snapshot.incomplete()
            if c.source == source and (not wanted or c.service.lower().startswith(wanted))
        ]

    def k8s_gaps(self, *kinds: str) -> list[Coverage]:
        """Incomplete Kubernetes coverage (live or manifests) for kinds containing one of ``kinds``."""
        wanted = tuple(k.lower() for k in kinds)
        return [
            c
            for c in self.snapshot.incomplete()
            if c.source in ("kubernetes", "manifests") and any(w in c.service.lower() for w in wanted)
        ]

    # --- AWS indexes ----------------------------------------------------------------------------
    @cached_property
    def roles(self) -> dict[str, Role]:
        return {r.arn: r for r in self.snapshot.roles}

    @cached_property
    def roles_by_id(self) -> dict[str, Role]:
        return {r.role_id: r for r in self.snapshot.roles}

    @cached_property
    def users(self) -> dict[str, User]:
        return {u.arn: u for u in self.snapshot.users}

    @cached_property
    def principal_ids(self) -> frozenset[str]:
        """Unique ids (AROA/AIDA) of every collected role and user."""
        return frozenset(r.role_id for r in self.snapshot.roles) | frozenset(u.user_id for u in self.snapshot.users)

    @cached_property
    def managed_policies(self) -> dict[str, Mapping[str, Any]]:
        """Documents by ARN; a few AWS managed policies that matter here are known when not collected."""
        known: dict[str, Mapping[str, Any]] = dict(KNOWN_AWS_MANAGED)
        known.update({p.arn: p.document for p in self.snapshot.managed_policies})
        return known

    @cached_property
    def keys(self) -> dict[str, KMSKey]:
        """KMS keys by ARN, key id, ``alias/...`` and alias ARN."""
        out: dict[str, KMSKey] = {}
        for k in self.snapshot.kms_keys:
            out[k.arn] = k
            out[k.key_id] = k
            for a in k.aliases:
                out[a] = k
                out[f"arn:aws:kms:{k.region}:{k.account_id}:{a}"] = k
        return out

    @cached_property
    def iam_accounts(self) -> frozenset[str]:
        """Accounts whose IAM was collected (roles seen or IAM coverage ok)."""
        seen = {r.account_id for r in self.snapshot.roles}
        seen |= {
            c.scope.split("/", 1)[0]
            for c in self.snapshot.coverage
            if c.source == "aws" and c.service.startswith("iam")
        }
        return frozenset(seen)

    def iam_gaps_for(self, account_id: str) -> list[Coverage]:
        return [c for c in self.gaps("aws", "iam") if c.scope.split("/", 1)[0] == account_id]

    def identity_documents(self, principal_arn: str) -> tuple[dict[str, Mapping[str, Any]], list[str]]:
        """Identity policy documents of a role or user by source name, and attached policies not collected."""
        docs: dict[str, Mapping[str, Any]] = {}
        missing: list[str] = []
        role = self.roles.get(principal_arn)
        user = self.users.get(principal_arn)
        holders: list[tuple[str, Iterable[Any], Iterable[str]]] = []
        if role is not None:
            holders.append((role.name, role.inline_policies, role.attached_policy_arns))
        if user is not None:
            holders.append((user.name, user.inline_policies, user.attached_policy_arns))
            groups = {g.name: g for g in self.snapshot.groups if g.account_id == user.account_id}
            for gname in user.group_names:
                g = groups.get(gname)
                if g is None:
                    missing.append(f"group {gname}")
                else:
                    holders.append((f"group {g.name}", g.inline_policies, g.attached_policy_arns))
        for owner, inline, attached in holders:
            for p in inline:
                docs[f"{owner} inline policy {p.name}"] = p.document
            for arn in attached:
                doc = self.managed_policies.get(arn)
                if doc is None:
                    missing.append(f"managed policy {arn}")
                else:
                    docs[f"managed policy {arn}"] = doc
        return docs, missing

    def identity_statements(self, principal_arn: str) -> list[Statement]:
        docs, _ = self.identity_documents(principal_arn)
        return [st for src, doc in docs.items() for st in statements(doc, source=src)]

    def trust_statements(self, role: Role) -> list[Statement]:
        return statements(role.trust_policy, source=f"trust policy of {role.name}")

    # --- Kubernetes indexes ---------------------------------------------------------------------
    @cached_property
    def clusters(self) -> dict[str, EKSCluster]:
        return {c.name: c for c in self.snapshot.clusters}

    @cached_property
    def issuer_hosts(self) -> dict[str, str]:
        """OIDC issuer host/path (no scheme) -> cluster name."""
        out = {}
        for c in self.snapshot.clusters:
            if c.oidc_issuer:
                out[c.oidc_issuer.removeprefix("https://").rstrip("/")] = c.name
        return out

    @cached_property
    def service_accounts(self) -> dict[tuple[str, str, str], ServiceAccount]:
        return {(s.cluster, s.namespace, s.name): s for s in self.snapshot.service_accounts}

    @cached_property
    def namespaces(self) -> dict[tuple[str, str], Namespace]:
        return {(n.cluster, n.name): n for n in self.snapshot.namespaces}

    @cached_property
    def workloads_by_sa(self) -> dict[tuple[str, str, str], list[Workload]]:
        out: dict[tuple[str, str, str], list[Workload]] = defaultdict(list)
        for w in self.snapshot.workloads:
            out[(w.cluster, w.namespace, w.service_account)].append(w)
        return out

    @cached_property
    def pod_identity_sas(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(
            (a.cluster_name, a.namespace, a.service_account) for a in self.snapshot.pod_identity_associations
        )
