"""KMS grants: does a grant let this principal perform this operation under its constraints?

A grant names a grantee principal and operations (``Decrypt``...). Its constraints compare the
request's encryption context, given as ``kms:EncryptionContext:<key>`` context keys:
``EncryptionContextEquals`` needs exactly those pairs, ``EncryptionContextSubset`` needs at least
them (KMS dev guide, grants: "Using grant constraints"). The request's encryption-context keys are
``kms:EncryptionContextKeys`` when given (some values may still be unknown: Secrets Manager's
``SecretVersionId`` cannot be known statically), else the ``kms:EncryptionContext:*`` keys given.
A constrained key whose value is not given is unresolved when the context is incomplete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from irsa_lib.policy.context import session_role_arn
from irsa_lib.policy.decision import StatementRef
from irsa_lib.policy.layers import FALSE, Tri, t_or

if TYPE_CHECKING:
    from irsa_lib.model import Grant
    from irsa_lib.policy.context import RequestContext

EC_PREFIX = "kms:encryptioncontext:"
EC_KEYS = "kms:encryptioncontextkeys"


def grant_ref(grant: Grant) -> StatementRef:
    """How a grant is named in decisions."""
    return StatementRef(source=f"grant {grant.grant_id}", index=0, sid=grant.name, effect="Allow", layer="grant")


def _grantee_kind(grant: Grant, ctx: RequestContext) -> str | None:
    p = ctx.principal
    g = grant.grantee_principal
    if g == p.arn or (p.kind == "service" and g.lower() == p.arn.lower()):
        return "direct"
    if p.kind == "session" and g == (p.role_arn or session_role_arn(p.arn)):
        return "role"
    if p.account_id and g in (p.account_id, f"arn:aws:iam::{p.account_id}:root"):
        return "account"
    return None


def _constraints(grant: Grant, ctx: RequestContext) -> Tri:
    c = grant.constraints
    if c is None or (c.encryption_context_equals is None and c.encryption_context_subset is None):
        return (2, (), (grant_ref(grant),))
    given = {k[len(EC_PREFIX) :]: v[0] for k, v in ctx.given_with_prefix(EC_PREFIX).items() if v}
    status, listed = ctx.lookup(EC_KEYS)
    keys = set(listed) | set(given) if status == "present" else set(given)
    equals = c.encryption_context_equals is not None
    wanted: Mapping[str, str] = c.encryption_context_equals or c.encryption_context_subset or {}
    if equals and any(k not in wanted for k in keys):
        return FALSE
    if any(k in given and given[k] != v for k, v in wanted.items()):
        return FALSE
    if status == "present" and any(k not in keys for k in wanted):
        return FALSE  # the request's context does not have that key at all
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
