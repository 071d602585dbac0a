"""The analysis of today's snapshot, kept in a file so what-ifs against the same snapshot reuse it.

A CI job reviews many pull requests against one snapshot of today; its findings and access rows do
not change between them. ``irsa whatif --baseline FILE`` reads them from ``FILE`` when it was written
for the same snapshot (same SHA-256 of the file) by the same irsa_lib version, and otherwise analyses
the snapshot and writes ``FILE`` for the next run. A stale or unreadable file is never used.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from irsa_lib import __version__
from irsa_lib.findings import Finding
from irsa_lib.snapshot import write_atomic

FORMAT = "irsa_lib.whatif-baseline"

Baseline = tuple[list[Finding], list[dict[str, Any]]]


def _digest(snapshot_path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(snapshot_path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


COLUMNS = (
    "cluster",
    "namespace",
    "service_account",
    "subject_kind",
    "secret_arn",
    "secret_name",
    "secret_kind",
    "access",
    "decision",
    "path",
    "mechanisms",
    "unresolved_keys",
    "complete",
    "unknown",
    "nodes",
)
"""Rows are stored as lists in this column order (a third of the size of one object per row)."""


def _row(row: Any) -> list[Any]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return [list(v) if isinstance(v := get(name), tuple) else v for name in COLUMNS]


def save_baseline(
    path: str | os.PathLike[str],
    snapshot_path: str | os.PathLike[str],
    findings: Sequence[Finding],
    rows: Sequence[Any],
) -> Path:
    """Write the findings and access rows of the snapshot at ``snapshot_path``."""
    data = {
        "format": FORMAT,
        "tool_version": __version__,
        "snapshot_sha256": _digest(snapshot_path),
        "findings": [f.to_json() for f in findings],
        "columns": list(COLUMNS),
        "rows": [_row(r) for r in rows],
    }
    return write_atomic(path, json.dumps(data, separators=(",", ":")))


def load_baseline(path: str | os.PathLike[str], snapshot_path: str | os.PathLike[str]) -> Baseline | None:
    """The saved analysis of this very snapshot, or None (no file, another snapshot or version, unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("tool_version") != __version__:
        return None
    if data.get("snapshot_sha256") != _digest(snapshot_path):
        return None
    try:
        findings = [Finding.from_json(f) for f in data["findings"]]
        if data["columns"] != list(COLUMNS):
            return None
        rows = [dict(zip(COLUMNS, r, strict=True)) for r in data["rows"]]
    except (KeyError, TypeError, ValueError):
        return None
    return findings, rows
