"""CAN_READ edges: AWS identity -> SSM SecureString parameter / Secrets Manager secret.

An edge needs BOTH legs: a read action allowed on the value (any action a workload's own code
could call: GetParameter, GetParameters, GetParametersByPath on an ancestor path,
GetParameterHistory; GetSecretValue) AND kms:Decrypt on its key as the service calls it
(``kms:ViaService``, ``kms:CallerAccount`` and the encryption context). Both decisions are kept on
the edge. Candidates per identity come from an index of its Allow statements' resource patterns
plus resource policies that may name it, not from every value.
"""

from __future__ import annotations

from collections.abc import Iterator

from irsa_lib.graph.aws import Identity, ReadLeg, SecretRecord, consumer_actions
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import leg_edge
from irsa_lib.graph.schema import (
    DECRYPT_DECISION,
    ENCRYPT_DECISION,
    HOP_ONLY,
    KEY_EVIDENCE,
    PRINCIPAL_TYPES,
    READ_DECISION,
    WRITE_DECISION,
    WRITE_MECHANISMS,
    EdgeData,
    Mechanism,
    param_id,
    secret_id,
)
from irsa_lib.model import SSMParameter


def target_node(target: SecretRecord) -> str:
    return param_id(target.arn) if isinstance(target, SSMParameter) else secret_id(target.arn)


def read_edge(
    leg: ReadLeg, mechanism: Mechanism, *, via: tuple[str, ...] = (), extra_evidence: tuple[str, ...] = ()
) -> EdgeData:
    """The edge for a read + decrypt leg (or a write + encrypt leg of a write mechanism), possibly
    behind a controller chain already combined in."""
    names = (WRITE_DECISION, ENCRYPT_DECISION) if mechanism in WRITE_MECHANISMS else (READ_DECISION, DECRYPT_DECISION)
    return leg_edge(
        mechanism,
        leg.leg,
        evidence=(*extra_evidence, *leg.leg.evidence),
        actions=leg.actions,
        via=via,
        extra={names[0]: leg.read.decision, names[1]: leg.decrypt.decision, KEY_EVIDENCE: leg.decrypt.evidence},
    )


def held_identities(ctx: BuildContext) -> Iterator[tuple[str, Identity]]:
    """(node, identity) of every AWS identity in the graph whose credentials someone holds and whose
    role is in the snapshot: where read and write edges start."""
    g = ctx.graph
    for node in g.nodes_of(*PRINCIPAL_TYPES):
        identity: Identity = g.node(node)["identity"]
        if not g.node(node).get(HOP_ONLY) and ctx.aws.has_role(identity.role_arn):
            yield node, identity


def add_read_edges(ctx: BuildContext) -> None:
    g = ctx.graph
    for node, identity in held_identities(ctx):
        for target in ctx.aws.candidate_targets(identity):
            leg = ctx.aws.read(identity, target, consumer_actions("direct", target))
            if leg is None:
                continue
            tnode = target_node(target)
            g.add_edge(node, tnode, read_edge(leg, Mechanism.CAN_READ))
            if leg.decrypt.unresolved == ("kms:key-policy",):
                g.add_gap(Gap(what=leg.decrypt.evidence[0], node=tnode))
