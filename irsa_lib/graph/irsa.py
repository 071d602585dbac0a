"""IRSA edges: service account -> role, from each role's trust policy (the annotation is only a claim).

For every cluster, the roles whose trust names the cluster's OIDC provider (found through an index
of Federated principals) are evaluated for ``sts:AssumeRoleWithWebIdentity`` with the token of each
candidate service account (``sub`` = ``system:serviceaccount:<ns>:<name>``, ``aud`` = the audience
annotation or ``sts.amazonaws.com``). Candidates come from the trust's own ``sub`` conditions
(:func:`accepted_subjects`): ``StringEquals`` values are looked up, ``StringLike`` patterns are
tried on the service accounts sharing their literal prefix, so the work grows with the number of
trusts and the service accounts they can accept, not roles x service accounts. A trust the index
cannot read that way (no ``sub`` condition, a negated or ``IfExists`` operator, policy variables...)
meets every service account of the cluster; the evaluator decides every candidate.

A wildcard ``sub`` also yields ONE potential edge from a synthetic "any service account someone
could create in <cluster>[/<ns>]" node, found by probing the trust with made-up names.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from irsa_lib import subjects
from irsa_lib.graph.aws import Identity, web_principal
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import Leg, from_decision, leg_edge
from irsa_lib.graph.patterns import statements
from irsa_lib.graph.schema import (
    ARN,
    CLUSTER,
    NAMESPACE,
    SYNTHETIC,
    Mechanism,
    NodeType,
    any_sa_id,
    oidc_id,
)
from irsa_lib.model import OIDCProvider, Role, ServiceAccount
from irsa_lib.policy import Policy, Principal
from irsa_lib.policy.patterns import compile_glob, unmark
from irsa_lib.policy.principals import judge
from irsa_lib.policy.variables import KeyStatus

PROBE = "irsa-probe-made-up"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
_NARROWING = ("stringequals", "stringlike")
_POSITIVE_OPERATORS = {"stringequals", "stringlike", "stringequalsifexists", "stringlikeifexists"}


def sub_patterns(trust: Mapping[str, Any]) -> list[str] | None:
    """The ``sub`` values an Allow of this trust can accept, read from the raw document to make up
    probe subjects (:func:`_probe_subjects`), or None when it may accept any.

    Only positive string operators narrow the probes; anything else (no sub condition, a negated or
    case-insensitive operator, a ForAllValues set) counts as "any service account".
    """
    out: list[str] = []
    for st in statements(trust):
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if isinstance(principal, Mapping) and not ({"Federated", "AWS"} & set(principal)):
            continue  # a Service principal (ec2, pods.eks...) never accepts a web-identity token
        cond = st.get("Condition")
        found = False
        if isinstance(cond, Mapping):
            for op, block in cond.items():
                if not isinstance(block, Mapping):
                    continue
                for key, values in block.items():
                    if not (isinstance(key, str) and key.lower().endswith(":sub")):
                        continue
                    op_name = str(op).lower().removeprefix("foranyvalue:")
                    if op_name not in _POSITIVE_OPERATORS:
                        return None
                    vals = [values] if isinstance(values, str) else [v for v in values if isinstance(v, str)]
                    out.extend(vals if "like" in op_name else [_literal(v) for v in vals])
                    found = True
        if not found:
            return None
    return out


def _unknown(_key: str) -> tuple[KeyStatus, tuple[str, ...]]:
    return "unknown", ()


@dataclass(frozen=True)
class Accepted:
    """The token subjects a trust can accept: exact values and ``StringLike`` patterns."""

    exact: frozenset[str]
    patterns: tuple[str, ...]
    """As the evaluator's matcher takes them (``${*}`` / ``${?}`` kept as literal marks)."""


