"""`irsa whatif`: the rows and findings a plan would add (written by hand), formats, SARIF locations, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.rowtable import ROW_FIELDS, RowTable
from irsa_lib.snapshot import save_snapshot
from tests.sarif_schema import validate_sarif
from tests.whatif.base import PLANS, base_snapshot

ACTIONS = str(PLANS / "plan_actions.json")
CONFIG = PLANS / "config"
APP = ("c1", "app")
# plan_actions.json, by hand: app-role's trust widens from app:api to StringLike app:* (so app/worker and any
# service account created in namespace app reach app-role); /app/old is deleted; /app/token is created on the
# new key app2 whose policy lets app-role decrypt; batch-role moves to /jobs/ and its policy "shared" now
# allows kms:Decrypt on *, which open-key (delegating to IAM) honours, so app-role's assumers read /shared/cfg.
GAINED = {
    (*APP, "*", "AnyServiceAccount", "/app/db", "potential", "allow"),
    (*APP, "*", "AnyServiceAccount", "/app/token", "potential", "allow"),
    (*APP, "*", "AnyServiceAccount", "/shared/cfg", "potential", "allow"),
    (*APP, "api", "ServiceAccount", "/app/token", "direct", "allow"),
    (*APP, "api", "ServiceAccount", "/shared/cfg", "direct", "allow"),
    (*APP, "worker", "ServiceAccount", "/app/db", "direct", "allow"),
    (*APP, "worker", "ServiceAccount", "/app/token", "direct", "allow"),
    (*APP, "worker", "ServiceAccount", "/shared/cfg", "direct", "allow"),
}
LOST = {(*APP, "api", "ServiceAccount", "/app/old", "direct", "allow")}


def _row(r: dict) -> tuple[str, ...]:
    return (
        r["cluster"],
        r["namespace"],
        r["service_account"],
        r["subject_kind"],
        r["secret_name"],
        r["access"],
        r["decision"],
    )


@pytest.fixture
def snap(tmp_path: Path) -> str:
    return str(save_snapshot(base_snapshot(), tmp_path / "snap.json"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_exactly_the_rows_and_findings_the_plan_adds(snap: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "whatif", snap, "--terraform-plan", ACTIONS, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert {_row(r) for r in data["access"]["gained"]} == GAINED
    assert {_row(r) for r in data["access"]["lost"]} == LOST
    assert data["access"]["changed"] == []
    assert [(f["rule"], f["resource"]) for f in data["findings"]["introduced"]] == [
        ("F07", "arn:aws:kms:us-east-1:111122223333:key/open-key")
    ]
    assert data["findings"]["resolved"] == []
    by = {(r["service_account"], r["secret_name"]): r["caused_by"] for r in data["access"]["gained"]}
    assert by[("worker", "/app/db")] == ["aws_iam_role.app"]
    assert set(by[("api", "/shared/cfg")]) == {"aws_iam_role.app", "aws_iam_role.batch", "aws_iam_policy.shared"}


@pytest.mark.parametrize(
    ("gate", "expected"), [("new-access", 1), ("high", 1), ("critical", 0), ("NEW-ACCESS", 1), (None, 0)]
)
def test_fail_on(snap: str, capsys: pytest.CaptureFixture[str], gate: str | None, expected: int) -> None:
    argv = ["whatif", snap, "--terraform-plan", ACTIONS]
    if gate:
        argv += ["--fail-on", gate]
    assert run(capsys, *argv)[0] == expected


def test_a_plan_that_grants_nothing_passes_the_gate(
    snap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = json.loads(Path(ACTIONS).read_text())
    plan["resource_changes"] = [rc for rc in plan["resource_changes"] if rc["address"] == "aws_ssm_parameter.old"]
    path = tmp_path / "delete-only.json"
    path.write_text(json.dumps(plan))
    code, out, _ = run(capsys, "whatif", snap, "--terraform-plan", str(path), "--fail-on", "new-access")
    assert code == 0
    assert "0 access rows gained, 1 lost" in out


def test_text_and_markdown_name_subjects_values_and_causes(snap: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = run(capsys, "whatif", snap, "--terraform-plan", ACTIONS)
    assert "  + c1/app/worker -> /app/db [direct, allow] by aws_iam_role.app" in text
    assert "  - c1/app/api -> /app/old [direct, allow]" in text
    _, markdown, _ = run(capsys, "whatif", snap, "--terraform-plan", ACTIONS, "--format", "markdown")
    assert markdown.startswith("### What this change would grant\n")
    assert "| c1/app/worker | /app/db | direct, allow | aws\\_iam\\_role.app |" in markdown


def test_sarif_points_at_terraform_blocks_and_is_valid(
    snap: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PLANS.parent.parent.parent)
    code, out, _ = run(
        capsys, "whatif", snap, "--terraform-plan", ACTIONS, "--terraform-dir", str(CONFIG), "--format", "sarif"
    )
    assert code == 0
    log = json.loads(out)
    validate_sarif(log)
    results = log["runs"][0]["results"]
    where = {
        (r["ruleId"], r["message"]["text"].split(" could read")[0]): (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    }
    # app/worker -> /app/db is caused by aws_iam_role.app alone: main.tf line 35
    assert where[("W01", "c1/app/worker")] == ("tests/data/terraform/config/main.tf", 35)
    f07 = next(r for r in results if r["ruleId"] == "F07")
    loc = f07["locations"][0]["physicalLocation"]
    assert (loc["artifactLocation"]["uri"], loc["region"]["startLine"]) == ("tests/data/terraform/config/jobs.tf", 1)
    assert len([r for r in results if r["ruleId"] == "W01"]) == len(GAINED)


def test_sarif_without_terraform_dir_points_at_the_plan(snap: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "whatif", snap, "--terraform-plan", ACTIONS, "--format", "sarif")
    log = json.loads(out)
    validate_sarif(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert all(u.endswith("plan_actions.json") for u in uris)


def test_manifests_replace_the_cluster_side(snap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = tmp_path / "k8s"
    manifests.mkdir()
    (manifests / "sa.yaml").write_text(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: worker, namespace: app}\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: cron, namespace: app}\n"
    )
    _, out, _ = run(
        capsys,
        "whatif",
        snap,
        "--terraform-plan",
        ACTIONS,
        "--manifests",
        str(manifests),
        "--cluster",
        "c1",
        "--format",
        "sarif",
    )
    log = json.loads(out)
    validate_sarif(log)
    cron = [r for r in log["runs"][0]["results"] if r["message"]["text"].startswith("c1/app/cron could read")]
    assert len(cron) == 3  # /app/db, /app/token, /shared/cfg through the widened trust
    loc = cron[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("k8s/sa.yaml") and loc["region"]["startLine"] == 5
    _, text, _ = run(capsys, "whatif", snap, "--manifests", str(manifests), "--cluster", "c1")
    # the manifests drop app/api and other/web: api loses what it read today
    assert "  - c1/app/api -> /app/db [direct, allow]" in text


def test_bad_input_exits_2_with_a_reason(snap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "whatif", snap)
    assert code == 2 and "nothing to overlay" in err
    bad = tmp_path / "plan.json"
    bad.write_text('{"format_version": "3.0", "resource_changes": []}')
    code, _, err = run(capsys, "whatif", snap, "--terraform-plan", str(bad))
    assert code == 2 and "format_version 3.0 is not supported" in err
    code, _, err = run(capsys, "whatif", snap, "--terraform-plan", ACTIONS, "--fail-on", "sometimes")
    assert code == 2 and "unknown severity" in err


def test_baseline_is_written_then_reused_only_for_the_same_snapshot(
    snap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    argv = ["whatif", snap, "--terraform-plan", ACTIONS, "--format", "json", "--baseline", str(baseline)]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and baseline.exists()
    first = json.loads(out)
    # read from the file, the same answer to the letter (every field of the rows lost, their keys too)
    assert json.loads(run(capsys, *argv)[1]) == first
    assert {_row(r) for r in first["access"]["gained"]} == GAINED
    assert first["access"]["lost"][0]["kms_key_arn"]  # a lost row comes from the file: it keeps its key
    # the file is what the second run used: drop today's /app/old row from it and that loss disappears
    data = json.loads(baseline.read_text())
    table = RowTable.from_json(data["rows"])
    name = ROW_FIELDS.index("secret_name")
    data["rows"] = RowTable(tuple(r for r in table if r[name] != "/app/old")).to_json()
    baseline.write_text(json.dumps(data))
    assert json.loads(run(capsys, *argv)[1])["access"]["lost"] == []
    # a file that is not a table of rows is not used: the snapshot is analysed again and the file rewritten
    data["rows"]["columns"]["path"][0] = [10**9]
    baseline.write_text(json.dumps(data))
    assert json.loads(run(capsys, *argv)[1]) == first
    assert RowTable.from_json(json.loads(baseline.read_text())["rows"]) == table
    # another snapshot: the file is stale, so the snapshot is analysed again and the file rewritten
    Path(snap).write_text(
        Path(snap).read_text().replace('"created_at": "2026-11-29T00:00:00Z"', '"created_at": "2026-11-30T00:00:00Z"')
    )
    assert {_row(r) for r in json.loads(run(capsys, *argv)[1])["access"]["lost"]} == LOST


def test_parallel_analysis_gives_the_same_answer(snap: str) -> None:
    """The two analyses in two processes (forked; run in a fresh interpreter, away from pytest's threads)."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from irsa_lib.snapshot import load_snapshot\n"
        "from irsa_lib.whatif.compare import what_if\n"
        "from irsa_lib.whatif.overlay import apply_plan\n"
        "from irsa_lib.whatif.plan import load_plan\n"
        "from irsa_lib.whatif.render import to_json\n"
        "s = load_snapshot(sys.argv[1])\n"
        "o = apply_plan(s, load_plan(sys.argv[2]))\n"
        "print(json.dumps([to_json(what_if(s, o, parallel=p)) for p in (True, False)]))\n"
    )
    root = Path(__file__).resolve().parent.parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code, snap, ACTIONS], cwd=root, capture_output=True, text=True, check=True
    )
    parallel, sequential = json.loads(out.stdout)
    assert parallel == sequential
    assert {_row(r) for r in parallel["access"]["gained"]} == GAINED


