"""The report on the synthetic organisation ``small`` (500 service accounts, 6,250 values, ~350,000
access rows), in headless Chromium: every row is reachable by the table search, a value's focused
graph shows every reader ``irsa access`` lists for it and the value's KMS key, the graph's nodes lie
inside its frame, the fixes section's table holds every fix, a team's section opens on one click with
its subjects, its values, who outside reads them and its findings, and no request leaves the page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic import generate
from irsa_lib.snapshot import save_snapshot
from tests.browser_support import CHROMIUM, SKIP_REASON, leaving_requests, run_in_page
from tests.render_fixtures import read_csv_records

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON), pytest.mark.notebook, pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent
OLD_REPORT_ROWS = 24_758
"""Rows the earlier report showed of the access table at this size (the rest were cut silently)."""


def irsa_report(snapshot: Path, out: Path) -> Path:
    """``irsa report --snapshot SNAPSHOT -o OUT``, run as a user runs it."""
    run = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "report", "--snapshot", str(snapshot), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("small")
    snap = save_snapshot(generate("small", seed=0), work / "small.json")
    return irsa_report(snap, work / "report")


def access_rows(report: Path) -> list[dict[str, str]]:
    return read_csv_records(report / "access_rows.csv")


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

    fixes = read_csv_records(small_report / "fixes.csv")
    fix = fixes[-1]  # the section's last row: far past what a page shows
    script = (
        WAIT
        + f"""
const t = R.tables["irsa-access"];
t.search({json.dumps(last["subject"] + " " + value)}).draw();
const found = t.rows().data().toArray();  // the first page of the matching rows
const total = t.page.info().recordsTotal;
const v = R.focusValue({json.dumps(value)});
const net = R.network, box = document.getElementById("irsa-graph");
const pos = net.getPositions();
let outside = 0, n = 0;
for (const id in pos) {{
  const d = net.canvasToDOM(pos[id]);
  n++;
  if (d.x < 0 || d.y < 0 || d.x > box.clientWidth || d.y > box.clientHeight) outside++;
}}
const fx = R.tables["irsa-fixes"];
const fixTotal = fx.page.info().recordsTotal;
fx.search({json.dumps(fix["resource"])}).draw();
const fixFound = fx.rows().data().toArray();
out.textContent = JSON.stringify({{found, total, focus: R.focus, n, outside, fixTotal, fixFound}});
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
    # the fixes section: a table of every failing finding's fix, searchable like the others
    assert answer["fixTotal"] == len(fixes) > 100
    assert [fix["rule"], fix["resource"], fix["fix"]] in [[r[1], r[2], r[3]] for r in answer["fixFound"]]
    assert leaving_requests(result.requests) == []


TEAM = """
const T = R.teamTables, tables = {};
for (const k in T) {
  const t = R.tables[T[k]];
  t.page.len(-1).draw();  // every row of the team's table on one page
  tables[k] = {total: t.page.info().recordsTotal, rows: t.rows().data().toArray()};
}
const panel = document.getElementById("irsa-team");
out.textContent = JSON.stringify({
  hidden: panel.hidden, title: document.getElementById("irsa-team-title").textContent, hash: location.hash,
  tables, focus: R.focus,
});
"""


def test_a_team_section_opens_on_one_click_with_what_the_team_owns_and_who_reads_it(
    small_report: Path, tmp_path: Path
) -> None:
    rows = access_rows(small_report)
    findings = read_csv_records(small_report / "findings.csv")
    script = (
        WAIT
        + """
const row = document.querySelector("#irsa-namespaces tbody tr");  // the first team: most read from outside
const team = row.cells[0].textContent;
row.click();
"""
        + TEAM.replace("JSON.stringify({", "JSON.stringify({team, ")
    )
    result = run_in_page(small_report / "access_report.html", tmp_path, script)
    answer = result.answer
    assert "error" not in answer, answer
    cluster, ns = answer["team"].split("/", 1)
    assert not answer["hidden"] and answer["title"] == f"Team {cluster}/{ns}"
    assert answer["hash"] == f"#team={cluster}%2F{ns}"
    check_team(answer, cluster, ns, rows, findings)
    assert leaving_requests(result.requests) == []

    # the section's address opens it directly
    opened = run_in_page(
        small_report / "access_report.html", tmp_path, WAIT + TEAM, name="hash", fragment=f"team={cluster}%2F{ns}"
    )
    assert opened.answer["title"] == f"Team {cluster}/{ns}" and opened.answer["tables"] == answer["tables"]