def accepted_subjects(trust: Policy | None, principal: Principal, sub_key: str) -> Accepted | None:
    """The ``sub`` values the Allow statements of ``trust`` can accept from ``principal`` (an OIDC
    provider), or None when this reading cannot tell (then every service account is a candidate).

    ``trust`` is the evaluator's parsed document and ``sub_key`` the lower-case ``<issuer>:sub``. A
    statement takes part when it covers sts:AssumeRoleWithWebIdentity and its Principal names the
    provider (the evaluator's own tests). It narrows the subjects through one condition on exactly
    ``sub_key`` with ``StringEquals`` or ``StringLike`` (plain or ``ForAnyValue:``), not negated,
    without ``IfExists`` and without policy variables: the token always carries its ``sub``, so
    such a condition is false for a subject matching none of its values, and a statement with a
    false condition allows nothing. A statement without one makes the answer None.
    """
    if trust is None:
        return None
    exact: set[str] = set()
    patterns: list[str] = []
    for st in trust.statements_for(WEB_IDENTITY):
        if st.effect != "Allow":
            continue
        if (
            st.principal is not None
            and judge(st.principal, st.not_principal, st.effect, principal, _unknown)[0] is None
        ):
            continue
        narrowing = [
            c
            for c in st.conditions
            if c.key == sub_key
            and c.base in _NARROWING
            and c.static
            and not c.negated
            and not c.if_exists
            and c.qualifier != "all"
        ]
        if not narrowing:
            return None
        best = min(narrowing, key=lambda c: c.base != "stringequals")  # exact values over patterns
        values = [v for v in best.values if isinstance(v, str)]
        if best.base == "stringequals":
            exact.update(unmark(v) for v in values)
        else:
            patterns.extend(values)
    return Accepted(frozenset(exact), tuple(patterns))


class SubjectIndex:
    """A cluster's service accounts by token subject, for :class:`Accepted` lookups."""

    def __init__(self, sas: Iterable[ServiceAccount]) -> None:
        self.sas = list(sas)
        self.position = {sa.subject: i for i, sa in enumerate(self.sas)}
        self._sorted = sorted(self.position)

    def candidates(self, accepted: Accepted | None) -> list[ServiceAccount]:
        """The service accounts whose subject ``accepted`` may admit, in the cluster's order."""
        if accepted is None:
            return self.sas
        hits = {self.position[v] for v in accepted.exact if v in self.position}
        for pattern in accepted.patterns:
            cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
            prefix = unmark(pattern[:cut])
            match = compile_glob(pattern)
            i = bisect.bisect_left(self._sorted, prefix)
            while i < len(self._sorted) and self._sorted[i].startswith(prefix):
                if match(self._sorted[i]):
                    hits.add(self.position[self._sorted[i]])
                i += 1
        return [self.sas[i] for i in sorted(hits)]


def _literal(value: str) -> str:
    """A StringEquals value as a pattern that matches only itself (``*``/``?`` are literal there)."""
    return value.replace("*", "\x00").replace("?", "\x01")


def _probe_subjects(patterns: list[str] | None) -> list[tuple[str, str | None]]:
    """(made-up subject, namespace scope or None for cluster-wide) to test the trust with."""
    probes: list[tuple[str, str | None]] = [(f"system:serviceaccount:{PROBE}:{PROBE}", None)]
    for p in patterns or []:
        if "\x00" in p or "\x01" in p or ("*" not in p and "?" not in p):
            continue
        parts = p.split(":")
        if len(parts) == 4 and parts[0] == "system" and parts[1] == "serviceaccount":
            ns_wild = "*" in parts[2] or "?" in parts[2]
            subject = p.replace("*", PROBE).replace("?", "x")
            ns = subject.split(":")[2]
            probes.append((subject, None if ns_wild else ns))
        else:
            probes.append((p.replace("*", PROBE).replace("?", "x"), None))
    return probes


def add_irsa_edges(ctx: BuildContext) -> None:
    clusters = sorted({sa.cluster for sa in ctx.snapshot.service_accounts} | set(ctx.clusters))
    for cluster in clusters:
        _cluster_edges(ctx, cluster)


