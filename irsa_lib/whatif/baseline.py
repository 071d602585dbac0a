"""The analysis of today's snapshot, kept in a file so what-ifs against the same snapshot reuse it.

A CI job reviews many pull requests against one snapshot of today; its findings and access rows do
not change between them. ``irsa whatif --baseline FILE`` reads them from ``FILE`` when it was written
for the same snapshot (same SHA-256 of the file) by the same irsa_lib version, and otherwise analyses
the snapshot and writes ``FILE`` for the next run. A stale or unreadable file is never used.

The file says what today's access is, so a what-if trusts it: keep it where the change under review
cannot write it (a CI cache that pull requests can fill could hide the access they add).
The rows are stored as a :class:`~irsa_lib.rowtable.RowTable` (every field, each distinct value once).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from irsa_lib import __version__
from irsa_lib.access import AccessRow
from irsa_lib.collector import paused
from irsa_lib.findings import Finding
from irsa_lib.rowtable import RowTable
from irsa_lib.snapshot import write_atomic

FORMAT = "irsa_lib.whatif-baseline/2"

Baseline = tuple[list[Finding], RowTable]


def _digest(snapshot_path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(snapshot_path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@paused
def save_baseline(
    path: str | os.PathLike[str],
    snapshot_path: str | os.PathLike[str],
    findings: Sequence[Finding],
    rows: RowTable | Iterable[AccessRow],
) -> Path:
    """Write the findings and access rows of the snapshot at ``snapshot_path``."""
    table = rows if isinstance(rows, RowTable) else RowTable.of(rows)
    data = {
        "format": FORMAT,
        "tool_version": __version__,
        "snapshot_sha256": _digest(snapshot_path),
        "findings": [f.to_json() for f in findings],
        "rows": table.to_json(),
    }
    return write_atomic(path, json.dumps(data, separators=(",", ":")))


@paused  # millions of small objects that live on: a collector pass would walk them all for nothing
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
        return [Finding.from_json(f) for f in data["findings"]], RowTable.from_json(data["rows"])
    except (KeyError, TypeError, ValueError):
        return None