def check_team(
    answer: dict[str, Any], cluster: str, ns: str, rows: list[dict[str, str]], findings: list[dict[str, str]]
) -> None:
    """The team's tables against the full access table written beside the report: a value belongs to
    the namespace its name starts with; a reader is outside when its namespace differs."""

    def owned(r: dict[str, str]) -> bool:
        return r["secret_name"].strip("/").split("/", 1)[0] == ns

    tables = answer["tables"]
    mine = {r["subject"] for r in rows if (r["cluster"], r["namespace"]) == (cluster, ns)}
    assert {r[0] for r in tables["subjects"]["rows"]} == mine and tables["subjects"]["total"] == len(mine)
    values = {r["secret_name"] for r in rows if owned(r)}
    assert values and {r[0] for r in tables["values"]["rows"]} == values
    outside = {(r["subject"], r["secret_name"]) for r in rows if owned(r) and r["namespace"] != ns}
    assert outside and {(r[0], r[2]) for r in tables["outside"]["rows"]} == outside
    assert tables["outside"]["total"] == len(outside)
    # findings on its objects and on its values are among its findings
    arns = {r["secret_arn"] for r in rows if owned(r)}
    own = {
        (f["rule"], f["resource"])
        for f in findings
        if f["resource"].startswith(f"{cluster}/{ns}/") or f["resource"] in (f"{cluster}/Namespace/{ns}", *arns)
    }
    listed = {(f[1], f[4]) for f in tables["findings"]["rows"]}
    assert own and own <= listed
    # the graph draws who can read its values: every reader, inside and outside the namespace
    readers = {r["subject"] for r in rows if owned(r)}
    focus = answer["focus"]
    assert focus["title"] == f"who can read the values {cluster}/{ns} owns"
    assert focus["rows"] == sum(1 for r in rows if owned(r))
    assert set(focus["readers"]) <= readers
    if focus["shown"] == focus["rows"]:
        assert set(focus["readers"]) == readers


@pytest.fixture(scope="module")
def root_trust_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root-trust shape at 200 roles: each service account reads the shared values through its own
    role, often after assuming further roles (benchmarks/shapes.py)."""
    from benchmarks.shapes import root_trust

    work = tmp_path_factory.mktemp("root-trust")
    snap = save_snapshot(root_trust(200), work / "root-trust.json")
    return irsa_report(snap, work / "report")


def test_a_value_read_through_hundreds_of_roles_is_drawn_as_counted_chains(
    root_trust_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from irsa_lib.cli import main

    value = "/shared/team-00/config-0"
    assert main(["access", str(root_trust_report / "snapshot.json"), "--secret", value, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 200
    # by hand from the paths irsa access prints: the roles at each distance from the value
    roles_at: dict[int, set[str]] = {}
    for r in listed:
        for i, hop in enumerate(r["path"]):
            if hop.startswith("role "):
                roles_at.setdefault(len(r["path"]) - 1 - i, set()).add(hop)
    script = (
        WAIT
        + f"""
R.focusValue({json.dumps(value)});
const net = R.network, box = document.getElementById("irsa-graph");
const pos = net.getPositions();
let outside = 0;
for (const id in pos) {{
  const d = net.canvasToDOM(pos[id]);
  if (d.x < 0 || d.y < 0 || d.x > box.clientWidth || d.y > box.clientHeight) outside++;
}}
const title = document.getElementById("irsa-graph-title").textContent;
out.textContent = JSON.stringify({{focus: R.focus, outside, title}});
"""
    )
    result = run_in_page(root_trust_report / "access_report.html", tmp_path, script)
    answer = result.answer
    assert "error" not in answer, answer
    focus = answer["focus"]
    assert focus["rows"] == focus["shown"] == 200 and set(focus["readers"]) == {r["subject"] for r in listed}
    # 200 roles drawn as one counted node per distance, not as a column of 200
    assert len(focus["nodes"]) < 30 and answer["outside"] == 0
    counted = {label for label in focus["nodes"] if " IAM roles (" in label}
    assert counted == {
        f"{len(names)} IAM roles ({d} step{'s' if d > 1 else ''} before the value)"
        for d, names in roles_at.items()
        if len(names) > 8
    }
    assert "drawn as" in answer["title"] and "with their count" in answer["title"]
    assert leaving_requests(result.requests) == []


def test_what_a_wide_reader_can_read_is_drawn_with_its_values_counted(small_report: Path, tmp_path: Path) -> None:
    """A subject that reads about a thousand values: its focused graph counts them per kind (and the keys
    and roles before them) instead of drawing a column of a thousand nodes."""
    rows = access_rows(small_report)
    script = (
        WAIT
        + """
const row = document.querySelectorAll("#irsa-subjects tbody tr")[1];  // the second widest reader
const subject = row.cells[0].textContent;
row.click();
out.textContent = JSON.stringify({subject, focus: R.focus});
"""
    )
    result = run_in_page(small_report / "access_report.html", tmp_path, script)
    answer = result.answer
    assert "error" not in answer, answer
    mine = [r for r in rows if r["subject"] == answer["subject"]]
    parameters = {r["secret_arn"] for r in mine if r["secret_kind"] in ("ssm-parameter", "ssm-string-parameter")}
    secrets = {r["secret_arn"] for r in mine if r["secret_kind"] == "secretsmanager-secret"}
    assert len(mine) > 500 and answer["focus"]["rows"] == len(mine)
    nodes = answer["focus"]["nodes"]
    assert len(nodes) < 80
    assert f"{len(parameters)} SSM parameters" in nodes and f"{len(secrets)} Secrets Manager secrets" in nodes
    keys = {r["kms_key_arn"] for r in mine if r["kms_key_arn"]}
    assert f"{len(keys)} KMS keys (1 step before the value)" in nodes
