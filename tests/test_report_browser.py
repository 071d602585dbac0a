"""The report on the synthetic organisation ``small`` (500 service accounts, 6,250 values, ~290,000
access rows), in headless Chromium: every row is reachable by the table search, a value's focused
graph shows every reader ``irsa access`` lists for it and the value's KMS key, the graph's nodes lie
inside its frame, and no request leaves the page."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.synthetic import generate
from irsa_lib.snapshot import save_snapshot
from tests.browser_support import CHROMIUM, SKIP_REASON, leaving_requests, run_in_page

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON), pytest.mark.notebook, pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent
OLD_REPORT_ROWS = 24_758
"""Rows the earlier report showed of the access table at this size (the rest were cut silently)."""


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("small")
    snap = save_snapshot(generate("small", seed=0), work / "small.json")
    out = work / "report"
    run = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "report", "--snapshot", str(snap), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return out


def access_rows(report: Path) -> list[dict[str, str]]:
    with (report / "access_rows.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


WAIT = """
const app = document.getElementById("irsa-app");
for (let i = 0; i < 1200 && !(app && app.dataset.ready); i++) await new Promise(r => setTimeout(r, 100));
const R = window.irsaReport;
if (!R || app.dataset.ready !== "yes") throw new Error("report not ready: " + (app && app.dataset.ready));
"""


def test_search_finds_a_row_the_old_report_left_out_and_the_graph_shows_every_reader(
    small_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = access_rows(small_report)
    assert len(rows) > OLD_REPORT_ROWS * 10
    last = rows[-1]  # the table's own order: far past the rows the old report showed
    value = last["secret_name"]
    from irsa_lib.cli import main

    assert main(["access", str(small_report / "snapshot.json"), "--secret", value, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    readers = {r["subject"] for r in listed}
    assert readers and last["subject"] in readers
    [key] = {(r["kms_key_alias"], r["kms_key_manager"]) for r in listed}
    key_label = f"key {key[0].removeprefix('alias/')} ({'customer' if key[1] == 'CUSTOMER' else 'AWS'} managed)"

    script = (
        WAIT
        + f"""
const t = R.tables["irsa-access"];
t.search({json.dumps(last["subject"] + " " + value)}).draw();
const found = t.rows({{search: "applied"}}).data().toArray().slice(0, 50);
const total = t.rows().count();
const v = R.focusValue({json.dumps(value)});
const net = R.network, box = document.getElementById("irsa-graph");
const pos = net.getPositions();
let outside = 0, n = 0;
for (const id in pos) {{
  const d = net.canvasToDOM(pos[id]);
  n++;
  if (d.x < 0 || d.y < 0 || d.x > box.clientWidth || d.y > box.clientHeight) outside++;
}}
out.textContent = JSON.stringify({{found, total, focus: R.focus, n, outside}});
"""
    )
    result = run_in_page(small_report / "access_report.html", tmp_path, script)
    answer = result.answer
    assert "error" not in answer, answer
    assert answer["total"] == len(rows)  # every row is in the page's table
    assert any(r[0] == last["subject"] and r[2] == value for r in answer["found"])
    focus = answer["focus"]
    assert focus["shown"] == focus["rows"] == len(listed)  # all of the value's readers drawn
    assert readers == set(focus["readers"])  # drawn one by one, or inside a node that counts them
    assert key_label in focus["nodes"] and value in " ".join(focus["nodes"])
    assert answer["n"] == len(focus["nodes"]) and answer["outside"] == 0  # fitted to its frame
    assert leaving_requests(result.requests) == []