def _providers_for(ctx: BuildContext, cluster: str) -> list[OIDCProvider]:
    """Every IAM OIDC provider registered for the cluster's issuer, in any collected account."""
    eks = ctx.clusters.get(cluster)
    sas = [sa for (c, _, _), sa in ctx.service_accounts.items() if c == cluster]
    if eks is None or not eks.oidc_issuer:
        if any(sa.role_arn for sa in sas):
            ctx.graph.add_gap(
                Gap(
                    what=f"cluster {cluster}: its EKS record / OIDC issuer is not in the snapshot, "
                    "so IRSA trust cannot be judged",
                    cluster=cluster,
                )
            )
        return []
    providers = ctx.aws.oidc_by_url.get(eks.oidc_issuer.removeprefix("https://"), [])
    if not providers and not ctx.aws.account_collected(eks.account_id):
        ctx.graph.add_gap(
            Gap(
                what=f"cluster {cluster}: IAM of account {eks.account_id} was not collected, "
                "so IRSA roles cannot be found",
                cluster=cluster,
            )
        )
    return providers


def _cluster_edges(ctx: BuildContext, cluster: str) -> None:
    for provider in _providers_for(ctx, cluster):
        _provider_edges(ctx, cluster, provider)


def _provider_edges(ctx: BuildContext, cluster: str, provider: OIDCProvider) -> None:
    g = ctx.graph
    oidc_node = g.add_node(
        oidc_id(provider.arn), NodeType.OIDC_PROVIDER, f"OIDC {provider.url}", **{ARN: provider.arn, CLUSTER: cluster}
    )
    index = SubjectIndex(sa for (c, _, _), sa in ctx.service_accounts.items() if c == cluster)
    principal = web_principal(provider)
    sub_key = f"{provider.url.removeprefix('https://')}:sub".lower()
    for role in ctx.aws.roles_trusting_federated(provider.arn):
        trust = ctx.aws.trust_policies(provider, role).resource
        accepted = accepted_subjects(trust, principal, sub_key)
        candidates = index.candidates(accepted)
        if not ctx.aws.trust_reads_sub(role) and all(
            ctx.aws.web_identity(provider, role, sub=sa.subject, aud=aud).outcome == "deny"
            for aud, sa in {sa.audience: sa for sa in candidates}.items()
        ):
            candidates = []  # one answer per audience, and every one is a deny: skip the accounts
        for sa in candidates:
            _sa_edge(ctx, provider, oidc_node, role, sa)
        # a trust accepting only exact subjects accepts no made-up one: nothing to probe
        if accepted is None or accepted.patterns:
            patterns = sub_patterns(role.trust_policy)
            _potential_edges(ctx, provider, oidc_node, role, cluster, patterns, index.position.keys())


def _sa_edge(ctx: BuildContext, provider: OIDCProvider, oidc_node: str, role: Role, sa: ServiceAccount) -> None:
    decision = ctx.aws.web_identity(provider, role, sub=sa.subject, aud=sa.audience)
    leg = from_decision(decision, f"trust of {role.arn} for token sub={sa.subject} aud={sa.audience}")
    if leg is None:
        return
    configured = sa.role_arn == role.arn
    evidence = leg.evidence
    if configured:
        evidence = (f"annotation eks.amazonaws.com/role-arn={role.arn} on sa {sa.namespace}/{sa.name}", *evidence)
    sa_node = ctx.sa_node(sa.cluster, sa.namespace, sa.name)
    role_node = ctx.role_node(role.arn)
    ctx.graph.add_edge(
        sa_node,
        role_node,
        leg_edge(
            Mechanism.IRSA,
            leg,
            evidence=evidence,
            configured=configured,
            via=(oidc_node,),
        ),
    )
    ctx.sa_reach[sa_node].append(
        Reach(
            node=role_node,
            identity=Identity(role.arn),
            leg=Leg(decision=leg.decision, evidence=evidence, unresolved=leg.unresolved, missing=leg.missing),
            mechanism=Mechanism.IRSA,
            configured=configured,
        )
    )


