"""What rules read: the snapshot, indexes over it, coverage gaps, and the heavier analyses.

Rules are pure functions of a :class:`FindingContext`. The context builds each index once: the
evaluator's :class:`~irsa_lib.resolve.Inventory` (parsed policies shared by every rule, and with the
graph when the caller passes the one it was built on), the graph's ``AwsView`` for read + decrypt
questions, and, when an access graph is given, its effective-access rows. Rules whose question is
"who can actually reach X" read the graph when there is one and ask the evaluator otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any

from irsa_lib.access import ROWS_MEMO, AccessRow, effective_access, subject_fields, value_reach
from irsa_lib.findings.shapes import literal_prefix, written
from irsa_lib.graph import AccessGraph
from irsa_lib.graph.aws import AwsView
from irsa_lib.graph.build import evaluator_view
from irsa_lib.graph.schema import NAME, SECRET_TYPES, Mechanism, rbac_subject_id, sa_id
from irsa_lib.model import (
    Coverage,
    EKSCluster,
    KMSKey,
    Namespace,
    Role,
    ServiceAccount,
    Subject,
    User,
    Workload,
)
from irsa_lib.policy import Decision, Policy, PolicyError
from irsa_lib.policy.document import PolicyKind
from irsa_lib.resolve import Inventory, UnknownPrincipalError, identity_policies
from irsa_lib.snapshot import Snapshot


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


def reader_label(cluster: str, namespace: str | None, name: str) -> str:
    """How the readers index names a subject: ``cluster/namespace/name`` (``-`` for no namespace)."""
    return f"{cluster}/{namespace or '-'}/{name}"


def readers_by_value(rows: Iterable[AccessRow]) -> dict[str, set[str]]:
    """:func:`reader_label` of the subjects of ``rows``, by the value node they read (one pass)."""
    out: dict[str, set[str]] = {}
    for r in rows:
        if r.nodes:
            out.setdefault(r.nodes[-1], set()).add(reader_label(r.cluster, r.namespace, r.service_account))
    return out


class FindingContext:
    """Read-only view of one snapshot for the rules, with indexes built on first use."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        graph: AccessGraph | None = None,
        inventory: Inventory | None = None,
        readers: Mapping[str, set[str]] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.graph = graph
        self._inventory = inventory
        self._readers = readers
        """:meth:`readers` worked out elsewhere (from the rows of every cluster, partitioned), or None."""
        self.decisions: dict[tuple[str, str, str], Decision] = {}
        """Evaluator answers by (principal, action, resource), filled by ``findings.reach``."""
        self._principals_by_account: dict[str, list[str]] = {}
        self._principal_accounts: dict[str, str | None] = {}
        self._holders: dict[tuple[str, str], list[tuple[str, list[Policy]]]] = {}
        self._pattern_indexes: dict[tuple[str, str], tuple[set[int], dict[str, set[int]], list[int]]] = {}

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

    # --- AWS: the evaluator's inventory and parsed policies --------------------------------------
    @cached_property
    def inventory(self) -> Inventory:
        """The evaluator's index of this snapshot (built once per context, shared with the graph)."""
        return self._inventory if self._inventory is not None else Inventory.from_snapshot(self.snapshot)

    @cached_property
    def aws(self) -> AwsView:
        """The graph's door to the evaluator (read + decrypt, assume), over the same inventory: the very
        view the graph was built with when there is one (its answers are not asked again)."""
        view = evaluator_view(self.graph) if self.graph is not None else None
        if view is not None and view.snapshot is self.snapshot and view.inventory is self.inventory:
            return view
        return AwsView(self.snapshot, self.inventory)

    @cached_property
    def access_rows(self) -> list[AccessRow]:
        """Effective-access rows of the graph (empty without a graph)."""
        return list(effective_access(self.graph)) if self.graph is not None else []

    def subject_node(self, cluster: str, subject: Subject) -> str:
        """The graph node of an RBAC subject (service accounts are their ``sa:`` node)."""
        if subject.kind == "ServiceAccount":
            return sa_id(cluster, subject.namespace or "default", subject.name)
        return rbac_subject_id(cluster, subject.kind, subject.namespace, subject.name)

    def reachable_values(self, cluster: str, subject: Subject) -> list[str]:
        """Values the access rows let an RBAC subject reach (empty without a graph)."""
        return sorted(self._values_by_subject.get(self.subject_node(cluster, subject), ()))

    @cached_property
    def _reach(self) -> list[tuple[str, str, str]]:
        """(first node, value node, :func:`reader_label` of the subject) of every access row: from the
        rows when the graph holds them already (a report, the pipeline), else from :func:`value_reach`
        (the rows' subjects and values without their paths, a fifth of the rows' cost)."""
        g = self.graph
        if g is None:
            return []
        rows: list[AccessRow] | None = g.memoized(ROWS_MEMO)
        if rows is not None:
            return [(r.nodes[0], r.nodes[-1], reader_label(r.cluster, r.namespace, r.service_account)) for r in rows]
        return [(start, value, reader_label(*subject_fields(g, s)[:3])) for s, start, value in value_reach(g)]

    @cached_property
    def _values_by_subject(self) -> dict[str, set[str]]:
        """Value names of the access rows, by the row's first node (one pass, not one per subject)."""
        out: dict[str, set[str]] = {}
        if self.graph is not None:
            for start, value, _ in self._reach:
                out.setdefault(start, set()).add(self.graph.node(value)[NAME])  # the row's secret_name
        return out

    def readers(self, value: str) -> list[str]:
        """``cluster/namespace/name`` of the subjects the access rows let read the value node ``value``."""
        return sorted(self._readers_by_value.get(value, ()))

    @cached_property
    def _readers_by_value(self) -> Mapping[str, set[str]]:
        """:func:`readers_by_value` of the access rows (given, or from :attr:`_reach`)."""
        if self._readers is not None:
            return self._readers
        out: dict[str, set[str]] = {}
        for _, value, reader in self._reach:
            out.setdefault(value, set()).add(reader)
        return out

    def edge_targets(self, node: str, mechanism: Mechanism) -> list[str]:
        """Graph nodes ``node`` has a ``mechanism`` edge to (empty without a graph or that node)."""
        g = self.graph
        if g is None or node not in g:
            return []
        return list(dict.fromkeys(v for _, v, _, _ in g.edges(node, mechanism=mechanism)))

    def name_of(self, node: str) -> str:
        """A graph node's name (a value's parameter or secret name), else its label."""
        assert self.graph is not None
        return str(self.graph.node(node).get(NAME) or self.graph.label(node))

    def values_from(self, node: str) -> list[str]:
        """Names of the values reachable in the graph from ``node`` (any decision)."""
        g = self.graph
        if g is None or node not in g:
            return []
        return sorted(self.name_of(v) for v in g.descendants(node) if g.type_of(v) in SECRET_TYPES)

    @property
    def roles(self) -> dict[str, Role]:
        return self.inventory.roles

    @property
    def users(self) -> dict[str, User]:
        return self.inventory.users

    def principal_account(self, arn: str) -> str | None:
        """The account of a principal as the evaluator takes it (None when unknown), cached."""
        if arn not in self._principal_accounts:
            try:
                self._principal_accounts[arn] = self.inventory.principal(arn).account_id
            except UnknownPrincipalError:
                self._principal_accounts[arn] = None
        return self._principal_accounts[arn]

    def principals_in(self, account_id: str) -> list[str]:
        """ARNs of the collected roles, then users, that contain ``:<account_id>:`` (their account), in order.

        Built once per account: rules that look for wildcard grants in one account read only its
        principals instead of every principal of the snapshot.
        """
        hit = self._principals_by_account.get(account_id)
        if hit is None:
            needle = f":{account_id}:"
            hit = self._principals_by_account[account_id] = [a for a in (*self.roles, *self.users) if needle in a]
        return hit

    def grant_holders(self, account_id: str, action: str) -> list[tuple[str, list[Policy]]]:
        """Principals of :meth:`principals_in` with identity policies that have an Allow statement for
        ``action`` naming resources (Resource or NotResource), with those policies, in order.

        Only such a statement can grant ``action`` through a resource pattern (``shapes.wildcard_grant``):
        the other principals and policies need not be read again for every resource asked about.
        """
        key = (account_id, action)
        hit = self._holders.get(key)
        if hit is None:
            hit = self._holders[key] = []
            for arn in self.principals_in(account_id):
                policies = [
                    p
                    for p in self.identity_policies(arn)
                    if any(st.effect == "Allow" and st.resources is not None for st in p.statements_for(action))
                ]
                if policies:
                    hit.append((arn, policies))
        return hit

    def pattern_holders(self, account_id: str, action: str, arn: str) -> list[tuple[str, list[Policy]]]:
        """The :meth:`grant_holders` whose policies may allow ``action`` on ``arn`` through a pattern, in order.

        Only a NotResource statement, or a Resource pattern with ``*`` or ``?`` whose literal prefix
        ``arn`` starts with, can pass ``shapes.wildcard_grant`` (a pattern without wildcards matches
        only itself, and that is no pattern grant): the other holders need not be asked about ``arn``.
        """
        always, by_prefix, lengths = self._pattern_index(account_id, action)
        found = set(always)
        for end in lengths:
            if end > len(arn):
                break
            found.update(by_prefix.get(arn[:end], ()))
        holders = self.grant_holders(account_id, action)
        return [holders[i] for i in sorted(found)]

    def _pattern_index(self, account_id: str, action: str) -> tuple[set[int], dict[str, set[int]], list[int]]:
        """Positions in :meth:`grant_holders`: those with a NotResource grant of ``action``, and by the
        literal prefix of each wildcard Resource pattern of their grants; and the lengths of those
        prefixes, shortest first (the only prefixes of an ARN worth looking up)."""
        key = (account_id, action)
        hit = self._pattern_indexes.get(key)
        if hit is None:
            always: set[int] = set()
            by_prefix: dict[str, set[int]] = {}
            for i, (_, policies) in enumerate(self.grant_holders(account_id, action)):
                for p in policies:
                    for st in p.statements_for(action):  # those covering it (cached per policy)
                        if st.effect != "Allow" or st.resources is None:
                            continue
                        if st.resources.negated:
                            always.add(i)
                            continue
                        for r in written(p, st, "Resource"):
                            if "*" in r or "?" in r:
                                by_prefix.setdefault(literal_prefix(r), set()).add(i)
            hit = self._pattern_indexes[key] = (always, by_prefix, sorted({len(k) for k in by_prefix}))
        return hit

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

    def parsed(self, document: Mapping[str, Any] | None, *, source: str, kind: PolicyKind) -> Policy | None:
        """A document parsed by the evaluator (cached); None when absent or malformed.

        Malformed documents are listed in ``inventory.problems``; shape rules skip them.
        """
        if document is None:
            return None
        p = self.inventory.policy(document, source=source, kind=kind)
        return None if isinstance(p, PolicyError) else p

    def identity_policies(self, principal_arn: str) -> list[Policy]:
        """Identity policies of a role or user (its groups' included), as the evaluator reads them."""
        try:
            return identity_policies(self.inventory, principal_arn)
        except UnknownPrincipalError:
            return []

    def written_policies(self) -> Iterator[tuple[str, Policy]]:
        """(owner ARN, policy) of every inline policy of roles and users and every customer managed policy."""
        holders: list[Role | User] = [*self.snapshot.roles, *self.snapshot.users]
        for h in holders:
            for ip in h.inline_policies:
                p = self.parsed(ip.document, source=f"{h.arn} inline {ip.name}", kind="identity")
                if p is not None:
                    yield h.arn, p
        for mp in self.snapshot.managed_policies:
            p = None if mp.aws_managed else self.parsed(mp.document, source=mp.arn, kind="identity")
            if p is not None:
                yield mp.arn, p

    def trust_policy(self, role: Role) -> Policy | None:
        # the source name is the one resolve uses, so the parse is shared with the evaluator
        return self.parsed(role.trust_policy, source=f"{role.arn} trust policy", kind="trust")

    def key_policy(self, key: KMSKey) -> Policy | None:
        return self.parsed(key.policy, source=f"{key.arn} key policy", kind="key")

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
