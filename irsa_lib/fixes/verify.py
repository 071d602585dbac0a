"""The proof of a fix: apply it to the snapshot, analyse again, and compare.

A :class:`Proof` says whether the finding is gone, which access rows the fix removes (the readers
it cuts), which rows stay with another path, which intended rows it keeps, and which findings it
resolves or introduces. A fix is **flagged** when it removes an intended row (or leaves it only
through a path that is not intended), when it grants a read no one had, or when the finding is not
gone: such a fix is shown, never silently offered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from irsa_lib.access import AccessRow
from irsa_lib.analysis import Analysis, analyse
from irsa_lib.diff import ROW_KEY, diff_findings
from irsa_lib.findings import Finding
from irsa_lib.fixes.intended import Intent
from irsa_lib.fixes.manifests import ManifestObjects
from irsa_lib.fixes.model import Fix, NoFix
from irsa_lib.fixes.overlay import apply_fix
from irsa_lib.fixes.registry import build_fixes
from irsa_lib.whatif.compare import node_record


@dataclass(frozen=True, kw_only=True)
class Proof:
    """What applying one fix does to the analysis (see the module docstring)."""

    finding_gone: bool
    removed: tuple[AccessRow, ...]
    """Rows no longer there: the readers the fix cuts."""
    changed: tuple[tuple[AccessRow, AccessRow], ...]
    """Rows still there (before, after) whose access kind, decision or path changed: still readable another way."""
    added: tuple[AccessRow, ...]
    """Rows the fix creates: a fix must not grant a read."""
    kept: tuple[AccessRow, ...]
    """Intended rows through a record the fix changes, still there and still intended."""
    cut: tuple[AccessRow, ...]
    """Intended rows the fix removes, or leaves only through a path that is not intended."""
    resolved: tuple[Finding, ...]
    introduced: tuple[Finding, ...]
    """Findings that are new, or fail more severely."""

    @property
    def flags(self) -> tuple[str, ...]:
        """Why the fix must not be applied as it is (empty: it is verified)."""
        out = []
        if not self.finding_gone:
            out.append("the finding is still reported after the fix")
        if self.cut:
            out.append(f"it removes {len(self.cut)} intended access row(s)")
        if self.added:
            out.append(f"it grants {len(self.added)} new access row(s)")
        return tuple(out)

    @property
    def verified(self) -> bool:
        return not self.flags


class Verifier:
    """Proofs of fixes against one analysis (its rows and intended rows are read once)."""

    def __init__(self, base: Analysis) -> None:
        self.base = base

    # read on the first proof: a report that verifies no fix at its size never pays for them
    @cached_property
    def rows(self) -> dict[tuple[str, ...], AccessRow]:
        return _by_pair(self.base.rows)

    @cached_property
    def intended(self) -> set[tuple[str, ...]]:
        intent = Intent(self.base)
        return {k for k, r in self.rows.items() if intent.reason(r) is not None}

    def verify(self, fix: Fix) -> Proof:
        overlay = apply_fix(self.base.snapshot, fix)
        after = analyse(overlay.snapshot, rows_first=True)
        after_intent = Intent(after)
        new = _by_pair(after.rows)
        touched = {e.target for e in overlay.effects}
        removed = tuple(r for k, r in self.rows.items() if k not in new)
        added = tuple(r for k, r in new.items() if k not in self.rows)
        changed = tuple((r, new[k]) for k, r in self.rows.items() if k in new and _judged(r) != _judged(new[k]))
        cut = tuple(self.rows[k] for k in sorted(self.intended) if k not in new or after_intent.reason(new[k]) is None)
        kept = tuple(
            new[k]
            for k in sorted(self.intended)
            if k in new
            and after_intent.reason(new[k]) is not None
            and (touched & _records(self.rows[k]) or touched & _records(new[k]))
        )
        added_f, removed_f, changed_f = diff_findings(self.base.findings, after.findings)
        worse = [c.new for c in changed_f if c.new.status == "fail" and c.new.severity > c.old.severity]
        return Proof(
            finding_gone=all(f.key != fix.finding.key or f.status != "fail" for f in after.findings),
            removed=removed,
            changed=changed,
            added=added,
            kept=kept,
            cut=cut,
            resolved=tuple(removed_f),
            introduced=tuple(f for f in (*added_f, *worse) if f.status == "fail"),
        )


def fix_and_verify(
    analysis: Analysis,
    *,
    findings: Sequence[Finding] | None = None,
    manifests: ManifestObjects | None = None,
    limit: int | None = None,
    budget_seconds: float | None = None,
) -> list[tuple[Fix | NoFix, Proof | None]]:
    """The fix of each finding (default: every finding of the analysis) with its proof.

    Each proof costs one analysis. ``limit``: verify at most this many fixes; ``budget_seconds``:
    start no verification once this much time went into them. Findings come most severe first, so
    the fixes left without a proof are the least severe.
    """
    verifier = Verifier(analysis)
    out: list[tuple[Fix | NoFix, Proof | None]] = []
    done, start = 0, time.monotonic()
    for item in build_fixes(analysis, findings=findings, manifests=manifests):
        proof = None
        within = budget_seconds is None or time.monotonic() - start < budget_seconds
        if isinstance(item, Fix) and (limit is None or done < limit) and within:
            proof = verifier.verify(item)
            done += 1
        out.append((item, proof))
    return out


PAIR = tuple(k for k in ROW_KEY if k != "access")


def _by_pair(rows: Sequence[AccessRow]) -> dict[tuple[str, ...], AccessRow]:
    """Rows by subject and value (the drift's row key without the access kind): a fix that
    turns a direct read into a potential one changes the row, it neither removes nor adds one."""
    out: dict[tuple[str, ...], AccessRow] = {}
    for r in rows:
        out.setdefault(tuple(str(getattr(r, k)) for k in PAIR), r)
    return out


def _judged(r: AccessRow) -> tuple[object, ...]:
    return (r.access, r.decision, r.path, r.mechanisms)


def _records(row: AccessRow) -> set[str]:
    """The records (ARNs, Kubernetes ids) on a row's path, the value included."""
    found = {node_record(n) for n in row.hop_nodes}
    return {r for r in found if r} | {row.secret_arn}
