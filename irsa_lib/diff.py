"""Drift: what changed between two analyses, so a scheduled report can say "new since last week".

Both snapshots are analysed the same way; findings are matched on (rule, resource) and access rows
on (cluster, namespace, subject kind, service account, secret ARN, access kind): a user and a service
account of the same name are different subjects. A match whose judgement moved
(severity, status or evidence for a finding; decision, path or mechanisms for a row) is *changed*.

>>> from irsa_lib.snapshot import Snapshot
>>> empty = Snapshot(created_at="2026-01-01T00:00:00Z")
>>> diff_analyses(empty, empty).is_empty
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from irsa_lib.access import effective_access
from irsa_lib.findings import Finding, Severity, run_findings
from irsa_lib.graph import build_graph
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

ROW_KEY = ("cluster", "namespace", "subject_kind", "service_account", "secret_arn", "access")
ROW_COMPARED = ("decision", "path", "mechanisms")
FINDING_COMPARED = ("severity", "status", "evidence")

AccessRowsFn = Callable[[Snapshot], Iterable[Any]]


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
    access_compared: bool = True
    """False when no access-row function was available: only findings were compared."""

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
                "compared": self.access_compared,
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


def analyse(snapshot: Snapshot) -> tuple[list[Finding], list[Any]]:
    """Findings and effective-access rows of a snapshot, from one inventory and one graph."""
    inventory = Inventory.from_snapshot(snapshot)
    graph = build_graph(snapshot, inventory=inventory)
    return run_findings(snapshot, graph=graph, inventory=inventory), list(effective_access(graph))


def diff_analyses(old_snapshot: Snapshot, new_snapshot: Snapshot, *, access_rows: AccessRowsFn | None = None) -> Drift:
    """Analyse both snapshots and report what was added, removed and changed.

    ``access_rows`` computes effective-access rows of a snapshot; by default the library's own, from
    the same graph the findings read (so the two cannot disagree).
    """
    if access_rows is None:
        (old_f, old_r), (new_f, new_r) = analyse(old_snapshot), analyse(new_snapshot)
    else:
        old_f, old_r = run_findings(old_snapshot), list(access_rows(old_snapshot))
        new_f, new_r = run_findings(new_snapshot), list(access_rows(new_snapshot))
    fa, fr, fc = diff_findings(old_f, new_f)
    ra, rr, rc = diff_rows(old_r, new_r)
    return Drift(tuple(fa), tuple(fr), tuple(fc), tuple(ra), tuple(rr), tuple(rc))
