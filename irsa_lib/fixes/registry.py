"""The fix builders by rule, choosing findings, and building the fix (or the reason there is none) of each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from irsa_lib.analysis import Analysis
from irsa_lib.errors import UsageError
from irsa_lib.findings import RULES, Finding
from irsa_lib.fixes.context import FixContext
from irsa_lib.fixes.manifests import ManifestObjects
from irsa_lib.fixes.model import Fix, NoFix
from irsa_lib.fixes.rules import k8s, trust, values

Builder = Callable[[FixContext, Finding], Fix | NoFix]

BUILDERS: dict[str, Builder] = {
    "F01": trust.fix_f01,
    "F03": k8s.fix_f03,
    "F04": values.fix_f04,
    "F05": values.fix_f05,
    "F06": values.fix_f06,
    "F08": trust.fix_f08,
    "F13": k8s.fix_f13,
    "F14": k8s.fix_f14,
    "F18": trust.fix_f18,
    "F28": k8s.fix_f28,
}
"""Rules whose findings have a mechanical fix (a finding may still lack one: the builder says why)."""

WHY_NOT: dict[str, str] = {
    "F09": "token rights and SecretStore authoring are design choices (chart values, RBAC): see the remediation",
    "F12": "who may author ExternalSecrets, or an admission policy blocking templates, is a decision: see the remediation",
    "F25": "migrating KES to External Secrets Operator converts every ExternalSecret (the kes-to-eso tool)",
}


def has_fix(rule: str) -> bool:
    """Whether findings of ``rule`` get a mechanical fix (``irsa fix`` builds it)."""
    return rule in BUILDERS


def build_fix(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """The fix of one finding, or why there is none."""
    if finding.status != "fail":
        return NoFix(finding=finding, reason="not judged (inputs missing): collect them and run the findings again")
    builder = BUILDERS.get(finding.rule)
    if builder is None:
        return NoFix(finding=finding, reason=WHY_NOT.get(finding.rule, "no mechanical fix: follow the remediation"))
    return builder(fc, finding)


def select_findings(findings: Sequence[Finding], specs: Iterable[str]) -> list[Finding]:
    """The findings named by ``RULE`` or ``RULE:RESOURCE`` specs (all when none); UsageError for a spec
    that names an unknown rule or matches no finding."""
    wanted = [s.strip() for s in specs if s.strip()]
    if not wanted:
        return list(findings)
    out: list[Finding] = []
    for spec in wanted:
        rule, _, resource = spec.partition(":")
        rule = rule.upper()
        if rule not in RULES:
            raise UsageError(f"--finding {spec}: unknown rule {rule} (known: {', '.join(RULES)})")
        hits = [f for f in findings if f.rule == rule and (not resource or f.resource == resource)]
        if not hits:
            raise UsageError(f"--finding {spec}: no such finding in this snapshot")
        out.extend(f for f in hits if f not in out)
    return out


def build_fixes(
    analysis: Analysis, *, findings: Sequence[Finding] | None = None, manifests: ManifestObjects | None = None
) -> list[Fix | NoFix]:
    """The fix (or the reason there is none) of each finding (default: every finding of the analysis)."""
    fc = FixContext(analysis, manifests)
    return [build_fix(fc, f) for f in (analysis.findings if findings is None else findings)]
