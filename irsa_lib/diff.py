"""Drift: what changed between two analyses, so a scheduled report can say "new since last week".

Two :class:`~irsa_lib.analysis.Analysis` objects are compared: findings are matched on (rule, resource) and access rows
on (cluster, namespace, subject kind, service account, secret ARN, access kind): a user and a service
account of the same name are different subjects. A match whose judgement moved
(severity, status or evidence for a finding; decision, path or mechanisms for a row) is *changed*.

>>> from irsa_lib.analysis import analyse
>>> from irsa_lib.snapshot import Snapshot
>>> empty = analyse(Snapshot(created_at="2026-01-01T00:00:00Z"))
>>> diff_analyses(empty, empty).is_empty
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from irsa_lib.analysis import Analysis
from irsa_lib.findings import Finding, Severity

ROW_KEY = ("cluster", "namespace", "subject_kind", "service_account", "secret_arn", "access")
ROW_COMPARED = ("decision", "path", "mechanisms")
FINDING_COMPARED = ("severity", "status", "evidence")


@dataclass(frozen=True)
class FindingChange:
    old: Finding
    new: Finding
    fields: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return self.new.key


@dataclass(frozen=True)
class RowChange:
    old: Mapping[str, Any]
    new: Mapping[str, Any]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Drift:
    """Findings and access rows added, removed and changed from an old analysis to a new one."""

    findings_added: tuple[Finding, ...] = ()
    findings_removed: tuple[Finding, ...] = ()
    findings_changed: tuple[FindingChange, ...] = ()
    access_added: tuple[Mapping[str, Any], ...] = ()
    access_removed: tuple[Mapping[str, Any], ...] = ()
    access_changed: tuple[RowChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.findings_added
            or self.findings_removed
            or self.findings_changed
            or self.access_added
            or self.access_removed
            or self.access_changed
        )

    def new_at_or_above(self, threshold: Severity) -> list[Finding]:
        """Failing findings that are new, or became failing / more severe, at or above ``threshold``."""
        out = [f for f in self.findings_added if f.status == "fail" and f.severity >= threshold]
        for ch in self.findings_changed:
            became = ch.old.status != "fail" or ch.new.severity > ch.old.severity
            if became and ch.new.status == "fail" and ch.new.severity >= threshold:
                out.append(ch.new)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": {
                "added": [f.to_json() for f in self.findings_added],
                "removed": [f.to_json() for f in self.findings_removed],
                "changed": [
                    {"old": c.old.to_json(), "new": c.new.to_json(), "fields": list(c.fields)}
                    for c in self.findings_changed
                ],
            },
            "access": {
                "added": [dict(r) for r in self.access_added],
                "removed": [dict(r) for r in self.access_removed],
                "changed": [
                    {"old": dict(c.old), "new": dict(c.new), "fields": list(c.fields)} for c in self.access_changed
                ],
            },
        }


def row_to_dict(row: Any) -> dict[str, Any]:
    """An access row (dataclass or mapping) as a plain dict with JSON-ready values."""
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        data = dataclasses.asdict(row)
    elif isinstance(row, Mapping):
        data = dict(row)
    else:
        raise TypeError(f"access row of unexpected type {type(row).__name__}")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(k, "")) for k in ROW_KEY)


def diff_findings(
    old: Sequence[Finding], new: Sequence[Finding]
) -> tuple[list[Finding], list[Finding], list[FindingChange]]:
    before = {f.key: f for f in old}
    after = {f.key: f for f in new}
    added = [f for k, f in after.items() if k not in before]
    removed = [f for k, f in before.items() if k not in after]
    changed = []
    for k, f in after.items():
        if k in before:
            fields = tuple(name for name in FINDING_COMPARED if getattr(before[k], name) != getattr(f, name))
            if fields:
                changed.append(FindingChange(before[k], f, fields))
    return added, removed, changed


def diff_rows(
    old: Iterable[Any], new: Iterable[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[RowChange]]:
    before = {row_key(r): r for r in map(row_to_dict, old)}
    after = {row_key(r): r for r in map(row_to_dict, new)}
    added = [r for k, r in sorted(after.items()) if k not in before]
    removed = [r for k, r in sorted(before.items()) if k not in after]
    changed = []
    for k, r in sorted(after.items()):
        if k in before:
            fields = tuple(name for name in ROW_COMPARED if before[k].get(name) != r.get(name))
            if fields:
                changed.append(RowChange(before[k], r, fields))
    return added, removed, changed


def diff_analyses(old: Analysis, new: Analysis) -> Drift:
    """What was added, removed and changed from the ``old`` analysis to the ``new`` one."""
    fa, fr, fc = diff_findings(old.findings, new.findings)
    ra, rr, rc = diff_rows(old.rows, new.rows)
    return Drift(tuple(fa), tuple(fr), tuple(fc), tuple(ra), tuple(rr), tuple(rc))
