"""Where people meet the fixes: `irsa findings` points at them, the report's section shows them, `irsa fix` writes them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from irsa_lib.analysis import analyse
from irsa_lib.cli import main
from irsa_lib.fixes.report import fixes_frame, fixes_section
from irsa_lib.snapshot import save_snapshot
from tests.fixes.test_builders import _controller_scenario
from tests.graph.factory import ACCT, irsa_trust, role, sa, snapshot

ROLE = f"arn:aws:iam::{ACCT}:role/"


@pytest.fixture
def snap_file(tmp_path: Path) -> Path:
    return save_snapshot(_controller_scenario(shared_policy=True), tmp_path / "snap.json")


def test_findings_table_and_json_name_the_fix_command(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", str(snap_file)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"patch: irsa fix {snap_file} -o fixes --finding F04:{ROLE}ext-role" in out
    assert "patch: irsa fix" not in out.split("F25 kes-still-deployed")[1]  # F25 has no mechanical fix
    assert main(["findings", str(snap_file), "--format", "json"]) == 0
    by_rule = {f["rule"]: f["fix"] for f in json.loads(capsys.readouterr().out)}
    assert by_rule["F04"] == f"irsa fix {snap_file} -o fixes --finding F04:{ROLE}ext-role"
    assert by_rule["F25"] is None


def test_irsa_fix_flags_a_fix_that_cuts_an_intended_delivery(
    snap_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["fix", str(snap_file), "-o", str(out), "--finding", "F04"]) == 0
    text = capsys.readouterr().out
    assert "FLAGGED: it removes 2 intended access row(s)" in text
    assert "INTENDED ROWS IT CUTS (2):" in text and "sa c1/billing/api reads /billing/db" in text
    assert main(["fix", str(snap_file), "-o", str(out), "--finding", "F04", "--fail-on-flagged"]) == 1
    data = json.loads((out / "fixes.json").read_text(encoding="utf-8"))
    (only,) = data["fixes"]
    assert only["proof"]["verified"] is False
    assert {r["subject"] for r in only["proof"]["intended_cut"]} == {
        "sa c1/billing/api",
        "kubelet c1/(node running the pod)",
    }
    written = {Path(p).name for p in only["fix"]["files"]}
    assert written == {
        "managed-read-billing.json",
        "managed-read-billing.diff",
        "key-k-billing.json",
        "key-k-billing.diff",
        "main.tf",
    }
    capsys.readouterr()
    assert main(["fix", str(snap_file), "-o", str(out), "--finding", "F99"]) == 2
    assert "unknown rule F99" in capsys.readouterr().err


def test_report_section_shows_each_finding_with_its_fix_escaped() -> None:
    hostile = "<img src=x onerror=alert(1)>"
    snap = _controller_scenario(shared_policy=True)
    bad = role("wild", irsa_trust("system:serviceaccount:*:*", op="StringLike"))
    snap = dataclasses.replace(
        snap, roles=(*snap.roles, bad), service_accounts=(*snap.service_accounts, sa(hostile, "x", "wild"))
    )
    a = analyse(snap)
    frame, verified, total = fixes_frame(a, limit=1)
    assert total == 2 and verified == 1  # F01 and F04 have fixes; only the most severe is verified here
    by_rule = dict(zip(frame["rule"], frame["proof"], strict=True))
    assert by_rule["F01"].startswith("verified") and by_rule["F04"] == "not verified here (irsa fix verifies it)"
    assert frame.set_index("rule").loc["F25", "fix"].startswith("no mechanical fix")
    section = fixes_section(a)
    page = section._repr_html_()
    assert hostile not in page
    embedded = json.loads(page.split('id="irsa-fixes-data">', 1)[1].split("</script>", 1)[0])
    assert embedded["columns"] == list(frame.columns) and len(embedded["rows"]) == len(frame)
    assert any(hostile in cell for row in embedded["rows"] for cell in row)  # as text, for the page to draw
    assert any(cell.startswith("FLAGGED: it removes 2 intended access row(s)") for r in embedded["rows"] for cell in r)
    assert 'id="irsa-fixes"' in page and "fixes.csv" in page
    empty = fixes_section(analyse(snapshot()))
    assert empty.frame.empty and empty._repr_html_() == "<p>No failing finding: nothing to fix.</p>"


def test_no_verification_starts_past_the_time_budget() -> None:
    frame, verified, total = fixes_frame(analyse(_controller_scenario(shared_policy=True)), budget_seconds=0)
    assert (verified, total) == (0, 1)
    assert list(frame.set_index("rule").loc[["F04"], "proof"]) == ["not verified here (irsa fix verifies it)"]


def test_no_output_carries_a_value_from_a_manifest_beside_the_patched_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Secret written in the same file as the workload a fix patches: its data never reaches an output."""
    from irsa_lib.collect.manifests import load_manifests
    from irsa_lib.snapshot import merge_snapshots

    value, encoded = "hunter2-manifest-value", "aHVudGVyMi1tYW5pZmVzdC12YWx1ZQ=="
    tree = tmp_path / "manifests"
    tree.mkdir()
    (tree / "app.yaml").write_text(
        f"""apiVersion: v1
kind: Secret
metadata: {{name: db, namespace: app}}
data: {{password: {encoded}}}
stringData: {{plain: {value}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: app}}
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1
          env:
            - name: DB_PASSWORD
              valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
""",
        encoding="utf-8",
    )
    snap = save_snapshot(merge_snapshots([snapshot(), load_manifests(tree, cluster="c1")]), tmp_path / "s.json")
    out = tmp_path / "out"
    assert (
        main(["fix", str(snap), "-o", str(out), "--finding", "F14", "--manifests", str(tree), "--cluster", "c1"]) == 0
    )
    printed = capsys.readouterr().out
    assert "verified" in printed
    assert main(["findings", str(snap), "--format", "sarif", "--manifests", str(tree), "--cluster", "c1"]) == 0
    printed += capsys.readouterr().out
    assert '"fixes"' in printed
    written = [p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()]
    assert any("secret-db" in text for text in written)  # the volume the fix adds
    for text in [printed, *written]:
        assert value not in text and encoded not in text


def test_no_fix_is_verified_in_the_report_above_its_row_limit() -> None:
    a = analyse(_controller_scenario(shared_policy=True))
    frame, verified, total = fixes_frame(a, verify_rows=len(a.rows) - 1)
    assert (verified, total) == (0, 1)
    assert list(frame.set_index("rule").loc[["F04"], "proof"]) == ["not verified here (irsa fix verifies it)"]
    caption = fixes_section(a, verify_rows=len(a.rows) - 1).caption
    assert f"0 of 1 verified here (none at this size: {len(a.rows):,} access rows" in caption
    assert fixes_frame(a, verify_rows=len(a.rows))[1] == 1
