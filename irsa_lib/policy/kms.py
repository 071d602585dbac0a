"""KMS grants: does a grant let this principal perform this operation under its constraints?

A grant names a grantee principal and operations (``Decrypt``...). Its constraints compare the
request's encryption context, given as ``kms:EncryptionContext:<key>`` context keys:
``EncryptionContextEquals`` needs exactly those pairs, ``EncryptionContextSubset`` needs at least
them (KMS dev guide, grants: "Using grant constraints"). The request's encryption context is the
keys of ``kms:EncryptionContextKeys`` when given, plus the ``kms:EncryptionContext:<key>`` pairs
given; a constrained key whose value is not given is unresolved when the context is incomplete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from irsa_lib.policy.context import session_role_arn
from irsa_lib.policy.decision import StatementRef
from irsa_lib.policy.layers import FALSE, Tri, t_or
from irsa_lib.policy.principals import entity_key

if TYPE_CHECKING:
    from irsa_lib.model import Grant
    from irsa_lib.policy.context import RequestContext

UNUSABLE_KEY_STATES = frozenset(
    {"Disabled", "PendingDeletion", "PendingImport", "Unavailable", "PendingReplicaDeletion"}
)
"""Key states in which KMS refuses cryptographic operations whatever the policies say (KMS dev guide
key-state, https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html). ``Creating`` and
``Updating`` (transient states of multi-Region keys) are left out: a read is never denied on a guess."""
CRYPTOGRAPHIC_OPERATIONS = frozenset(
    {
        "decrypt",
        "encrypt",
        "reencryptfrom",
        "reencryptto",
        "generatedatakey",
        "generatedatakeywithoutplaintext",
        "generatedatakeypair",
        "generatedatakeypairwithoutplaintext",
        "sign",
        "verify",
        "generatemac",
        "verifymac",
        "derivesharedsecret",
    }
)
"""The KMS actions that use the key material (lower-case names after ``kms:``)."""


NO_RESOURCE_ACTIONS = frozenset(
    {
        "connectcustomkeystore",
        "createcustomkeystore",
        "createkey",
        "deletecustomkeystore",
        "describecustomkeystores",
        "disconnectcustomkeystore",
        "generaterandom",
        "listaliases",
        "listkeys",
        "listretirablegrants",
        "updatecustomkeystore",
    }
)
"""KMS actions with no resource type (Service Authorization Reference, "Actions defined by AWS Key
Management Service", https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html):
their Resource is ``*`` and only identity-based policies can allow them."""
ALIAS_ACTIONS = frozenset({"createalias", "updatealias", "deletealias"})
"""KMS actions on an alias *and* a key (resource types ``alias`` and ``key``, both required)."""
ALIAS_REASON = (
    "KMS alias management needs the action allowed on the alias by an IAM policy (an alias has no resource "
    "policy) and on each key it affects by that key's policy, directly or delegated to IAM (KMS dev guide "
    "alias-access)"
)


def kms_operation(action: str) -> str | None:
    """The lower-case name of a KMS action (``kms:ListKeys`` -> ``listkeys``), else None."""
    service, _, name = action.lower().partition(":")
    return name if service == "kms" else None


def is_alias_arn(resource: str) -> bool:
    """``arn:<partition>:kms:<region>:<account>:alias/<name>``."""
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms" and parts[5].startswith("alias/")


def no_resource_reason(action: str) -> str:
    """The rule in words, for a KMS action that is not about one key."""
    return (
        f"{action} has no resource type (Service Authorization Reference, KMS): it is decided on Resource '*' "
        "by the identity-based policies alone, with no key policy to require"
    )


def key_state_blocks(key_state: str | None, action: str) -> bool:
    """Whether a key in ``key_state`` refuses ``action`` (a cryptographic operation on an unusable key).

    >>> key_state_blocks("Disabled", "kms:Decrypt"), key_state_blocks("Disabled", "kms:DescribeKey")
    (True, False)
    """
    return key_state in UNUSABLE_KEY_STATES and kms_operation(action) in CRYPTOGRAPHIC_OPERATIONS


def key_state_reason(key_state: str, action: str, key: str) -> str:
    """The rule in words, for a request refused because of the key's state."""
    return (
        f"KMS key {key} is {key_state}: KMS refuses cryptographic operations such as {action} on a key in "
        "this state, whatever the key policy, grants and IAM policies say (KMS dev guide key-state)"
    )


EC_PREFIX = "kms:encryptioncontext:"
EC_KEYS = "kms:encryptioncontextkeys"
"""The keys of the request's encryption context (values may be given separately, or not at all)."""


def grant_ref(grant: Grant) -> StatementRef:
    """How a grant is named in decisions."""
    return StatementRef(source=f"grant {grant.grant_id}", index=0, sid=grant.name, effect="Allow", layer="grant")


def _grantee_kind(grant: Grant, ctx: RequestContext) -> str | None:
    """How the grant names the caller: like a Principal element (the role ARN limits like one)."""
    p = ctx.principal
    g = grant.grantee_principal
    if p.kind in ("role", "session"):
        role = p.role_arn or (p.arn if p.kind == "role" else session_role_arn(p.arn))
        if role and entity_key(g) is not None and entity_key(g) == entity_key(role):
            return "role"
    if g == p.arn or (
        p.kind in ("service", "user") and (g.lower() == p.arn.lower() or entity_key(g) == entity_key(p.arn))
    ):
        return "direct"
    if p.account_id and g in (p.account_id, f"arn:aws:iam::{p.account_id}:root"):
        return "account"
    return None


def _constraints(grant: Grant, ctx: RequestContext) -> Tri:
    c = grant.constraints
    if c is None or (c.encryption_context_equals is None and c.encryption_context_subset is None):
        return (2, (), (grant_ref(grant),))
    given = {k[len(EC_PREFIX) :]: v[0] for k, v in ctx.given_with_prefix(EC_PREFIX).items() if v}
    keys_status, keys_given = ctx.lookup(EC_KEYS)
    present = set(given) | set(keys_given)
    equals = c.encryption_context_equals is not None
    wanted: Mapping[str, str] = c.encryption_context_equals or c.encryption_context_subset or {}
    if equals and any(k not in wanted for k in present):
        return FALSE
    if any(k in given and given[k] != v for k, v in wanted.items()):
        return FALSE
    if keys_status == "present" and any(k not in present for k in wanted):
        return FALSE
    unknown = [k for k in wanted if k not in given]
    if not unknown:
        return (2, (), (grant_ref(grant),))
    if ctx.complete:
        return FALSE
    return (1, tuple(f"kms:EncryptionContext:{k}" for k in unknown), (grant_ref(grant),))


def grant_allows(grants: Sequence[Grant], action: str, ctx: RequestContext) -> dict[str, Tri]:
    """Per grantee kind (direct / role / account), whether some grant allows the KMS ``action``."""
    if not action.lower().startswith("kms:"):
        return {}
    op = action.split(":", 1)[1].lower()
    out: dict[str, list[Tri]] = {}
    for g in grants:
        if op not in (o.lower() for o in g.operations):
            continue
        kind = _grantee_kind(g, ctx)
        if kind is None:
            continue
        out.setdefault(kind, []).append(_constraints(g, ctx))
    return {k: t_or(*v) for k, v in out.items()}
