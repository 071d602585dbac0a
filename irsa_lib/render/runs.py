"""Scheduled report runs in one directory: each run in its own folder, failures kept but never used.

``irsa report --runs-dir DIR`` (cron, a Kubernetes CronJob) works from an empty or missing ``DIR``.
A run writes into ``DIR/<UTC time>.running``; when the report is complete the folder is renamed to
``DIR/<UTC time>`` and gets a ``SUCCEEDED`` marker; when it fails it is renamed to
``DIR/<UTC time>.failed`` with the error in ``FAILED``. The previous snapshot for the drift section
is the one of the last *successful* run, so a failed run is visible in the directory listing and
does not poison the runs after it.

>>> import tempfile
>>> runs = Path(tempfile.mkdtemp()) / "weekly"
>>> last_successful(runs) is None
True
>>> run = start_run(runs, now=dt.datetime(2026, 1, 5, 6, 15, tzinfo=dt.UTC))
>>> run.name
'2026-01-05T061500Z.running'
>>> _ = (run / "snapshot.json").write_text("{}")
>>> finish_run(run, error=None).name
'2026-01-05T061500Z'
>>> last_successful(runs).name
'2026-01-05T061500Z'
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

__all__ = ["FAILED", "SUCCEEDED", "finish_run", "last_successful", "start_run"]

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
_STAMP = "%Y-%m-%dT%H%M%SZ"
_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z(?:-\d+)?$")


def start_run(runs_dir: str | os.PathLike[str], *, now: dt.datetime | None = None) -> Path:
    """Create ``runs_dir`` if needed and a new ``<UTC time>.running`` folder in it."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(_STAMP)
    for n in range(1, 1000):
        name = stamp if n == 1 else f"{stamp}-{n}"
        if not any((root / f"{name}{suffix}").exists() for suffix in ("", ".running", ".failed")):
            run = root / f"{name}.running"
            run.mkdir()
            return run
    raise FileExistsError(f"{root}: too many runs at {stamp}")


def finish_run(run: Path, *, error: str | None) -> Path:
    """Mark ``run`` succeeded (``error`` None) or failed, and give its folder its final name."""
    base = run.name.removesuffix(".running")
    if error is None:
        (run / SUCCEEDED).write_text(dt.datetime.now(dt.UTC).isoformat() + "\n")
        return run.rename(run.with_name(base))
    (run / FAILED).write_text(error.rstrip("\n") + "\n")
    return run.rename(run.with_name(f"{base}.failed"))


def last_successful(runs_dir: str | os.PathLike[str]) -> Path | None:
    """The newest run folder of ``runs_dir`` that succeeded and holds its snapshot, or None."""
    root = Path(runs_dir)
    if not root.is_dir():
        return None
    done = [
        p
        for p in root.iterdir()
        if p.is_dir() and _NAME.match(p.name) and (p / SUCCEEDED).is_file() and (p / "snapshot.json").is_file()
    ]
    return max(done, key=lambda p: p.name, default=None)