def _potential_edges(
    ctx: BuildContext,
    provider: OIDCProvider,
    oidc_node: str,
    role: Role,
    cluster: str,
    patterns: list[str] | None,
    existing: Collection[str],
) -> None:
    done: set[str | None] = set()
    for subject, ns in _probe_subjects(patterns):
        if subject in existing:
            continue
        scope: str | None = None if ns is None else ns
        if None in done or scope in done:
            continue
        leg = from_decision(
            ctx.aws.web_identity(provider, role, sub=subject, aud="sts.amazonaws.com"),
            f"trust of {role.arn} for a made-up token sub={subject}",
        )
        if leg is None:
            continue
        done.add(scope)
        node = ctx.graph.add_node(
            any_sa_id(cluster, scope),
            NodeType.ANY_SERVICE_ACCOUNT,
            subjects.display(subjects.Subject(subjects.SubjectKind.ANY_SERVICE_ACCOUNT, cluster, scope, "*")),
            **{CLUSTER: cluster, NAMESPACE: scope, SYNTHETIC: True},
        )
        ctx.graph.add_edge(
            node,
            ctx.role_node(role.arn),
            leg_edge(
                Mechanism.IRSA,
                leg,
                evidence=(f"the trust accepts a service account that does not exist yet ({subject})", *leg.evidence),
                decision="potential",
                configured=False,
                via=(oidc_node,),
            ),
        )


def token_leg(
    ctx: BuildContext, cluster: str, subject: str, role_arn: str, audiences: tuple[str, ...] | None
) -> Leg | None:
    """Does ``role_arn``'s trust accept a token of ``subject`` minted by someone else (ESO) for
    ``audiences``? None when it does not (or the cluster's provider or the role is unknown).

    ``audiences`` None: whoever mints the token picks them (a SecretStore author), so a condition
    on ``aud`` stays unresolved. Several audiences: the token's ``aud`` is a list; when the trust's
    answer depends on which of them IAM matches, the leg is ``conditional`` on ``<issuer>:aud``.
    """
    eks = ctx.clusters.get(cluster)
    role = ctx.aws.roles.get(role_arn)
    if eks is None or not eks.oidc_issuer or role is None:
        return None
    # A role's trust can only name an OIDC provider of its own account.
    provider = next(
        (
            p
            for p in ctx.aws.oidc_by_url.get(eks.oidc_issuer.removeprefix("https://"), [])
            if p.account_id == role.account_id
        ),
        None,
    )
    if provider is None:
        return None
    auds = tuple(dict.fromkeys(audiences)) if audiences is not None else None

    def leg(aud: str | tuple[str, ...] | None) -> Leg | None:
        shown = "chosen by the token's requester" if aud is None else aud if isinstance(aud, str) else ",".join(aud)
        what = f"trust of {role.arn} for token sub={subject} aud={shown}"
        return from_decision(ctx.aws.web_identity(provider, role, sub=subject, aud=aud), what)

    if auds is None or len(auds) == 1:
        return leg(auds[0] if auds else None)
    whole = leg(auds)
    each = [leg(a) for a in auds]
    outcomes = {None if x is None else x.decision for x in (whole, *each)}
    if len(outcomes) == 1:
        return whole
    key = f"{provider.url.removeprefix('https://')}:aud"
    return Leg(
        decision="conditional",
        evidence=(
            f"the token carries several audiences ({', '.join(auds)}) and the trust of {role.arn} "
            f"decides differently per audience: how IAM matches them against {key} is not decided here",
            *(e for x in (whole, *each) if x is not None for e in x.evidence),
        ),
        unresolved=(key,),
    )
