"""``irsa report --runs-dir``: the scheduled recipe works from an empty directory, a failed run is kept
and visible, and the next run compares with the last successful one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from irsa_lib.render.runs import FAILED, SUCCEEDED
from irsa_lib.snapshot import save_snapshot
from tests.graph.test_kes import scenario

ROOT = Path(__file__).resolve().parent.parent


def irsa_report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "report", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def previous_parameter(run: Path) -> object:
    nb = json.loads((run / "access_report.ipynb").read_text())
    params = next(c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    namespace: dict[str, object] = {}
    exec("".join(params["source"]), namespace)  # the papermill-injected assignments
    return namespace["previous_snapshot"]


def test_two_runs_with_a_failure_between(tmp_path: Path) -> None:
    snap = save_snapshot(scenario(), tmp_path / "snap.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    runs = tmp_path / "no" / "such" / "dir"  # does not exist yet: the first run creates it

    first = irsa_report("--snapshot", str(snap), "--runs-dir", str(runs))
    assert first.returncode == 0, first.stderr
    [ok1] = list(runs.iterdir())
    assert (ok1 / SUCCEEDED).is_file() and (ok1 / "access_report.html").is_file()
    assert previous_parameter(ok1) is None  # nothing to compare with yet

    failed = irsa_report("--snapshot", str(broken), "--runs-dir", str(runs))
    assert failed.returncode == 2
    [bad] = [p for p in runs.iterdir() if p.name.endswith(".failed")]
    assert "access_report.ipynb: cell" in (bad / FAILED).read_text()
    assert not (bad / "snapshot.json").exists() and not (bad / SUCCEEDED).exists()

    third = irsa_report("--snapshot", str(snap), "--runs-dir", str(runs))
    assert third.returncode == 0, third.stderr
    [ok3] = [p for p in runs.iterdir() if p not in (ok1, bad)]
    assert (ok3 / SUCCEEDED).is_file()
    assert previous_parameter(ok3) == str((ok1 / "snapshot.json").resolve())  # not the failed run
    assert "No change since the previous snapshot" in (ok3 / "access_report.html").read_text()
    assert sorted(p.name.endswith(".failed") for p in runs.iterdir()) == [False, False, True]
