"""KMS: keys with metadata, key policy, rotation, grants and aliases, per region.

A failure on one key (AccessDenied on its key policy, say) is recorded in coverage with the key's ARN
and the key is kept with ``policy=None``: access through that key is then unknown, not denied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope
from irsa_lib.collect.documents import decode_policy
from irsa_lib.collect.responses import listing
from irsa_lib.model import Grant, GrantConstraints, KMSKey

SERVICE = "kms"


# --- get ---------------------------------------------------------------------------------------------


def get_keys(kms: Any, page_size: int | None = None) -> list[dict[str, Any]]:
    """ListKeys: ``[{"KeyId", "KeyArn"}]`` over all pages."""
    config = {"PageSize": page_size} if page_size else {}
    return [
        k for page in kms.get_paginator("list_keys").paginate(PaginationConfig=config) for k in listing(page, "Keys")
    ]


def get_aliases(kms: Any) -> list[dict[str, Any]]:
    return [a for page in kms.get_paginator("list_aliases").paginate() for a in listing(page, "Aliases")]


def get_key_metadata(kms: Any, key_id: str) -> dict[str, Any]:
    return dict(kms.describe_key(KeyId=key_id)["KeyMetadata"])


def get_key_policy(kms: Any, key_id: str) -> str:
    """The key policy; KMS keys have exactly one, named ``default`` (moto requires the name)."""
    return str(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def get_rotation(kms: Any, key_id: str) -> bool:
    return bool(kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"])


def get_tags(kms: Any, key_id: str) -> dict[str, str]:
    """ListResourceTags over all pages (AWS managed keys have none)."""
    pages = kms.get_paginator("list_resource_tags").paginate(KeyId=key_id)
    return {t["TagKey"]: t["TagValue"] for page in pages for t in page.get("Tags", [])}


def get_grants(kms: Any, key_id: str) -> list[dict[str, Any]]:
    return [g for page in kms.get_paginator("list_grants").paginate(KeyId=key_id) for g in listing(page, "Grants")]


# --- transform ---------------------------------------------------------------------------------------


def transform_aliases(aliases: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Alias names per target key id (aliases of AWS managed keys not yet created have no target)."""
    out: dict[str, list[str]] = {}
    for alias in aliases:
        target = alias.get("TargetKeyId")
        if target:
            out.setdefault(target, []).append(alias["AliasName"])
    return {k: tuple(sorted(v)) for k, v in out.items()}


def transform_grant(grant: Mapping[str, Any]) -> Grant:
    constraints = grant.get("Constraints")
    return Grant(
        grant_id=grant["GrantId"],
        grantee_principal=grant["GranteePrincipal"],
        operations=tuple(grant.get("Operations", [])),
        name=grant.get("Name") or None,
        retiring_principal=grant.get("RetiringPrincipal"),
        issuing_account=grant.get("IssuingAccount"),
        constraints=GrantConstraints(
            encryption_context_equals=constraints.get("EncryptionContextEquals"),
            encryption_context_subset=constraints.get("EncryptionContextSubset"),
        )
        if constraints
        else None,
    )


def transform_key(
    metadata: Mapping[str, Any],
    *,
    region: str,
    aliases: Sequence[str] = (),
    policy: str | Mapping[str, Any] | None = None,
    rotation: bool | None = None,
    grants: Sequence[Mapping[str, Any]] = (),
    tags: Mapping[str, str] | None = None,
) -> KMSKey:
    """DescribeKey's KeyMetadata plus what was read about the key, as a KMSKey record."""
    reported = metadata.get("KeyManager")
    if reported not in ("AWS", "CUSTOMER"):
        raise ValueError(f"key {metadata['Arn']}: unknown KeyManager {reported!r}")
    # KMS reserves the alias/aws/ prefix for AWS managed keys (CreateAlias refuses it to customers);
    # an endpoint that reports such a key as CUSTOMER (moto does) is corrected here.
    manager: Literal["AWS", "CUSTOMER"] = "AWS" if any(a.startswith("alias/aws/") for a in aliases) else reported
    return KMSKey(
        arn=metadata["Arn"],
        key_id=metadata["KeyId"],
        account_id=metadata["AWSAccountId"],
        region=region,
        manager=manager,
        key_state=metadata.get("KeyState", "Enabled"),
        key_usage=metadata.get("KeyUsage", "ENCRYPT_DECRYPT"),
        key_spec=metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT",
        aliases=tuple(aliases),
        rotation_enabled=rotation,
        policy=decode_policy(policy) if policy is not None else None,
        grants=tuple(transform_grant(g) for g in grants),
        description=metadata.get("Description") or "",
        tags=dict(tags) if tags is not None else None,
    )


def rotation_applies(metadata: Mapping[str, Any]) -> bool:
    """Rotation can be switched on only for customer managed symmetric keys with KMS key material."""
    return (
        metadata.get("KeyManager") == "CUSTOMER"
        and (metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT")
        == "SYMMETRIC_DEFAULT"
        and metadata.get("Origin", "AWS_KMS") == "AWS_KMS"
        and metadata.get("KeyState") not in ("PendingDeletion", "PendingReplicaDeletion")
    )


# --- collect -----------------------------------------------------------------------------------------


def collect_kms(scope: Scope, *, page_size: int | None = None) -> Partial:
    """Every key of the region with what can be read about it."""
    out = Partial()
    assert scope.region is not None
    kms = scope.client("kms")
    try:
        listed = get_keys(kms, page_size)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "kms:ListKeys")
        return out
    try:
        aliases = transform_aliases(get_aliases(kms))
    except CALL_ERRORS as exc:
        aliases = {}
        out.failed(scope, "kms:ListAliases", exc, "kms:ListAliases")
    keys: list[KMSKey] = []
    for entry in listed:
        arn = entry.get("KeyArn") or entry["KeyId"]
        try:
            metadata = get_key_metadata(kms, entry["KeyId"])
        except CALL_ERRORS as exc:
            out.failed(scope, "kms:DescribeKey", exc, "kms:DescribeKey", resource=arn)
            continue
        key_id = metadata["KeyId"]
        policy: str | None = None
        try:
            policy = get_key_policy(kms, key_id)
        except CALL_ERRORS as exc:
            out.failed(scope, "kms:GetKeyPolicy", exc, "kms:GetKeyPolicy", resource=metadata["Arn"])
        rotation: bool | None = None
        if rotation_applies(metadata):
            try:
                rotation = get_rotation(kms, key_id)
            except CALL_ERRORS as exc:
                out.failed(scope, "kms:GetKeyRotationStatus", exc, "kms:GetKeyRotationStatus", resource=metadata["Arn"])
        grants: list[dict[str, Any]] = []
        try:
            grants = get_grants(kms, key_id)
        except CALL_ERRORS as exc:
            out.failed(scope, "kms:ListGrants", exc, "kms:ListGrants", resource=metadata["Arn"])
        tags: dict[str, str] | None = None
        try:
            tags = get_tags(kms, key_id)
        except CALL_ERRORS as exc:
            out.failed(scope, "kms:ListResourceTags", exc, "kms:ListResourceTags", resource=metadata["Arn"])
        keys.append(
            transform_key(
                metadata,
                region=scope.region,
                aliases=aliases.get(key_id, ()),
                policy=policy,
                rotation=rotation,
                grants=grants,
                tags=tags,
            )
        )
    out.add("kms_keys", keys)
    out.ok(scope, SERVICE, len(keys))
    return out
