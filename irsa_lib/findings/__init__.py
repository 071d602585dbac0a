"""The misconfiguration catalogue F01..F30: rule metadata, checks, and running them over a snapshot.

>>> from irsa_lib.snapshot import Snapshot
>>> run_findings(Snapshot(created_at="2026-01-01T00:00:00Z"))
[]
>>> sorted(RULES)[:3]
['F01', 'F02', 'F03']
"""

from irsa_lib.findings.context import FindingContext, k8s_id
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.registry import RULES, at_or_above, run_findings, select_rules

__all__ = [
    "RULES",
    "Finding",
    "FindingContext",
    "Rule",
    "RuleMeta",
    "Severity",
    "at_or_above",
    "k8s_id",
    "run_findings",
    "select_rules",
]
