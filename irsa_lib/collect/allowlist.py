"""The one allow-list of read-only AWS operations the collector may send, and the guard that enforces it.

Every AWS client the collector uses is made by :func:`guarded_client`, which refuses, before anything is
sent, any operation not listed here. Nothing here returns a secret value: no ``ssm:GetParameter*``, no
``secretsmanager:GetSecretValue``/``BatchGetSecretValue``, no ``kms:Decrypt``. The IAM policy shipped in
``deploy/collector-policy.json`` grants exactly these actions (a test keeps the two in step).

>>> is_allowed("kms", "DescribeKey"), is_allowed("ssm", "GetParameter")
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irsa_lib.collect.errors import OperationNotAllowedError

ALLOWED_OPERATIONS: Mapping[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity", "AssumeRole"}),
    "iam": frozenset(
        {
            "GetAccountAuthorizationDetails",
            "ListRoles",
            "GetPolicy",
            "GetPolicyVersion",
            "ListOpenIDConnectProviders",
            "GetOpenIDConnectProvider",
        }
    ),
    "organizations": frozenset(
        {
            "DescribeOrganization",
            "ListParents",
            "ListPoliciesForTarget",
            "DescribePolicy",
            "ListAccounts",
            "ListAccountsForParent",
            "ListOrganizationalUnitsForParent",
        }
    ),
    "kms": frozenset(
        {
            "ListKeys",
            "DescribeKey",
            "GetKeyPolicy",
            "GetKeyRotationStatus",
            "ListGrants",
            "ListAliases",
            "ListResourceTags",
        }
    ),
    "ssm": frozenset({"DescribeParameters", "GetResourcePolicies", "ListTagsForResource"}),
    "secretsmanager": frozenset({"ListSecrets", "GetResourcePolicy"}),
    "eks": frozenset(
        {
            "ListClusters",
            "DescribeCluster",
            "ListNodegroups",
            "DescribeNodegroup",
            "ListPodIdentityAssociations",
            "DescribePodIdentityAssociation",
        }
    ),
    "ec2": frozenset({"DescribeLaunchTemplateVersions", "DescribeInstances", "DescribeRegions"}),
}
"""botocore service name -> API operation names. For these services the IAM action prefix is the
service name and the action name is the operation name, so ``iam_actions()`` is the policy's action list."""


def is_allowed(service: str, operation: str) -> bool:
    """Whether ``service:operation`` is on the allow-list."""
    return operation in ALLOWED_OPERATIONS.get(service, frozenset())


def iam_actions() -> frozenset[str]:
    """The allow-list as IAM actions (``kms:DescribeKey``), for the collector policy."""
    return frozenset(f"{svc}:{op}" for svc, ops in ALLOWED_OPERATIONS.items() for op in ops)


def check_operation(service: str, operation: str) -> None:
    """Raise :class:`OperationNotAllowedError` unless the operation is on the allow-list."""
    if not is_allowed(service, operation):
        raise OperationNotAllowedError(
            f"refusing to send {service}:{operation}: not on the collector's read-only allow-list"
        )


def _guard(model: Any, **_: Any) -> None:
    """botocore hook on ``before-parameter-build`` (before a request is built) and ``before-call`` (last
    stop before sending, and before a ``Stubber`` would answer)."""
    check_operation(model.service_model.service_name, model.name)


def install_guard(client: Any) -> Any:
    """Register the allow-list guard on a botocore client (every operation it makes) and return it."""
    service = client.meta.service_model.service_name
    if service not in ALLOWED_OPERATIONS:
        raise OperationNotAllowedError(f"refusing to create a {service} client: no operation of it is allowed")
    client.meta.events.register_first("before-parameter-build", _guard, unique_id="irsa-allowlist-guard")
    client.meta.events.register_first("before-call", _guard, unique_id="irsa-allowlist-guard-call")
    return client
