"""Small helpers shared by the rules: unknown findings for coverage gaps, principal parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from irsa_lib.findings.context import FindingContext, coverage_id, describe_gap
from irsa_lib.findings.model import Finding, RuleMeta
from irsa_lib.model import Coverage

UNIQUE_ID = re.compile(r"^(AROA|AIDA|AGPA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{8,}$")
ACCOUNT_ROOT = re.compile(r"^(?:arn:aws[a-z-]*:iam::(\d{12}):root|(\d{12}))$")

SECRET_READ_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "secretsmanager:GetSecretValue",
)


def unknown_from(meta: RuleMeta, gaps: Iterable[Coverage]) -> Iterator[Finding]:
    """One unknown finding per coverage gap, naming what was not collected."""
    seen = set()
    for c in gaps:
        rid = coverage_id(c)
        if rid not in seen:
            seen.add(rid)
            yield meta.unknown(rid, describe_gap(c))


def root_account(principal: str) -> str | None:
    """The account id when ``principal`` names an account (``arn:aws:iam::A:root`` or ``A``)."""
    m = ACCOUNT_ROOT.match(principal)
    return (m.group(1) or m.group(2)) if m else None


def limit(items: list[str], n: int = 10) -> list[str]:
    """At most ``n`` items, with a count of the rest, so evidence stays readable."""
    return items if len(items) <= n else [*items[:n], f"... and {len(items) - n} more"]


def oidc_host(provider_arn: str) -> str | None:
    """Issuer host/path of an IAM OIDC provider ARN (``oidc.eks.<r>.amazonaws.com/id/X``)."""
    _, sep, rest = provider_arn.partition(":oidc-provider/")
    return rest if sep else None


def ctx_issuer_cluster(ctx: FindingContext, host: str) -> str | None:
    return ctx.issuer_hosts.get(host)
