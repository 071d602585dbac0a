"""The policy documents of the reference pattern (domain-spec §0, §5.3, §5.4), as pure functions.

* the service role's **trust**: only the controller role may ``sts:AssumeRole`` (plus
  ``sts:TagSession`` when ESO session tags are used);
* the service role's **read policy**: SSM reads on ``parameter/<service>/*`` (and the path itself for
  ``GetParametersByPath``), ``kms:Decrypt`` on its own key only through SSM / Secrets Manager, and
  ``secretsmanager:GetSecretValue`` on ``<name>-??????`` for each Secrets Manager secret;
* the **key policy**: administrators administer, the service role decrypts only via the services,
  and nothing delegates ``kms:Decrypt`` to the account (no "Enable IAM policies" ``kms:*`` to root);
* the controller role's **assume policy**, one inline policy per service.

Why the key stays manageable without root ``kms:*``: KMS refuses a key policy (CreateKey,
PutKeyPolicy) that would stop the caller from changing it later -- the "policy lockout safety
check" -- unless ``BypassPolicyLockoutSafetyCheck`` is set, which this code never does. The
administration statement gives the account root (delegating to IAM) and/or the named key
administrators the *administrative* actions only, including ``kms:PutKeyPolicy``, so the key is
always recoverable by an IAM administrator, yet no IAM policy can let anyone decrypt with it:
decryption must be granted in the key policy itself, to the service role. (An administrator can of
course rewrite the key policy; key administrators are therefore listed as potential decrypters.)
Writing values (``PutParameter``/``CreateSecret``) needs ``kms:Encrypt``/``kms:GenerateDataKey``
through SSM / Secrets Manager; these are delegated to the account's IAM policies because
encrypting reveals nothing already stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from irsa_lib.onboarding.params import OnboardingParams

VERSION = "2012-10-17"

KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
"""Manage the key, never use it for data: no Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, CreateGrant."""

SSM_READ_ACTIONS: tuple[str, ...] = ("ssm:GetParameter", "ssm:GetParameters")
WRITE_KEY_ACTIONS: tuple[str, ...] = ("kms:Encrypt", "kms:GenerateDataKey")


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def account_root(p: OnboardingParams) -> str:
    return f"arn:{p.partition}:iam::{p.account_id}:root"


def trust_policy(p: OnboardingParams) -> dict[str, Any]:
    """Trust of ``<service>-service-role``: the controller role ARN, nothing else."""
    actions: str | list[str] = "sts:AssumeRole"
    if p.eso_session_tags:
        actions = ["sts:AssumeRole", "sts:TagSession"]
    return _doc(
        {
            "Sid": "ControllerAssumes",
            "Effect": "Allow",
            "Principal": {"AWS": p.controller_role_arn},
            "Action": actions,
        }
    )


def read_policy(p: OnboardingParams, key_arn: str) -> dict[str, Any]:
    """Identity policy of the service role: its own path, its own key (via the services), its own secrets."""
    path = p.parameter_arn(f"/{p.service}")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadOwnParameters",
            "Effect": "Allow",
            "Action": list(SSM_READ_ACTIONS),
            "Resource": f"{path}/*",
        },
        {
            "Sid": "ReadOwnParameterPath",
            "Effect": "Allow",
            "Action": "ssm:GetParametersByPath",
            "Resource": [path, f"{path}/*"],
        },
        {
            "Sid": "DecryptWithOwnKeyViaService",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": _one_or_list(p.via_services())}},
        },
    ]
    if p.sm_secrets:
        statements.append(
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": _one_or_list(tuple(p.secret_arn_pattern(s.name) for s in p.sm_secrets)),
            }
        )
    return _doc(*statements)


def key_policy(p: OnboardingParams) -> dict[str, Any]:
    """Key policy of the service's CMK (see the module docstring for the lockout reasoning)."""
    admins = ([account_root(p)] if p.root_administers_key else []) + list(p.key_admin_arns)
    return reference_key_policy(
        name=p.service,
        root=account_root(p),
        admins=admins,
        decrypters=(p.service_role_arn,),
        via=p.via_services(),
    )


def reference_key_policy(
    *, name: str, root: str, admins: Sequence[str], decrypters: Sequence[str], via: Sequence[str]
) -> dict[str, Any]:
    """The reference key policy: ``admins`` administer, ``decrypters`` decrypt only through the services
    in ``via`` (``kms:ViaService``), ``root`` encrypts through them; nothing delegates ``kms:Decrypt``
    to the account. Without decrypters, no one may decrypt."""
    via_value = _one_or_list(tuple(via))
    statements: list[dict[str, Any]] = [
        {
            "Sid": "KeyAdministrationOnly",
            "Effect": "Allow",
            "Principal": {"AWS": _one_or_list(tuple(dict.fromkeys(admins)))},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        }
    ]
    if decrypters:
        statements.append(
            {
                "Sid": "ServiceRoleDecryptViaService",
                "Effect": "Allow",
                "Principal": {"AWS": _one_or_list(tuple(dict.fromkeys(decrypters)))},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": via_value}},
            }
        )
    statements.append(
        {
            "Sid": "WriteValuesViaService",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(WRITE_KEY_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": via_value}},
        }
    )
    doc = _doc(*statements)
    doc["Id"] = f"{name}-key-policy"
    return doc


def controller_assume_policy(p: OnboardingParams) -> dict[str, Any]:
    """Inline policy ``assume-<service>-service-role`` added to the controller role."""
    return _doc(
        {
            "Sid": "AssumeServiceRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": p.service_role_arn,
        }
    )


def _one_or_list(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def canonical(doc: Any) -> Any:
    """A policy document in a form where equal meaning compares equal (order, one-element lists).

    Used to decide ``unchanged`` vs ``update``: IAM and KMS may return a document re-serialised.
    """
    if isinstance(doc, dict):
        return {k: canonical(v) for k, v in sorted(doc.items())}
    if isinstance(doc, list | tuple):
        items = [canonical(v) for v in doc]
        if len(items) == 1 and not isinstance(items[0], dict):
            return items[0]
        try:
            return sorted(items, key=repr)
        except TypeError:  # pragma: no cover - repr always sorts
            return items
    return doc
