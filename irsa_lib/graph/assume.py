"""sts:AssumeRole edges between roles reachable from Kubernetes, found through a trust-principal index.

Starting from every identity node already in the graph (IRSA, Pod Identity and node roles), each
role's candidate destinations are the roles whose trust names it (ARN, unique id, a session of
it), its account, or ``*`` (the last two only when its identity policies may allow the call); the
evaluator then decides each candidate. Newly reached roles are expanded in turn (breadth first).
Session tags (Pod Identity) are transitive, so a tagged session reaches tagged sessions.
"""

from __future__ import annotations

from collections import deque

from irsa_lib.graph.aws import Identity
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.legs import leg_edge
from irsa_lib.graph.schema import HOP_ONLY, PRINCIPAL_TYPES, Mechanism, NodeType


def add_assume_edges(ctx: BuildContext) -> None:
    g = ctx.graph
    queue: deque[str] = deque(g.nodes_of(*PRINCIPAL_TYPES))
    done: set[str] = set()
    while queue:
        node = queue.popleft()
        if node in done:
            continue
        done.add(node)
        attrs = g.node(node)
        if attrs.get(HOP_ONLY):
            continue
        identity: Identity = attrs["identity"]
        source = ctx.aws.roles.get(identity.role_arn)
        if source is None:
            continue
        origin = attrs.get("origin")
        for dest in ctx.aws.roles_trusting(source):
            leg = ctx.aws.assume(identity, dest.arn)
            if leg is None:
                continue
            dest_identity = Identity(dest.arn, identity.tags)
            dest_node = ctx.identity_node(dest_identity, origin)
            g.add_edge(
                node,
                dest_node,
                leg_edge(
                    Mechanism.ASSUME_ROLE,
                    leg,
                    chained=g.type_of(node) != NodeType.NODE_ROLE,
                ),
            )
            if dest_node not in done:
                queue.append(dest_node)