def test_values_known_after_apply_make_every_dependent_row_conditional(
    snap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan_unknown.json, by hand: pending-role (inline policy: ssm:GetParameter and kms:Decrypt on *) has a
    trust known only after apply, so whoever might assume it might read what it reads: /open/config and
    /shared/cfg (their keys delegate to IAM; app-key names only app-role). Candidates: every service account
    of c1 through web identity and app-role's holders through sts:AssumeRole; with web-role's extra policy
    ARN unknown, web might read any value. None of these is an allow, none is left out."""
    code, out, _ = run(capsys, "whatif", snap, "--terraform-plan", str(PLANS / "plan_unknown.json"), "--format", "json")
    data = json.loads(out)
    trust = "aws_iam_role.pending.assume_role_policy is known only after apply"
    policy = "aws_iam_role_policy_attachment.mystery.policy_arn is known only after apply"
    expected = (
        {("c1", None, "*", "AnyServiceAccount", v, "potential", "conditional") for v in ("/open/config", "/shared/cfg")}
        | {
            ("c1", "app", sa, "ServiceAccount", v, "direct", "conditional")
            for sa in ("api", "worker")
            for v in ("/open/config", "/shared/cfg")
        }
        | {
            ("c1", "other", "web", "ServiceAccount", v, "direct", "conditional")
            for v in ("/app/db", "/app/old", "/open/config", "/shared/cfg")
        }
    )
    assert {_row(r) for r in data["access"]["gained"]} == expected
    for r in data["access"]["gained"]:
        assert any((policy if r["service_account"] == "web" else trust) in u for u in r["unknown"]), r
    assert code == 0
