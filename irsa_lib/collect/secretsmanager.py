"""Secrets Manager: secret metadata (ListSecrets) and resource policies; never values.

A secret whose GetResourcePolicy fails is kept with ``resource_policy_readable=False`` (its policy is
unknown, not absent) and the failure is recorded in coverage, naming the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, arn_account, tags_dict
from irsa_lib.collect.documents import decode_policy
from irsa_lib.collect.responses import listing
from irsa_lib.model import SecretsManagerSecret

SERVICE = "secretsmanager"


def get_secrets(sm: Any, page_size: int | None = None) -> list[dict[str, Any]]:
    """ListSecrets over all pages (metadata only)."""
    config = {"PageSize": page_size} if page_size else {}
    return [
        s
        for page in sm.get_paginator("list_secrets").paginate(PaginationConfig=config)
        for s in listing(page, "SecretList")
    ]


def get_resource_policy(sm: Any, arn: str) -> str | None:
    """The secret's resource policy JSON, or None when it has none."""
    policy = sm.get_resource_policy(SecretId=arn).get("ResourcePolicy")
    return str(policy) if policy else None


def transform_secret(
    item: Mapping[str, Any],
    *,
    region: str,
    policy: str | Mapping[str, Any] | None = None,
    policy_readable: bool = True,
) -> SecretsManagerSecret:
    """A ListSecrets entry (+ its GetResourcePolicy answer) as a record; ``policy_readable=False``: unknown."""
    return SecretsManagerSecret(
        arn=item["ARN"],
        name=item["Name"],
        account_id=arn_account(item["ARN"]),
        region=region,
        kms_key_id=item.get("KmsKeyId") or None,
        resource_policy=decode_policy(policy) if policy else None,
        resource_policy_readable=policy_readable,
        tags=tags_dict(item.get("Tags")),
    )


def collect_secretsmanager(scope: Scope, *, page_size: int | None = None) -> Partial:
    out = Partial()
    assert scope.region is not None
    sm = scope.client("secretsmanager")
    try:
        items = get_secrets(sm, page_size)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "secretsmanager:ListSecrets")
        return out
    secrets = []
    for item in items:
        policy = None
        readable = True
        try:
            policy = get_resource_policy(sm, item["ARN"])
        except CALL_ERRORS as exc:
            readable = False
            operation = f"secretsmanager:GetResourcePolicy for secret {item['Name']}"
            out.failed(scope, "secretsmanager:GetResourcePolicy", exc, operation, resource=item["ARN"])
        secrets.append(transform_secret(item, region=scope.region, policy=policy, policy_readable=readable))
    out.add("secrets", secrets)
    out.ok(scope, SERVICE, len(secrets))
    return out
