"""Small helpers shared by the rules: unknown findings for coverage gaps, evidence limits, OIDC hosts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from irsa_lib.findings.context import coverage_id, describe_gap
from irsa_lib.findings.model import Finding, RuleMeta
from irsa_lib.model import Coverage

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


def limit(items: list[str], n: int = 10) -> list[str]:
    """At most ``n`` items, with a count of the rest, so evidence stays readable."""
    return items if len(items) <= n else [*items[:n], f"... and {len(items) - n} more"]


def oidc_host(provider_arn: str) -> str | None:
    """Issuer host/path of an IAM OIDC provider ARN (``oidc.eks.<r>.amazonaws.com/id/X``)."""
    _, sep, rest = provider_arn.partition(":oidc-provider/")
    return rest if sep else None
