"""Every notebook executed with papermill against the demo environment, and the report in a browser.

The demo environment is real: the local AWS endpoint (moto in server mode on 127.0.0.1) seeded
with the reference scenario, plus the shipped Kubernetes manifests. The notebooks' kernels reach
the endpoint through ``AWS_ENDPOINT_URL`` and placeholder credentials in their environment;
nothing in a notebook is test-specific. A failing cell fails the test (papermill raises).

What the report must show is taken from the demo scenario's documentation
(``irsa_lib/demo/scenario.py``): the planted F01 (``reporting-role`` trusts every service account)
and F05 (node role reads SSM parameters with IMDS reachable), and the service parameters.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from irsa_lib.notebooks import NOTEBOOKS, NotebookError, ReportResult, execute_notebook, notebook_path, run_report
from irsa_lib.render.offline import external_references
from irsa_lib.render.report_data import from_script
from irsa_lib.snapshot import RECORD_FIELDS, Snapshot, save_snapshot
from tests.browser_support import CHROMIUM, SKIP_REASON, leaving_requests, load_page, run_in_page
from tests.render_fixtures import read_csv_records
from tests.test_browser import assert_graph_drew

pytestmark = [pytest.mark.notebook, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DemoEnv:
    endpoint_url: str
    manifests: str
    snapshot_path: Path
    snapshot: Snapshot


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoEnv]:
    from irsa_lib.demo import collect_demo, local_aws, manifests_dir, seed_aws

    work = tmp_path_factory.mktemp("demo")
    with local_aws() as aws:
        # moto's backends are process-wide: start clean, and leave nothing for later tests
        aws.reset()
        facts = seed_aws(aws.endpoint_url)
        patch = pytest.MonkeyPatch()
        for name, value in aws.env().items():  # inherited by the papermill kernels
            patch.setenv(name, value)
        patch.delenv("IRSA_SNAPSHOT", raising=False)
        try:
            snapshot = collect_demo(aws.endpoint_url, cluster=facts.cluster_name)
            path = save_snapshot(snapshot, work / "snapshot.json")
            yield DemoEnv(aws.endpoint_url, str(manifests_dir()), path, snapshot)
        finally:
            patch.undo()
            aws.reset()


@pytest.fixture(scope="module")
def report(demo_env: DemoEnv, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """The access report collected live from the endpoint and the manifests, with drift."""
    work = tmp_path_factory.mktemp("report")
    # the previous run: the same account and cluster before the reporting service existed
    previous = dataclasses.replace(
        demo_env.snapshot,
        created_at="2026-01-01T00:00:00Z",
        **{
            name: tuple(r for r in getattr(demo_env.snapshot, name) if "reporting" not in repr(r))
            for name in RECORD_FIELDS
        },
    )
    save_snapshot(previous, work / "previous.json")
    return run_report(
        work / "out",
        {
            "endpoint_url": demo_env.endpoint_url,
            "aws_regions": ["us-east-1"],
            "manifest_dirs": {"demo": demo_env.manifests},
            "previous_snapshot": str(work / "previous.json"),
        },
    )


def outputs(notebook: Path) -> str:
    """Every output of an executed notebook as text (HTML and plain text)."""
    nb = nbformat.read(notebook, as_version=4)
    parts: list[str] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise AssertionError(f"cell failed: {out.get('ename')}: {out.get('evalue')}")
            parts.append(out.get("text", ""))
            for mime in ("text/html", "text/plain"):
                parts.append(str(out.get("data", {}).get(mime, "")))
    return "\n".join(parts)


def test_access_report_has_every_section(report: ReportResult) -> None:
    text = outputs(report.notebook)
    for table in ("T_summary", "T_severities", "T_coverage", "T_drift"):
        assert f'id="{table}"' in text, f"missing table {table}"
    for part in (
        "irsa-graph",
        "irsa-values",
        "irsa-namespaces",
        "irsa-subjects",
        "irsa-access",
        "irsa-findings",
        "irsa-fixes",
    ):
        assert f'id="{part}"' in text, f"missing {part}"  # filled from report_data.js by the page's script
    # planted mistakes of the demo (scenario docstring (a) and (c)), in the ranked summary
    assert "F01" in text and "F05" in text
    data = from_script((report.out_dir / "report_data.js").read_text())
    values = {v[0] for v in data["values"]}
    assert {"/billing/db-password", "/billing/api-key", "/payments/db-password", "/reporting/db-password"} <= values
    # each finding's fix: the workload patches need the manifests, which the report was given
    assert "12 of 18 finding(s) have a mechanical fix; 12 of 12 verified here" in text
    fixes = read_csv_records(report.out_dir / "fixes.csv")  # the rows the section's table is drawn from
    assert any(r["fix"].startswith("Deployment payments-api: Secrets mounted as read-only volumes") for r in fixes)
    # drift: the reporting service is new since the previous snapshot
    assert "reporting-role" in text.split('id="T_drift"', 1)[1]
    names = {p.name for p in report.out_dir.iterdir()}
    assert {"access_report.html", "access_report.ipynb", "snapshot.json", "trust-graph.html", "findings.csv"} <= names
    assert {"report_data.js", "values.csv", "subjects.json", "namespaces.csv", "access_rows.csv", "fixes.json"} <= names
    assert not (report.out_dir / "access_rows.json").exists()  # the rows as JSON: irsa access --format json
    rows = read_csv_records(report.out_dir / "access_rows.csv")
    assert any(r["secret_name"] == "/billing/db-password" and r["namespace"] == "billing" for r in rows)


def test_report_html_is_offline_and_without_code(report: ReportResult) -> None:
    html = report.html.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert "gather_analysis(" not in html  # input cells are excluded
    assert 'id="irsa-access"' in html


def test_explore_notebook_runs_headless(demo_env: DemoEnv, tmp_path: Path) -> None:
    out = execute_notebook(
        "explore",
        tmp_path / "explore.ipynb",
        {"snapshot_path": str(demo_env.snapshot_path), "namespace": "billing", "service_account": "billing-api"},
        cwd=tmp_path,
    )
    text = outputs(out)
    assert "application/vnd.jupyter.widget-view+json" in json.dumps(
        [c.get("outputs") for c in nbformat.read(out, as_version=4).cells]
    )
    assert "access paths for namespace billing, service account billing-api" in text
    assert "/billing/db-password" in text
    assert '<iframe sandbox="allow-scripts" srcdoc=' in text


def test_onboarding_notebook_runs(tmp_path: Path) -> None:
    out = execute_notebook(
        "onboard_service",
        tmp_path / "onboard.ipynb",
        {
            "service_name": "orders",
            "namespace": "orders",
            "parameter_names": ["/orders/db-password"],
            "controller_role_arn": "arn:aws:iam::123456789012:role/external-secrets-role",
            "offline": True,
            "out_dir": str(tmp_path / "onboard"),
        },
        cwd=tmp_path,
    )
    text = outputs(out)
    assert "arn:aws:iam::123456789012:role/orders-service-role" in text
    assert "Offline: nothing was checked or changed" in text
    assert (tmp_path / "onboard" / "kubernetes" / "orders.yaml").is_file()


def test_a_failing_cell_names_the_cell_and_keeps_the_notebook(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(NotebookError) as err:
        run_report(tmp_path / "out", {"snapshot_path": str(broken)})
    message = str(err.value)
    # cells: title, parameters, papermill's injected parameters, then the one that loads the snapshot
    assert "access_report.ipynb: cell 3" in message
    assert "SnapshotError" in message and "malformed JSON at line 1" in message
    # and the first line of that cell (the third of the shipped notebook: papermill injects one)
    shipped = nbformat.read(notebook_path("access_report"), as_version=4)
    assert shipped.cells[2].source.splitlines()[0] in message
    assert (tmp_path / "out" / "access_report.ipynb").exists()
    assert not (tmp_path / "out" / "access_report.html").exists()


def test_irsa_report_command(demo_env: DemoEnv, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "irsa_lib.cli",
            "report",
            "--snapshot",
            str(demo_env.snapshot_path),
            "-o",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert f"report: {tmp_path / 'access_report.html'}" in run.stdout
    failing = subprocess.run(
        [
            sys.executable,
            "-m",
            "irsa_lib.cli",
            "report",
            "--snapshot",
            str(tmp_path / "missing.json"),
            "-o",
            str(tmp_path / "x"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert failing.returncode == 2
    assert "irsa report: error: access_report.ipynb: cell 3" in failing.stderr
    assert "no such snapshot file" in failing.stderr


def test_irsa_graph_command(demo_env: DemoEnv, tmp_path: Path) -> None:
    page = tmp_path / "g.html"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "irsa_lib.cli",
            "graph",
            str(demo_env.snapshot_path),
            "-o",
            str(page),
            "--focus-namespace",
            "billing",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    html = page.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert "Showing: namespace billing." in html
    assert "/billing/db-password" in html


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_report_loads_offline_and_its_graphs_draw(report: ReportResult, tmp_path: Path) -> None:
    """The report page loads with no request leaving 127.0.0.1, fills its tables with every access row
    from the data file beside it and draws the focused graph; the standalone graph page draws too."""
    load = load_page(report.html, tmp_path, name="report", height=1600)
    assert leaving_requests(load.requests) == []
    rows = read_csv_records(report.out_dir / "access_rows.csv")
    probe = run_in_page(
        report.html,
        tmp_path,
        """
        const app = document.getElementById("irsa-app");
        for (let i = 0; i < 600 && !app.dataset.ready; i++) await new Promise(r => setTimeout(r, 100));
        const R = window.irsaReport;
        out.textContent = JSON.stringify({
          ready: app.dataset.ready,
          access: R.tables["irsa-access"].page.info().recordsTotal,
          findings: R.tables["irsa-findings"].page.info().recordsTotal,
          drawn: R.network ? Object.keys(R.network.getPositions()).length : 0,
          focus: R.focus.title,
        });
        """,
    )
    assert leaving_requests(probe.requests) == []
    answer = probe.answer
    assert answer["ready"] == "yes", answer
    assert answer["access"] == len(rows) and answer["findings"] > 0
    assert answer["drawn"] > 2 and answer["focus"].startswith("who can read ")

    standalone = tmp_path / "trust-graph.html"
    standalone.write_text((report.out_dir / "trust-graph.html").read_text(encoding="utf-8"), encoding="utf-8")
    assert_graph_drew(standalone, tmp_path)


def test_irsa_demo_writes_the_report_and_the_graph(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "demo", "-o", "out"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = (tmp_path / "out").resolve()
    assert f"report: {out / 'access_report.html'}" in proc.stdout
    assert f"trust graph: {out / 'trust-graph.html'}" in proc.stdout
    assert "fixes: 12 of 18 findings have one, 12 verified" in proc.stdout
    assert (out / "fixes" / "fixes.md").is_file()
    assert external_references((out / "access_report.html").read_text(encoding="utf-8")) == []


def test_irsa_lab_check_prepares_the_demo_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "lab", "--check", "--dir", "lab"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in proc.stdout.splitlines() if line.startswith("export ")
    )
    assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert exports["IRSA_SNAPSHOT"] == str((tmp_path / "lab" / "snapshot.json").resolve())
    assert Path(exports["IRSA_SNAPSHOT"]).is_file()
    # JupyterLab opens a working copy of the notebooks there, never the shipped ones
    assert sorted(p.name for p in (tmp_path / "lab").glob("*.ipynb")) == sorted(NOTEBOOKS)
    assert "copied explore.ipynb to lab" in proc.stderr
