"""The snapshot the hand-written plans in tests/data/terraform are written against (account 111122223333)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from irsa_lib.model import Namespace
from irsa_lib.snapshot import Snapshot
from tests.graph.factory import (
    CLUSTER,
    allow,
    irsa_trust,
    key_arn,
    key_policy_for,
    key_policy_root,
    kms_key,
    managed,
    param,
    role,
    role_arn,
    sa,
    snapshot,
    trust_roles,
)

PLANS = Path(__file__).resolve().parent.parent / "data" / "terraform"
SHARED_ARN = "arn:aws:iam::111122223333:policy/shared"


def base_snapshot() -> Snapshot:
    """app-role (IRSA app/api) reads /app/*; batch-role (trusts app-role) holds policy ``shared``; web-role reads nothing."""
    return snapshot(
        roles=[
            role(
                "app-role",
                irsa_trust("system:serviceaccount:app:api"),
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        allow("ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/app/*"),
                        allow("kms:Decrypt", key_arn("app-key")),
                    ],
                },
            ),
            dataclasses.replace(
                role("batch-role", trust_roles(role_arn("app-role"))), attached_policy_arns=(SHARED_ARN,)
            ),
            role("web-role", irsa_trust("system:serviceaccount:other:web")),
        ],
        managed_policies=[
            managed(
                "shared",
                {
                    "Version": "2012-10-17",
                    "Statement": [allow("ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/shared/*")],
                },
            )
        ],
        kms_keys=[
            kms_key("app-key", "alias/app", key_policy_for("app-role")),
            kms_key("open-key", "alias/open", key_policy_root()),
        ],
        ssm_parameters=[
            param("/app/db", "app-key"),
            param("/app/old", "app-key"),
            param("/open/config", "alias/open"),
            param("/shared/cfg", "open-key"),
        ],
        service_accounts=[sa("app", "api", "app-role"), sa("app", "worker"), sa("other", "web", "web-role")],
        namespaces=[Namespace(cluster=CLUSTER, name="app"), Namespace(cluster=CLUSTER, name="other")],
    )
