"""CAN_WRITE edges: AWS identity -> SSM SecureString parameter / Secrets Manager secret it may overwrite.

The put action (``ssm:PutParameter`` / ``secretsmanager:PutSecretValue``) AND the KMS action that
encrypts the new value must be allowed (see :meth:`~irsa_lib.graph.aws.AwsView.write`). These edges
answer "who can poison this value" (ESO PushSecret, finding F26); reading queries never follow them.
"""

from __future__ import annotations

from irsa_lib.graph.aws import ALL_WRITE_ACTIONS
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.read import held_identities, read_edge, target_node
from irsa_lib.graph.schema import Mechanism


def add_write_edges(ctx: BuildContext) -> None:
    g = ctx.graph
    for node, identity in held_identities(ctx):
        for target in ctx.aws.candidate_targets(identity, ALL_WRITE_ACTIONS):
            leg = ctx.aws.write(identity, target)
            if leg is not None:
                g.add_edge(node, target_node(target), read_edge(leg, Mechanism.CAN_WRITE))
