"""Coverage summary lines shared by ``irsa collect`` and ``irsa demo`` (not a subcommand)."""

from __future__ import annotations

from collections import Counter

from irsa_lib.snapshot import Snapshot


def coverage_lines(snapshot: Snapshot, *, gaps_only: bool = False) -> list[str]:
    """One line per source scope with its status counts, then one line per gap.

    >>> from irsa_lib.model import Coverage
    >>> snap = Snapshot(created_at="2026-01-01T00:00:00Z", coverage=(
    ...     Coverage(source="aws", scope="1/us-east-1", service="kms", status="ok"),
    ...     Coverage(source="aws", scope="1/us-east-1", service="kms:GetKeyPolicy", status="denied",
    ...              resource="key/k", error="AccessDenied"),
    ... ))
    >>> print("\\n".join(coverage_lines(snap)))
    coverage: 2 sources, 1 incomplete
      aws        1/us-east-1                     1 ok, 1 denied
      denied     aws 1/us-east-1 kms:GetKeyPolicy [key/k]: AccessDenied
    """
    gaps = snapshot.incomplete()
    total = len(snapshot.coverage)
    if not total:
        head = "coverage: nothing was collected"
    elif gaps:
        head = f"coverage: {total} sources, {len(gaps)} incomplete"
    else:
        head = f"coverage: {total} sources, all collected"
    lines = [head]
    if not gaps_only:
        by_scope: dict[tuple[str, str], Counter[str]] = {}
        for c in snapshot.coverage:
            by_scope.setdefault((c.source, c.scope), Counter())[c.status] += 1
        for (source, scope), counts in by_scope.items():
            detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: kv[0] != "ok"))
            lines.append(f"  {source:10} {scope:30}  {detail}")
    for c in gaps:
        where = f" [{c.resource}]" if c.resource else ""
        lines.append(f"  {c.status:10} {c.source} {c.scope} {c.service}{where}: {c.error or 'no detail'}")
    return lines
