"""A statement-level reading of "may this role read that secret value", for rules that need it.

Findings F04, F05, F15, F16 and F26 ask whether a principal's policies grant an action on a
parameter or secret and whether the KMS key lets it decrypt. This module answers from the
statements: an Allow whose Action and Resource cover the request, not cancelled by an
unconditional Deny, within the permission boundary when one is attached; for KMS, the key policy
naming the principal, delegating to its account (then an IAM Allow is also needed), a grant, or an
AWS managed key. Conditions are not evaluated: an Allow under conditions counts as ``conditional``
and says so in the evidence. SCPs, RCPs and session policies are not applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from irsa_lib.findings.context import FindingContext
from irsa_lib.findings.rules.common import root_account
from irsa_lib.findings.statements import Statement, action_matches, resource_matches, statements
from irsa_lib.model import KMSKey, SecretsManagerSecret, SSMParameter

Outcome = Literal["allow", "conditional", "deny"]


@dataclass(frozen=True)
class Reach:
    """The answer for one request, with the statements behind it."""

    outcome: Outcome
    evidence: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    """Inputs that were missing (a managed policy, a key policy): the answer may be incomplete."""

    @property
    def possible(self) -> bool:
        return self.outcome != "deny"


DENY = Reach("deny")


def _decide(sts: list[Statement], action: str, resource: str) -> Reach:
    matching = [s for s in sts if action_matches(s, action) and resource_matches(s, resource)]
    denies = [s for s in matching if s.effect == "Deny" and not s.conditions]
    if denies:
        return Reach("deny", (f"{denies[0].ref} denies {action}",))
    allows = [s for s in matching if s.allow]
    if not allows:
        return DENY
    plain = [s for s in allows if not s.conditions]
    if plain:
        return Reach("allow", (f"{plain[0].ref} allows {action}",))
    return Reach("conditional", (f"{allows[0].ref} allows {action} under conditions",))


def _combine(*parts: Reach) -> Reach:
    if any(p.outcome == "deny" for p in parts):
        return Reach("deny", tuple(e for p in parts for e in p.evidence if "denies" in e))
    outcome: Outcome = "conditional" if any(p.outcome == "conditional" for p in parts) else "allow"
    return Reach(outcome, tuple(e for p in parts for e in p.evidence), tuple(u for p in parts for u in p.unknown))


def identity_allows(ctx: FindingContext, principal: str, action: str, resource: str) -> Reach:
    """Identity policies (within the boundary, if any) of a role or user for one request."""
    docs, missing = ctx.identity_documents(principal)
    sts = [st for src, doc in docs.items() for st in statements(doc, source=src)]
    result = _decide(sts, action, resource)
    role = ctx.roles.get(principal)
    boundary = (
        role.permissions_boundary_arn
        if role
        else (ctx.users[principal].permissions_boundary_arn if principal in ctx.users else None)
    )
    if result.possible and boundary:
        bdoc = ctx.managed_policies.get(boundary)
        if bdoc is None:
            missing.append(f"permission boundary {boundary}")
        else:
            b = _decide(statements(bdoc, source=f"boundary {boundary}"), action, resource)
            result = (
                _combine(result, b) if b.possible else Reach("deny", (f"boundary {boundary} does not allow {action}",))
            )
    return Reach(result.outcome, result.evidence, tuple(f"{m} not collected" for m in missing))


def key_for(ctx: FindingContext, key_id: str | None, default_alias: str) -> KMSKey | None:
    return ctx.keys.get(key_id or default_alias)


def can_decrypt(ctx: FindingContext, principal: str, key: KMSKey | None, key_ref: str, account: str) -> Reach:
    """Whether the principal may kms:Decrypt with this key (through the consuming service)."""
    if key is None:
        if key_ref.startswith("alias/aws/"):
            return Reach(
                "allow",
                (f"{key_ref} is an AWS managed key: any principal of the account may decrypt through the service",),
            )
        return Reach("conditional", (), (f"KMS key {key_ref} was not collected",))
    if key.manager == "AWS":
        return Reach(
            "allow",
            (
                f"{key.aliases[0] if key.aliases else key.key_id} is an AWS managed key: open to the account through the service",
            ),
        )
    if key.policy is None:
        return Reach("conditional", (), (f"key policy of {key.arn} was not collected",))
    ksts = statements(key.policy, source=f"key policy of {key.aliases[0] if key.aliases else key.key_id}")
    role = ctx.roles.get(principal)
    names = {principal, role.role_id if role else ""}
    pacct = principal.split(":")[4] if principal.count(":") >= 5 else account
    for s in ksts:
        if s.effect == "Deny" and not s.conditions and action_matches(s, "kms:Decrypt"):
            vals = set(s.principal_values("AWS")) | set(s.principal_values("*"))
            if "*" in vals or names & vals:
                return Reach("deny", (f"{s.ref} denies kms:Decrypt",))
    direct = [
        s
        for s in ksts
        if s.allow and action_matches(s, "kms:Decrypt") and (names & set(s.principal_values("AWS")) or s.open_principal)
    ]
    if direct:
        s = direct[0]
        outcome: Outcome = "conditional" if s.conditions else "allow"
        ident = (
            identity_allows(ctx, principal, "kms:Decrypt", key.arn)
            if role and role.permissions_boundary_arn
            else Reach("allow")
        )
        return _combine(Reach(outcome, (f"{s.ref} allows {principal.rsplit('/', 1)[-1]} kms:Decrypt",)), ident)
    for g in key.grants:
        if g.grantee_principal in names and "Decrypt" in g.operations:
            return Reach("conditional" if g.constraints else "allow", (f"grant {g.grant_id} gives Decrypt",))
    roots = [
        s
        for s in ksts
        if s.allow
        and action_matches(s, "kms:Decrypt")
        and any(root_account(p) == pacct for p in s.principal_values("AWS"))
    ]
    if roots:
        ident = identity_allows(ctx, principal, "kms:Decrypt", key.arn)
        if ident.possible:
            return _combine(
                Reach(
                    "conditional" if roots[0].conditions else "allow", (f"{roots[0].ref} delegates to account {pacct}",)
                ),
                ident,
            )
    return DENY


def can_read_parameter(ctx: FindingContext, principal: str, p: SSMParameter, action: str = "ssm:GetParameter") -> Reach:
    """``action`` on the parameter plus, for SecureString, decrypting its value."""
    ident = identity_allows(ctx, principal, action, p.arn)
    for i, doc in enumerate(p.resource_policies):
        if not ident.possible:
            break
        rp = _decide(
            [s for s in statements(doc, source=f"resource policy {i} of {p.name}") if s.effect == "Deny"], action, p.arn
        )
        if rp.outcome == "deny":
            return rp
    if not ident.possible or p.type != "SecureString":
        return ident
    key = key_for(ctx, p.key_id, "alias/aws/ssm")
    return _combine(ident, can_decrypt(ctx, principal, key, p.key_id or "alias/aws/ssm", p.account_id))


def can_read_secret(ctx: FindingContext, principal: str, s: SecretsManagerSecret) -> Reach:
    """secretsmanager:GetSecretValue on the secret plus decrypting it."""
    ident = identity_allows(ctx, principal, "secretsmanager:GetSecretValue", s.arn)
    if s.resource_policy is not None:
        rp = _decide(
            statements(s.resource_policy, source=f"resource policy of {s.name}"), "secretsmanager:GetSecretValue", s.arn
        )
        if rp.outcome == "deny" and rp.evidence:
            return rp
        if (
            not ident.possible
            and rp.possible
            and principal in {v for st in statements(s.resource_policy) for v in st.principal_values("AWS")}
        ):
            ident = rp
    if not ident.possible:
        return ident
    key = key_for(ctx, s.kms_key_id, "alias/aws/secretsmanager")
    return _combine(ident, can_decrypt(ctx, principal, key, s.kms_key_id or "alias/aws/secretsmanager", s.account_id))
