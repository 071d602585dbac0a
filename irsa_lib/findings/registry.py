"""The one explicit list of rules, and running them over a snapshot."""

from __future__ import annotations

from collections.abc import Iterable

from irsa_lib.collector import paused
from irsa_lib.errors import UsageError
from irsa_lib.findings.context import FindingContext
from irsa_lib.findings.model import Finding, Rule, Severity
from irsa_lib.findings.rules import controllers, k8s, secrets, trust, values
from irsa_lib.graph import AccessGraph
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in sorted(
        (*trust.RULES, *k8s.RULES, *controllers.RULES, *secrets.RULES, *values.RULES), key=lambda r: r.id
    )
}
"""Every rule by id (F01..F30), in id order."""


def select_rules(ids: Iterable[str] | None) -> list[Rule]:
    """The rules named by ``ids`` (all when None or empty); UsageError on an unknown id."""
    wanted = [i.strip().upper() for i in ids or () if i.strip()]
    unknown = [i for i in wanted if i not in RULES]
    if unknown:
        raise UsageError(f"unknown rule id(s): {', '.join(unknown)} (known: {', '.join(RULES)})")
    return [RULES[i] for i in wanted] if wanted else list(RULES.values())


def sort_key(f: Finding) -> tuple[int, int, str, str]:
    return (-f.severity.rank, 0 if f.status == "fail" else 1, f.rule, f.resource)


def _merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (rule, resource, status): evidence joined, the highest severity kept."""
    merged: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        key = (f.rule, f.resource, f.status)
        prev = merged.get(key)
        if prev is None:
            merged[key] = f
            continue
        evidence = prev.evidence + tuple(e for e in f.evidence if e not in prev.evidence)
        top = prev if prev.severity >= f.severity else f
        merged[key] = Finding(
            rule=f.rule,
            slug=f.slug,
            severity=top.severity,
            title=top.title,
            resource=f.resource,
            evidence=evidence,
            remediation=f.remediation,
            status=f.status,
        )
    return list(merged.values())


@paused
def run_findings(
    snapshot: Snapshot,
    *,
    graph: AccessGraph | None = None,
    inventory: Inventory | None = None,
    rules: Iterable[str] | None = None,
) -> list[Finding]:
    """Run the rules (all, or those named) over a snapshot; findings sorted by severity, rule, resource.

    ``graph``: the snapshot's access graph, when already built; the reach rules (F03, F04, F05) then
    take their evidence from it, so findings and access rows agree. ``inventory``: the evaluator's
    index of the snapshot (pass the one the graph was built on to build it only once). Both are
    optional: without them the same questions are asked of the evaluator directly.
    A resource judged ``fail`` by a rule is not also reported ``unknown`` by it.
    """
    ctx = FindingContext(snapshot, graph=graph, inventory=inventory)
    return sorted((f for rule in select_rules(rules) for f in settle(rule.check(ctx))), key=sort_key)


def settle(found: Iterable[Finding]) -> list[Finding]:
    """One rule's findings as reported: one per (resource, status), and a resource judged ``fail`` not
    also ``unknown``. Settling the concatenation of settled parts equals settling the whole (the
    partitioned analysis merges a rule's parts this way)."""
    merged = _merge(found)
    failed = {f.resource for f in merged if f.status == "fail"}
    return [f for f in merged if f.status == "fail" or f.resource not in failed]


def at_or_above(findings: Iterable[Finding], threshold: Severity) -> list[Finding]:
    """Failing findings at or above ``threshold`` (unknown findings never count)."""
    return [f for f in findings if f.status == "fail" and f.severity >= threshold]
