"""CAN_WRITE edges: AWS identity -> SSM SecureString parameter / Secrets Manager secret it may overwrite.

The put action (``ssm:PutParameter`` / ``secretsmanager:PutSecretValue``) AND the KMS action that
encrypts the new value must be allowed (see :meth:`~irsa_lib.graph.aws.AwsView.write`). These edges
answer "who can poison this value" (ESO PushSecret, finding F26); reading queries never follow them.
"""

from __future__ import annotations

from irsa_lib.graph.aws import ALL_WRITE_ACTIONS, Identity
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.read import read_edge, target_node
from irsa_lib.graph.schema import HOP_ONLY, PRINCIPAL_TYPES, Mechanism


def add_write_edges(ctx: BuildContext) -> None:
    g = ctx.graph
    for node in g.nodes_of(*PRINCIPAL_TYPES):
        identity: Identity = g.node(node)["identity"]
        if g.node(node).get(HOP_ONLY) or not ctx.aws.has_role(identity.role_arn):
            continue
        for target in ctx.aws.candidate_targets(identity, ALL_WRITE_ACTIONS):
            leg = ctx.aws.write(identity, target)
            if leg is not None:
                g.add_edge(node, target_node(target), read_edge(leg, Mechanism.CAN_WRITE))
