"""Fixes of trust policies: IRSA trust narrowed to the service accounts that use the role (F01, F18);
a trust on the account root narrowed to the principals that assume the role (F08)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from irsa_lib.findings import Finding
from irsa_lib.findings.reach import decide
from irsa_lib.findings.rules.trust import irsa_statements, sub_problem
from irsa_lib.findings.shapes import allows, named_accounts, wildcard_grant
from irsa_lib.fixes.context import FixContext
from irsa_lib.fixes.model import Fix, NoFix, PolicyEdit
from irsa_lib.fixes.policydoc import (
    Statement,
    drop_principals,
    has_condition,
    one_or_list,
    set_condition,
    statements,
)
from irsa_lib.fixes.policydoc import with_statements as document
from irsa_lib.model import Role, ServiceAccount

AUDIENCE = "sts.amazonaws.com"


def _role(fc: FixContext, finding: Finding) -> Role | NoFix:
    role = fc.rules.roles.get(finding.resource)
    if role is None:
        return NoFix(finding=finding, reason=f"role {finding.resource} is not in the snapshot")
    if fc.rules.trust_policy(role) is None:
        return NoFix(finding=finding, reason="its trust policy is missing or cannot be read")
    return role


def users_of(fc: FixContext, role: Role, cluster: str) -> list[ServiceAccount]:
    """Service accounts of ``cluster`` annotated with ``role`` (the cluster's own objects say they use it)."""
    return sorted(
        (sa for sa in fc.snapshot.service_accounts if sa.cluster == cluster and sa.role_arn == role.arn),
        key=lambda sa: sa.subject,
    )


def _irsa_fix(fc: FixContext, finding: Finding, *, narrow: bool) -> Fix | NoFix:
    role = _role(fc, finding)
    if isinstance(role, NoFix):
        return role
    parsed = fc.rules.trust_policy(role)
    assert parsed is not None
    by_index = {st.ref.index: (st, host) for st, host in irsa_statements(fc.rules, role)}
    out, notes, what = [], [], []
    for i, raw in enumerate(statements(role.trust_policy)):
        hit = by_index.get(i)
        if hit is None:
            out.append(raw)
            continue
        st, host = hit
        cluster = fc.rules.issuer_hosts.get(host)
        audiences = [AUDIENCE]
        if narrow and sub_problem(st, host):
            if cluster is None:
                return NoFix(
                    finding=finding,
                    reason=f"the cluster of OIDC provider {host} is not in the snapshot: "
                    "which service accounts use the role cannot be known",
                )
            users = users_of(fc, role, cluster)
            if not users:
                notes.append(
                    f"no service account of cluster {cluster} is annotated with {role.name}: the web-identity "
                    f"statement {i} is removed (annotate the service account that should use it, then run the fix again)"
                )
                what.append(f"statement {i} removed (no service account uses the role)")
                continue
            raw = set_condition(raw, "StringEquals", f"{host}:sub", one_or_list(sa.subject for sa in users))
            audiences = sorted({sa.audience for sa in users})
            what.append(f"{host}:sub narrowed to {', '.join(sa.subject for sa in users)}")
        if not has_condition(raw, f"{host}:aud"):
            raw = set_condition(raw, "StringEquals", f"{host}:aud", one_or_list(audiences))
            what.append(f"{host}:aud pinned to {', '.join(audiences)}")
        out.append(raw)
    if not what:
        return NoFix(finding=finding, reason="no IRSA statement of the trust needs a change")
    after = document(role.trust_policy, out)
    edit = PolicyEdit(owner=role.arn, kind="trust", before=role.trust_policy, after=after)
    return Fix(
        finding=finding,
        summary=f"trust of {role.name}: " + "; ".join(what),
        changes=(edit,),
        notes=tuple(notes),
    )


def fix_f01(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F01: the sub condition names the service accounts annotated with the role (and aud is pinned)."""
    return _irsa_fix(fc, finding, narrow=True)


def fix_f18(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F18: the aud condition pins sts.amazonaws.com (the audience the service accounts' tokens carry)."""
    return _irsa_fix(fc, finding, narrow=False)


def _is_root_of(account: str) -> Callable[[str], bool]:
    return lambda p: p == account or (p.startswith("arn:") and p.endswith(f":iam::{account}:root"))


def fix_f08(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F08: the account root in the trust is replaced by the principals of that account that assume the role."""
    role = _role(fc, finding)
    if isinstance(role, NoFix):
        return role
    ctx = fc.rules
    parsed = ctx.trust_policy(role)
    assert parsed is not None
    roots = {st.ref.index: sorted(named_accounts(st)) for st in parsed.statements if allows(st, "sts:AssumeRole")}
    roots = {i: accts for i, accts in roots.items() if accts}
    out: list[Statement] = []
    notes: list[str] = []
    named: list[str] = []
    for i, raw in enumerate(statements(role.trust_policy)):
        st: Statement | None = raw
        for account in roots.get(i, ()):
            if account not in ctx.iam_accounts or ctx.iam_gaps_for(account):
                return NoFix(
                    finding=finding,
                    reason=f"the IAM of account {account} was not (fully) collected: who assumes the role is unknown",
                )
            assumers = [
                arn
                for arn in ctx.principals_in(account)
                if arn != role.arn and decide(ctx, arn, "sts:AssumeRole", role.arn).possible
            ]
            notes.extend(_wildcard_notes(fc, role, assumers))
            st = drop_principals(st, _is_root_of(account)) if st is not None else None
            if assumers:
                base = st if st is not None else {k: v for k, v in raw.items() if k != "Principal"}
                principal = dict(base.get("Principal") or {})
                principal["AWS"] = one_or_list([*_aws(principal), *assumers])
                st = {**base, "Principal": principal}
            named.extend(assumers)
        if st is None:
            notes.append(f"no principal assumes the role: trust statement {i} is removed")
            continue
        out.append(st)
    after = document(role.trust_policy, out)
    who = ", ".join(dict.fromkeys(named)) or "no one"
    return Fix(
        finding=finding,
        summary=f"trust of {role.name}: the account root replaced by the principals that assume it ({who})",
        changes=(PolicyEdit(owner=role.arn, kind="trust", before=role.trust_policy, after=after),),
        notes=tuple(notes),
    )


def _wildcard_notes(fc: FixContext, role: Role, assumers: list[str]) -> list[str]:
    out = []
    for arn in assumers:
        grants = [g for p in fc.rules.identity_policies(arn) if (g := wildcard_grant(p, "sts:AssumeRole", role.arn))]
        if grants:
            out.append(
                f"{arn} may assume it through a wildcard grant ({grants[0]}): it is named to keep today's "
                "access; drop it from the trust if it should not assume this role, and narrow its grant"
            )
    return out


def _aws(principal: dict[str, Any]) -> list[str]:
    value = principal.get("AWS")
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
