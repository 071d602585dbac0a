"""`irsa findings`: formats, SARIF 2.1.0 structure, --fail-on exit codes, --rule, --list-rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.findings import RULES
from irsa_lib.snapshot import save_snapshot
from tests.findings.builders import HOST, arn, irsa_trust, role, scoped_irsa, snap

SUB = f"{HOST}:sub"


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    s = snap(
        roles=(
            role("open", irsa_trust({"StringLike": {SUB: "system:serviceaccount:*:*"}})),  # F01 critical + F18 low
            role("noaud", irsa_trust({"StringEquals": {SUB: "system:serviceaccount:a:b"}})),  # F18 low
            role("good", scoped_irsa("a", "b")),
        )
    )
    return save_snapshot(s, tmp_path / "snap.json")


@pytest.fixture
def low_only_file(tmp_path: Path) -> Path:
    s = snap(roles=(role("noaud", irsa_trust({"StringEquals": {SUB: "system:serviceaccount:a:b"}})),))
    return save_snapshot(s, tmp_path / "low.json")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_format(snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "findings", str(snapshot_file), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [(d["rule"], d["resource"], d["severity"]) for d in data] == [
        ("F01", arn("open"), "critical"),
        ("F18", arn("noaud"), "low"),
        ("F18", arn("open"), "low"),
    ]
    for d in data:
        assert {"rule", "slug", "severity", "title", "resource", "evidence", "remediation", "status"} <= set(d)
        assert d["status"] == "fail" and d["evidence"]


def test_table_format_and_rule_filter(snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "findings", str(snapshot_file), "--rule", "F18")
    assert code == 0
    assert "F18 irsa-trust-missing-aud" in out and "F01" not in out
    assert "2 failing (2 low)" in out


@pytest.mark.parametrize(
    ("fixture", "threshold", "expected"),
    [
        ("snapshot_file", "high", 1),
        ("snapshot_file", "critical", 1),
        ("low_only_file", "high", 0),
        ("low_only_file", "low", 1),
        ("low_only_file", "info", 1),
    ],
)
def test_fail_on_exit_codes(
    fixture: str, threshold: str, expected: int, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    path = request.getfixturevalue(fixture)
    code, _, _ = run(capsys, "findings", str(path), "--fail-on", threshold, "--format", "json")
    assert code == expected


def test_bad_input_exits_2(tmp_path: Path, snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "findings", str(bad))
    assert code == 2 and "bad.json" in err and "malformed JSON" in err
    code, _, err = run(capsys, "findings", str(snapshot_file), "--fail-on", "severe")
    assert code == 2 and "unknown severity" in err
    code, _, err = run(capsys, "findings", str(snapshot_file), "--rule", "F42")
    assert code == 2 and "F42" in err
    code, _, err = run(capsys, "findings")
    assert code == 2 and "SNAPSHOT" in err


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "findings", "--list-rules")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| F")]
    assert len(rows) == len(RULES) and rows[0].startswith("| F01 | critical |")


# --- SARIF: the key parts of the SARIF 2.1.0 schema, checked by hand ----------------------------------
LEVELS = {"none", "note", "warning", "error"}
KINDS = {"notApplicable", "pass", "fail", "review", "open", "informational"}


def check_sarif(log: dict) -> None:
    """Required properties and enums of sarif-schema-2.1.0.json for the objects we emit."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and log["runs"]
    for run_ in log["runs"]:
        driver = run_["tool"]["driver"]  # run requires tool; tool requires driver
        assert isinstance(driver["name"], str) and driver["name"]  # toolComponent requires name
        ids = []
        for rule in driver.get("rules", []):
            assert isinstance(rule["id"], str)  # reportingDescriptor requires id
            ids.append(rule["id"])
            for key in ("shortDescription", "fullDescription", "help"):
                assert isinstance(rule[key]["text"], str)  # multiformatMessageString requires text
            assert rule["helpUri"].startswith("https://")
            assert rule["defaultConfiguration"]["level"] in LEVELS
        assert len(ids) == len(set(ids))
        for result in run_["results"]:
            assert isinstance(result["message"]["text"], str)  # result requires message (text or id)
            assert result["level"] in LEVELS and result["kind"] in KINDS
            if "ruleIndex" in result:
                assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
            for loc in result["locations"]:
                for ll in loc["logicalLocations"]:
                    assert isinstance(ll["name"], str) and isinstance(ll["fullyQualifiedName"], str)


def test_sarif_structure(snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "findings", str(snapshot_file), "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    check_sarif(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    f01 = driver["rules"][0]
    assert f01["fullDescription"]["text"] == RULES["F01"].meta.why and f01["helpUri"] == RULES["F01"].meta.help_uri
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("F01", "error"), ("F18", "note"), ("F18", "note")]
    assert results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == arn("open")


def test_sarif_marks_unknown_as_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from irsa_lib.model import Coverage
    from irsa_lib.snapshot import save_snapshot as save

    gap = Coverage(source="aws", scope="123456789012/global", service="iam", status="denied")
    path = save(snap(coverage=(gap,)), tmp_path / "gap.json")
    code, out, _ = run(capsys, "findings", str(path), "--format", "sarif", "--rule", "F01", "--fail-on", "info")
    log = json.loads(out)
    check_sarif(log)
    assert code == 0  # unknown findings never trip the gate
    assert [(r["kind"], r["level"]) for r in log["runs"][0]["results"]] == [("review", "none")]


def test_sarif_validates_and_every_result_points_at_a_file(
    snapshot_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.sarif_schema import validate_sarif

    assert run(capsys, "findings", str(snapshot_file))[0] == 0
    _, out, _ = run(capsys, "findings", str(snapshot_file), "--format", "sarif")
    log = json.loads(out)
    validate_sarif(log)
    results = log["runs"][0]["results"]
    text = snapshot_file.read_text().splitlines()
    for r in results:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == snapshot_file.resolve().as_uri()
        resource = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        assert text[loc["region"]["startLine"] - 1].strip() == f'"arn": "{resource}",'


def test_sarif_points_kubernetes_findings_at_their_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from irsa_lib.collect.manifests import load_manifests
    from irsa_lib.snapshot import merge_snapshots
    from tests.sarif_schema import validate_sarif

    manifests = tmp_path / "k8s"
    manifests.mkdir()
    (manifests / "rbac.yaml").write_text(
        "# cluster-wide secret readers\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: secret-reader}\n"
        "rules: [{apiGroups: [''], resources: [secrets], verbs: [get, list]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: devs-read-secrets}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}\n"
        "subjects: [{kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}]\n"
    )
    path = save_snapshot(merge_snapshots([snap(), load_manifests(manifests, cluster="c1")]), tmp_path / "s.json")
    argv = ["findings", str(path), "--format", "sarif", "--rule", "F13"]
    _, out, _ = run(capsys, *argv, "--manifests", str(manifests), "--cluster", "c1")
    log = json.loads(out)
    validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("k8s/rbac.yaml")
    resource = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    expected = 2 if "ClusterRole/" in resource else 7
    assert loc["region"]["startLine"] == expected
    _, out, _ = run(capsys, *argv)  # without the manifests: the record in the snapshot file
    loc = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == path.resolve().as_uri() and loc["region"]["startLine"] > 1
