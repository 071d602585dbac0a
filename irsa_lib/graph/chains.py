"""Credential chains of controllers: start from an identity, assume roles one after another.

A chain is a :class:`~irsa_lib.graph.context.Reach` whose ``via`` lists the nodes passed through;
each extension evaluates one ``sts:AssumeRole`` hop and combines its leg with the chain's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from irsa_lib.graph.aws import Identity, ReadConsumer, ReadLeg, SecretRecord, consumer_actions
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import ALLOW, Leg, combine
from irsa_lib.graph.read import read_edge, target_node
from irsa_lib.graph.schema import EVIDENCE, Mechanism


def rebase(start: str, reach: Reach) -> Reach:
    """The same reach, with ``start`` (e.g. the controller's service account) as its first hop."""
    return Reach(
        node=reach.node,
        identity=reach.identity,
        leg=reach.leg,
        mechanism=reach.mechanism,
        configured=reach.configured,
        via=(start, *reach.via),
    )


def extend(
    ctx: BuildContext,
    chain: Reach,
    role_arn: str,
    *,
    context: Mapping[str, str | Sequence[str]] | None = None,
    what: str,
    extra_legs: Sequence[Leg] = (),
    tags: Mapping[str, str] | None = None,
    origin: tuple[str, str, str] | None = None,
) -> Reach | None:
    """``chain`` then sts:AssumeRole into ``role_arn``.

    ``tags``: session tags passed on this hop (then sts:TagSession must be allowed too); the
    chain's own tags are treated as transitive. ``origin`` names the session node when tagged.
    """
    if not ctx.aws.has_role(role_arn):
        return None
    ctx_map: dict[str, str | Sequence[str]] = dict(context or {})
    if tags:
        ctx_map.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        ctx_map["aws:TagKeys"] = sorted(tags)
    hop = ctx.aws.assume(chain.identity, role_arn, context=ctx_map, what=what)
    legs: list[Leg | None] = [chain.leg, hop, *extra_legs]
    if tags:
        legs.append(
            ctx.aws.assume(
                chain.identity, role_arn, context=ctx_map, what=f"{what} (sts:TagSession)", action="sts:TagSession"
            )
        )
    leg = combine(legs)
    if leg is None:
        return None
    merged = {**chain.identity.tag_map, **(tags or {})}
    identity = Identity(role_arn, tuple(sorted(merged.items())))
    where = origin or _origin(ctx, chain.node)
    node = ctx.identity_node(identity, where) if identity.tags and where else ctx.role_node(role_arn)
    if identity.tags and not where:
        identity = Identity(role_arn)
    return Reach(node=node, identity=identity, leg=leg, mechanism=Mechanism.ASSUME_ROLE, via=chain.hops)


def _origin(ctx: BuildContext, node: str) -> tuple[str, str, str] | None:
    origin = ctx.graph.node(node).get("origin")
    if not origin:
        return None
    cluster, namespace, sa = origin
    return (str(cluster), str(namespace), str(sa))


def note_missing_role(ctx: BuildContext, role_arn: str, cluster: str, who: str) -> None:
    """A chain names a role the snapshot does not have: unknown if its account's IAM was not collected."""
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else None
    if not ctx.aws.has_role(role_arn) and not ctx.aws.account_collected(account):
        ctx.graph.add_gap(
            Gap(what=f"{who} uses role {role_arn}, whose account's IAM was not collected", cluster=cluster)
        )


def add_controller_read(
    ctx: BuildContext,
    source: str,
    chain: Reach,
    target: SecretRecord,
    read: ReadLeg,
    mechanism: Mechanism,
    *,
    evidence: tuple[str, ...] = (),
) -> None:
    """``source`` (an ExternalSecret or workload) -> value, through ``chain`` then read + decrypt."""
    combined = _behind(chain, read)
    if combined is None:
        return
    ctx.graph.add_edge(
        source,
        target_node(target),
        read_edge(combined, mechanism, via=chain.hops, extra_evidence=evidence),
        key=f"{mechanism}:{chain.node}",
    )


def _behind(chain: Reach, read: ReadLeg) -> ReadLeg | None:
    """``read`` made by the identity at the end of ``chain``: the chain's leg combined with the read's."""
    leg = combine([chain.leg, read.leg])
    return None if leg is None else ReadLeg(leg=leg, actions=read.actions, read=read.read, decrypt=read.decrypt)


Admission = tuple[tuple[str, ...], str | None, Leg]
"""One way an object someone could create may fetch a value: (actions, the one by-path path or None
for any ancestor, the leg of whatever admits it)."""


def add_synthetic_reads(
    ctx: BuildContext,
    source: str,
    chain: Reach,
    consumer: ReadConsumer,
    mechanism: Mechanism,
    why: str,
    admit: Callable[[SecretRecord], list[Admission]] | None = None,
) -> None:
    """What an object someone could create (``source``) could fetch through ``chain``: every value
    the chain's final identity can read with the consumer's actions (by-path on any ancestor).

    ``admit``: the ways the object may name a value (default: any way the consumer has); a value
    with no admission is not fetched. The edges are those :func:`add_controller_read` adds, with
    ``why`` first in their evidence; without a naming gate they are worked out once per chain and
    copied to every namespace's object (one "any ExternalSecret in <ns>" per namespace).
    """
    found = _synthetic_found(ctx, chain, consumer, admit)
    edges = _chain_reads(ctx, chain, found, mechanism, shared=admit is None)
    ctx.graph.add_edges_from(
        source,
        ((v, {**attrs, EVIDENCE: (why, *attrs[EVIDENCE])}) for v, attrs in edges),
        key=f"{mechanism}:{chain.node}",
    )


def _chain_reads(
    ctx: BuildContext, chain: Reach, found: list[tuple[SecretRecord, ReadLeg]], mechanism: Mechanism, *, shared: bool
) -> list[tuple[str, dict[str, Any]]]:
    """(value node, edge attributes) of each read in ``found`` behind ``chain``; ``shared``: ``found``
    is the same list for every namespace, so the answer is kept (with the objects whose ids key it)."""
    key = (id(chain), id(found), mechanism)
    hit = ctx.chain_reads.get(key) if shared else None
    if hit is not None:
        return hit[2]
    out = []
    for target, read in found:
        combined = _behind(chain, read)
        if combined is not None:
            out.append((target_node(target), read_edge(combined, mechanism, via=chain.hops).attrs()))
    if shared:
        ctx.chain_reads[key] = (chain, found, out)
    return out


def _synthetic_found(
    ctx: BuildContext,
    chain: Reach,
    consumer: ReadConsumer,
    admit: Callable[[SecretRecord], list[Admission]] | None,
) -> list[tuple[SecretRecord, ReadLeg]]:
    """(value, best read) for every value the chain's identity fetches; without a naming gate the
    answer does not depend on the namespace, so it is computed once per (identity, consumer)."""
    key = (chain.identity, consumer)
    if admit is None and key in ctx.synthetic_reads:
        return ctx.synthetic_reads[key]
    out: list[tuple[SecretRecord, ReadLeg]] = []
    for target in ctx.aws.candidate_targets(chain.identity):
        options = admit(target) if admit is not None else [(_any_way(consumer, target), None, ALLOW)]
        found: ReadLeg | None = None
        for actions, path, gate in options:
            read = ctx.aws.read(chain.identity, target, actions, path=path)
            leg = combine([read.leg, gate]) if read is not None else None
            if read is None or leg is None:
                continue
            if found is None or (found.leg.decision == "conditional" and leg.decision == "allow"):
                found = ReadLeg(leg=leg, actions=read.actions, read=read.read, decrypt=read.decrypt)
        if found is not None:
            out.append((target, found))
    if admit is None:
        ctx.synthetic_reads[key] = out
    return out


def _any_way(consumer: ReadConsumer, target: SecretRecord) -> tuple[str, ...]:
    actions = consumer_actions(consumer, target)
    return ("ssm:GetParameter", "ssm:GetParametersByPath") if actions == ("ssm:GetParameter",) else actions
