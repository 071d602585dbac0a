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
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from irsa_lib.analysis import Analysis
from irsa_lib.findings import Finding, Severity
from irsa_lib.rowtable import ROW_FIELDS, RowTable, record_getter

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
        data = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}  # rows hold no nested records
    elif isinstance(row, Mapping):
        data = dict(row)
    else:
        raise TypeError(f"access row of unexpected type {type(row).__name__}")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def _field(row: Any, name: str) -> Any:
    value = row.get(name, "") if isinstance(row, Mapping) else getattr(row, name, "")
    return tuple(value) if isinstance(value, list) else value


def row_key(row: Any) -> tuple[str, ...]:
    """The identity of an access row (a mapping or an access-row record) across analyses."""
    return tuple(str(_field(row, k)) for k in ROW_KEY)


_KEY_ATTRS = operator.attrgetter(*ROW_KEY)
_KEY_ITEMS = operator.itemgetter(*ROW_KEY)
_CMP_ATTRS = operator.attrgetter(*ROW_COMPARED)
_CMP_ITEMS = operator.itemgetter(*ROW_COMPARED)
_KEY_RECORD = record_getter(ROW_KEY)
_CMP_RECORD = record_getter(ROW_COMPARED)
_MISSING = object()

Rows = RowTable | Iterable[Any]
"""Access rows: a :class:`~irsa_lib.rowtable.RowTable`, or rows as records (``AccessRow``) or mappings."""


def _compared(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(tuple(v) if isinstance(v, list) else v for v in _CMP_ITEMS(row))


def _record_dict(record: tuple[Any, ...]) -> dict[str, Any]:
    return row_to_dict(dict(zip(ROW_FIELDS, record, strict=True)))


def _signed(rows: Rows) -> tuple[list[Any], list[Any], Sequence[Any], Callable[[Any], dict[str, Any]]]:
    """Each row's key and compared fields (by C-level getters where the rows allow), the rows, their writer."""
    if isinstance(rows, RowTable):
        return (
            list(map(_KEY_RECORD, rows.records)),
            list(map(_CMP_RECORD, rows.records)),
            rows.records,
            _record_dict,
        )
    items = list(rows)
    if not any(isinstance(r, Mapping) for r in items):  # records: their sequences are tuples already
        return list(map(_KEY_ATTRS, items)), list(map(_CMP_ATTRS, items)), items, row_to_dict
    keys = [_KEY_ITEMS(r) if isinstance(r, Mapping) else _KEY_ATTRS(r) for r in items]
    return keys, [_compared(r) if isinstance(r, Mapping) else _CMP_ATTRS(r) for r in items], items, row_to_dict


def _order(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in key)


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


def diff_rows(old: Rows, new: Rows) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[RowChange]]:
    """Rows added, removed and changed; only those are converted to dicts (tables hold ~10^5 rows)."""
    old_keys, old_compared, old_rows, old_dict = _signed(old)
    new_keys, new_compared, new_rows, new_dict = _signed(new)
    before, after = dict(zip(old_keys, old_compared, strict=True)), dict(zip(new_keys, new_compared, strict=True))
    moved = [k for k, c in after.items() if before.get(k, _MISSING) != c]
    removed_keys = sorted(before.keys() - after.keys(), key=_order)
    old_at = dict(zip(old_keys, old_rows, strict=True)) if moved or removed_keys else {}
    new_at = dict(zip(new_keys, new_rows, strict=True)) if moved else {}
    added = [new_dict(new_at[k]) for k in sorted((k for k in moved if k not in before), key=_order)]
    removed = [old_dict(old_at[k]) for k in removed_keys]
    changed = []
    for k in sorted((k for k in moved if k in before), key=_order):
        fields = tuple(name for name, a, b in zip(ROW_COMPARED, before[k], after[k], strict=True) if a != b)
        changed.append(RowChange(old_dict(old_at[k]), new_dict(new_at[k]), fields))
    return added, removed, changed


def diff_analyses(old: Analysis, new: Analysis) -> Drift:
    """What was added, removed and changed from the ``old`` analysis to the ``new`` one."""
    fa, fr, fc = diff_findings(old.findings, new.findings)
    ra, rr, rc = diff_rows(old.rows, new.rows)
    return Drift(tuple(fa), tuple(fr), tuple(fc), tuple(ra), tuple(rr), tuple(rc))
