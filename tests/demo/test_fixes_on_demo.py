"""Every demo finding with a mechanical fix: the fix applied, the snapshot analysed again, the rows it changes.

The expected changes are written by hand from the scenario (``irsa_lib.demo.scenario`` docstring and
the shipped manifests), fix by fix, with AWS's documented rules:

* F01 reporting-role: sub narrowed to ``reporting/reporting-app`` (the only service account annotated
  with it). Service accounts without a pod (``payments-eso-sa``, "any new sa") lose
  ``/reporting/db-password``; every workload still reads it through the node role (IMDSv1 allowed,
  hop limit 2; the node role reads any parameter and ``aws/ssm`` lets every principal decrypt via
  SSM); the groups already reached it through the node role (unchanged).
* F03 payments: ``^$`` admits no roleArn. ``payments-team`` no longer reaches the payments values
  through a KES ExternalSecret naming payments-service-role, but still through an ESO ExternalSecret
  in its namespace (it writes those): changed, not removed. Its billing rows go through the
  controller's own identity (an ExternalSecret without roleArn is not gated): unchanged.
  F03 monitoring / reporting: nobody may write ExternalSecrets there: no row changes.
* F04 external-secrets-role: loses ``read-billing-parameters`` and the billing key's Decrypt; every
  subject that read billing through it directly still reaches billing by assuming
  billing-service-role (its trust names the controller role, which may assume it): 10 rows change
  path, none is removed.
* F05 demo-node-role: IMDSv2 required, hop limit 1, reads scoped to AWS public parameters. The two
  groups reached ``/reporting/db-password`` through pods on the node role; they still reach it by
  running a pod as a service account that assumes reporting-role (F01's wildcard).
* F06 /reporting/db-password: moves to ``alias/reporting``, whose policy lets reporting-role
  decrypt via SSM. Every reader went through reporting-role or the node role; the node role cannot
  decrypt it any more, but each of those subjects also reaches reporting-role: all 10 rows stay,
  with the new key on their path. The node role then reads no value at all: F05 is resolved too.
* F08 legacy-app-role: the account root replaced by ci-deployer (the one principal that can assume
  it, through its group's ``sts:AssumeRole`` on ``*``). ``/legacy/api-token`` has no Kubernetes
  reader: no row changes.
* F13 developers-secret-reader: removed; every namespace holding Secrets (billing, payments) holds
  values materialised from AWS, so no RoleBinding replaces it: ``developers`` lose the four values.
* F14 payments-api: ``payments-db`` mounted as a volume instead of ``DB_PASSWORD``: the workload
  still reads the value (no row changes).
* F28 cloudwatch-agent, reporting-exporter: ``automountServiceAccountToken: false``: no row changes.

Every fix keeps the intended rows and grants nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import hcl2
import jsonpatch
import pytest
import yaml

from irsa_lib.analysis import Analysis, analyse
from irsa_lib.cli import main
from irsa_lib.collect.k8s_parse import K8S_RECORD_FIELDS
from irsa_lib.collect.manifests import load_manifests
from irsa_lib.demo.run import collect_demo
from irsa_lib.demo.scenario import DemoFacts, manifests_dir
from irsa_lib.diff import row_key
from irsa_lib.fixes import Fix, Proof, Verifier, build_fixes
from irsa_lib.fixes.manifests import ManifestObjects
from irsa_lib.fixes.model import ImdsEdit, NewKey, ObjectEdit, PolicyEdit, Rekey
from irsa_lib.fixes.overlay import apply_fix
from irsa_lib.fixes.terraform import terraform
from irsa_lib.snapshot import Snapshot, merge_snapshots

pytestmark = pytest.mark.integration

ACCT = "123456789012"
ROLE = f"arn:aws:iam::{ACCT}:role/"
REPORTING = "/reporting/db-password"
BILLING = ("/billing/api-key", "/billing/db-password")
PAYMENTS = ("/payments/db-password", "payments/stripe-api-key")
WORKLOADS_ON_NODES = (
    "sa demo/billing/billing-api",
    "sa demo/external-secrets/external-secrets-sa",
    "sa demo/external-secrets-operator/external-secrets",
    "sa demo/monitoring/cloudwatch-agent",
    "sa demo/payments/payments-api",
)
CONTROLLER_READERS = (
    "group demo/billing-team",
    "group demo/payments-team",
    "sa demo/external-secrets/external-secrets-sa",
    "sa demo/external-secrets-operator/external-secrets",
    "sa demo/payments/payments-eso-sa",
)
REPORTING_READERS = (
    "any new sa demo/*/*",
    "group demo/billing-team",
    "group demo/payments-team",
    *WORKLOADS_ON_NODES,
    "sa demo/payments/payments-eso-sa",
    "sa demo/reporting/reporting-app",
)
INTENDED_DELIVERIES = {
    ("sa demo/billing/billing-api", BILLING[0]),
    ("sa demo/billing/billing-api", BILLING[1]),
    ("sa demo/payments/payments-api", PAYMENTS[0]),
    ("sa demo/payments/payments-api", PAYMENTS[1]),
    *{("kubelet demo/(node running the pod)", v) for v in (*BILLING, *PAYMENTS)},
    ("sa demo/external-secrets/external-secrets-sa", PAYMENTS[0]),
    ("sa demo/external-secrets/external-secrets-sa", PAYMENTS[1]),
    ("sa demo/payments/payments-eso-sa", PAYMENTS[0]),
    ("sa demo/payments/payments-eso-sa", PAYMENTS[1]),
}

# (rule, resource) -> removed (subject, value, access), changed (subject, value), intended kept (subject, value)
EXPECTED: dict[tuple[str, str], tuple[set[tuple[str, str, str]], set[tuple[str, str]], set[tuple[str, str]]]] = {
    ("F01", ROLE + "reporting-role"): (
        {("any new sa demo/*/*", REPORTING, "potential"), ("sa demo/payments/payments-eso-sa", REPORTING, "direct")},
        {(s, REPORTING) for s in WORKLOADS_ON_NODES},
        {("sa demo/reporting/reporting-app", REPORTING)},
    ),
    ("F03", "demo/Namespace/payments"): (set(), {("group demo/payments-team", v) for v in PAYMENTS}, set()),
    ("F03", "demo/Namespace/monitoring"): (set(), set(), set()),
    ("F03", "demo/Namespace/reporting"): (set(), set(), set()),
    ("F04", ROLE + "external-secrets-role"): (
        set(),
        {(s, v) for s in CONTROLLER_READERS for v in BILLING},
        INTENDED_DELIVERIES,
    ),
    ("F05", ROLE + "demo-node-role"): (
        set(),
        {("group demo/billing-team", REPORTING), ("group demo/payments-team", REPORTING)},
        set(),
    ),
    ("F06", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password"): (
        set(),
        {(s, REPORTING) for s in REPORTING_READERS},
        {("sa demo/reporting/reporting-app", REPORTING)},
    ),
    ("F08", ROLE + "legacy-app-role"): (set(), set(), set()),
    ("F13", "demo/ClusterRoleBinding/developers-secret-reader"): (
        {("group demo/developers", v, "potential") for v in (*BILLING, *PAYMENTS)},
        set(),
        set(),
    ),
    ("F14", "demo/payments/Deployment/payments-api"): (
        set(),
        set(),
        {("sa demo/payments/payments-api", v) for v in PAYMENTS},
    ),
    ("F28", "demo/monitoring/DaemonSet/cloudwatch-agent"): (set(), set(), set()),
    ("F28", "demo/reporting/Deployment/reporting-exporter"): (set(), set(), set()),
}
WITHOUT_FIX = {
    ("F09", "demo/Namespace/payments"),
    ("F12", "demo/Namespace/billing"),
    ("F12", "demo/Namespace/payments"),
    ("F13", "demo/billing/RoleBinding/billing-team-developer"),
    ("F13", "demo/payments/RoleBinding/payments-team-developer"),
    ("F25", "demo/external-secrets/Deployment/kubernetes-external-secrets"),
}
ALSO_RESOLVED = {
    ("F06", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password"): {("F05", ROLE + "demo-node-role")}
}


@pytest.fixture(scope="module")
def snapshot(facts: DemoFacts) -> Snapshot:
    return collect_demo(facts.endpoint_url)


@pytest.fixture(scope="module")
def analysis(snapshot: Snapshot) -> Analysis:
    return analyse(snapshot)


@pytest.fixture(scope="module")
def fixes(analysis: Analysis) -> dict[tuple[str, str], Fix]:
    items = build_fixes(analysis, manifests=ManifestObjects([(manifests_dir(), "demo")]))
    found = {i.finding.key for i in items}
    assert found == set(EXPECTED) | WITHOUT_FIX
    assert {i.finding.key for i in items if not isinstance(i, Fix)} == WITHOUT_FIX
    return {i.finding.key: i for i in items if isinstance(i, Fix)}


@pytest.fixture(scope="module")
def proofs(analysis: Analysis, fixes: dict[tuple[str, str], Fix]) -> dict[tuple[str, str], Proof]:
    verifier = Verifier(analysis)
    return {k: verifier.verify(f) for k, f in fixes.items()}


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}-{k[1].rsplit('/', 1)[-1]}")
def test_the_fix_removes_the_finding_and_exactly_the_expected_rows(
    key: tuple[str, str], proofs: dict[tuple[str, str], Proof]
) -> None:
    removed, changed, kept = EXPECTED[key]
    p = proofs[key]
    assert p.finding_gone
    assert {(r.subject, r.secret_name, r.access) for r in p.removed} == removed
    assert {(a.subject, a.secret_name) for a, _ in p.changed} == changed
    assert p.added == ()
    assert p.cut == ()
    assert {(r.subject, r.secret_name) for r in p.kept} == kept
    assert {f.key for f in p.resolved} == {key} | ALSO_RESOLVED.get(key, set())
    assert p.introduced == ()
    assert p.verified


def test_f03_payments_team_no_longer_goes_through_a_kes_external_secret(proofs: dict[tuple[str, str], Proof]) -> None:
    for before, after in proofs[("F03", "demo/Namespace/payments")].changed:
        assert "any KES ExternalSecret someone could create in payments" in before.path
        assert "any KES ExternalSecret someone could create in payments" not in after.path


def test_f04_billing_is_read_through_the_service_role(proofs: dict[tuple[str, str], Proof]) -> None:
    for before, after in proofs[("F04", ROLE + "external-secrets-role")].changed:
        assert "role billing-service-role" not in before.path
        assert "role billing-service-role" in after.path


def test_the_changes_are_the_hand_written_ones(fixes: dict[tuple[str, str], Fix], facts: DemoFacts) -> None:
    host = facts.oidc_issuer.removeprefix("https://")
    (trust,) = fixes[("F01", ROLE + "reporting-role")].changes
    assert isinstance(trust, PolicyEdit) and trust.after is not None
    assert trust.after["Statement"][0]["Condition"] == {
        "StringEquals": {
            f"{host}:aud": "sts.amazonaws.com",
            f"{host}:sub": "system:serviceaccount:reporting:reporting-app",
        }
    }
    (trust,) = fixes[("F08", ROLE + "legacy-app-role")].changes
    assert isinstance(trust, PolicyEdit) and trust.after is not None
    assert trust.after["Statement"][0]["Principal"] == {"AWS": facts.ci_user_arn}

    inline, key = fixes[("F04", ROLE + "external-secrets-role")].changes
    assert isinstance(inline, PolicyEdit) and (inline.kind, inline.name, inline.after) == (
        "inline",
        "read-billing-parameters",
        None,
    )
    assert isinstance(key, PolicyEdit) and key.owner == facts.keys["billing"] and key.after is not None
    assert [s["Sid"] for s in key.after["Statement"]] == ["KeyAdministrationOnly", "ServiceRoleDecrypt"]

    imds, node_policy = fixes[("F05", ROLE + "demo-node-role")].changes
    assert isinstance(imds, ImdsEdit) and (imds.after.http_tokens, imds.after.hop_limit) == ("required", 1)
    assert isinstance(node_policy, PolicyEdit) and node_policy.after is not None
    assert node_policy.owner == facts.node_policy_arn
    assert node_policy.after["Statement"] == [
        {
            "Sid": "ReadPlainParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameter*",
            "Resource": "arn:aws:ssm:us-east-1::parameter/aws/service/*",
        }
    ]

    new_key, rekey = fixes[("F06", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password")].changes
    assert isinstance(new_key, NewKey) and new_key.alias == "alias/reporting"
    decrypt = [s for s in new_key.policy["Statement"] if s["Sid"] == "ServiceRoleDecryptViaService"]
    assert decrypt == [
        {
            "Sid": "ServiceRoleDecryptViaService",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE + "reporting-role"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}},
        }
    ]
    assert isinstance(rekey, Rekey) and (rekey.key_before, rekey.key_after) == ("alias/aws/ssm", "alias/reporting")

    for ns in ("payments", "monitoring", "reporting"):
        (edit,) = fixes[("F03", f"demo/Namespace/{ns}")].changes
        assert isinstance(edit, ObjectEdit) and edit.after is not None
        assert edit.after["metadata"]["annotations"] == {"iam.amazonaws.com/permitted": "^$"}

    (delete,) = fixes[("F13", "demo/ClusterRoleBinding/developers-secret-reader")].changes
    assert (
        isinstance(delete, ObjectEdit) and delete.after is None and delete.path and delete.path.endswith("60-rbac.yaml")
    )


def _manifest_edits(fixes: dict[tuple[str, str], Fix]) -> list[ObjectEdit]:
    return [c for f in fixes.values() for c in f.changes if isinstance(c, ObjectEdit) and not c.rebuilt]


def test_json_patches_apply_with_jsonpatch_to_the_manifest_objects(fixes: dict[tuple[str, str], Fix]) -> None:
    from irsa_lib.fixes.patches import json_patch

    edits = [e for e in _manifest_edits(fixes) if e.before is not None and e.after is not None]
    assert {e.target for e in edits} == {
        "demo/Namespace/payments",
        "demo/Namespace/monitoring",
        "demo/Namespace/reporting",
        "demo/payments/Deployment/payments-api",
        "demo/monitoring/DaemonSet/cloudwatch-agent",
        "demo/reporting/Deployment/reporting-exporter",
    }
    for e in edits:
        assert e.path is not None and e.lines is not None
        docs = [d for d in yaml.safe_load_all(Path(e.path).read_text(encoding="utf-8")) if d]
        (original,) = [
            d for d in docs if d["kind"] == e.target.split("/")[-2] and d["metadata"]["name"] == e.target.split("/")[-1]
        ]
        patched = jsonpatch.JsonPatch(json_patch(e.before, e.after)).apply(copy.deepcopy(original))
        assert patched == e.after
    deployment = next(e for e in edits if e.target.endswith("payments-api"))
    assert deployment.after is not None
    (container,) = deployment.after["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [{"name": "DB_HOST", "value": "payments-db.internal"}]
    assert {"name": "secret-payments-db", "mountPath": "/etc/secrets/payments-db", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert {"name": "secret-payments-db", "secret": {"secretName": "payments-db"}} in deployment.after["spec"][
        "template"
    ]["spec"]["volumes"]


def _aws_part(snapshot: Snapshot) -> Snapshot:
    """The snapshot without its Kubernetes side (the manifests are loaded again)."""
    return dataclasses.replace(
        snapshot,
        coverage=tuple(c for c in snapshot.coverage if c.source != "manifests"),
        **{name: () for name in K8S_RECORD_FIELDS},
    )


def test_patched_manifests_collected_again_give_the_overlay(
    fixes: dict[tuple[str, str], Fix], snapshot: Snapshot, tmp_path: Path
) -> None:
    """Each Kubernetes fix written into a copy of the manifests and collected again: the same rows and
    findings as the overlay the proof used."""
    from irsa_lib.fixes.patches import manifest_text, replace_lines

    aws_part = _aws_part(snapshot)
    for key, fix in fixes.items():
        edits = [c for c in fix.changes if isinstance(c, ObjectEdit)]
        if not edits:
            continue
        tree = tmp_path / key[0] / key[1].replace("/", "_")
        shutil.copytree(manifests_dir(), tree)
        for e in edits:
            assert e.path is not None and e.lines is not None
            target = tree / Path(e.path).name
            replacement = manifest_text(e.after) if e.after is not None else ""
            target.write_text(
                replace_lines(target.read_text(encoding="utf-8"), *e.lines, replacement), encoding="utf-8"
            )
        collected = merge_snapshots([aws_part, load_manifests(tree, cluster="demo")])
        again, overlaid = analyse(collected), analyse(apply_fix(snapshot, fix).snapshot)
        assert {row_key(r) for r in again.rows} == {row_key(r) for r in overlaid.rows}
        assert {f.key for f in again.findings} == {f.key for f in overlaid.findings}
        assert key not in {f.key for f in again.findings}


def _resources(parsed: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (rtype.strip('"'), name.strip('"')): body
        for block in parsed.get("resource", [])
        for rtype, named in block.items()
        for name, body in named.items()
    }


def test_terraform_of_each_fix_parses_with_hcl2(fixes: dict[tuple[str, str], Fix]) -> None:
    kinds = {}
    for key, fix in fixes.items():
        text = terraform(fix)
        aws = [c for c in fix.changes if not isinstance(c, ObjectEdit)]
        assert (text is None) == (not aws), key
        if text is not None:
            kinds[key[0]] = set(_resources(hcl2.loads(text)))
    assert kinds["F01"] == {("aws_iam_role", "reporting_role")}
    assert kinds["F08"] == {("aws_iam_role", "legacy_app_role")}
    assert kinds["F05"] == {("aws_launch_template", "demo_nodes"), ("aws_iam_policy", "demo_node_ssm_read")}
    assert kinds["F06"] == {
        ("aws_kms_key", "reporting"),
        ("aws_kms_alias", "reporting"),
        ("aws_ssm_parameter", "reporting_db_password"),
    }
    assert len(kinds["F04"]) == 1 and next(iter(kinds["F04"]))[0] == "aws_kms_key"
    f06 = _resources(
        hcl2.loads(terraform(fixes[("F06", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password")]) or "")
    )
    param = f06[("aws_ssm_parameter", "reporting_db_password")]
    assert param["value"] == "${var.reporting_db_password}"
    assert param["key_id"] == "${aws_kms_key.reporting.arn}"


def test_irsa_fix_writes_every_fix_and_no_secret_value(
    analysis: Analysis, snapshot: Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from irsa_lib.snapshot import save_snapshot

    snap = save_snapshot(snapshot, tmp_path / "snapshot.json")
    out = tmp_path / "fixes"
    argv = ["fix", str(snap), "-o", str(out), "--manifests", str(manifests_dir()), "--cluster", "demo"]
    assert main([*argv, "--fail-on-flagged"]) == 0
    text = capsys.readouterr().out
    data = json.loads((out / "fixes.json").read_text(encoding="utf-8"))
    assert {(f["finding"]["rule"], f["finding"]["resource"]) for f in data["fixes"] if f["fix"]} == set(EXPECTED)
    assert all(f["proof"]["verified"] for f in data["fixes"] if f["fix"])
    assert "verified" in text and "no mechanical fix" in text
    seeded = "demo-value-of"  # every value the demo seeds starts with it (irsa_lib.demo.scenario)
    assert seeded not in text
    for path in out.rglob("*"):
        if path.is_file():
            assert seeded not in path.read_text(encoding="utf-8"), path
    assert main(["fix", str(snap), "-o", str(tmp_path / "one"), "--finding", "F06", "--format", "json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["finding"]["rule"] == "F06" and only["proof"]["verified"] is True


def test_sarif_results_in_manifests_carry_their_verified_fix(
    snapshot: Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from irsa_lib.snapshot import save_snapshot
    from tests.sarif_schema import validate_sarif

    tree = tmp_path / "manifests"
    shutil.copytree(manifests_dir(), tree)
    snap = save_snapshot(snapshot, tmp_path / "snapshot.json")
    argv = ["findings", str(snap), "--format", "sarif", "--manifests", str(tree), "--cluster", "demo"]
    assert main(argv) == 0
    log = json.loads(capsys.readouterr().out)
    validate_sarif(log)
    results = log["runs"][0]["results"]
    with_fix = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]) for r in results if "fixes" in r}
    # the Kubernetes findings of the demo whose fix is verified; AWS findings are located in the snapshot
    assert with_fix == {k for k in EXPECTED if k[0] in ("F03", "F13", "F14", "F28")}
    aws_part = _aws_part(snapshot)
    for n, r in enumerate(x for x in results if "fixes" in x):
        key = (r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"])
        (fix,) = r["fixes"]
        (change,) = fix["artifactChanges"]
        uri = change["artifactLocation"]["uri"]
        assert uri == r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        copy_tree = tmp_path / f"fixed-{n}"
        shutil.copytree(manifests_dir(), copy_tree)
        target = copy_tree / Path(unquote(urlparse(uri).path)).name
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        for rep in sorted(change["replacements"], key=lambda x: -x["deletedRegion"]["startLine"]):
            region, inserted = rep["deletedRegion"], rep["insertedContent"]["text"]
            lines[region["startLine"] - 1 : region["endLine"]] = [inserted + "\n"] if inserted else []
        target.write_text("".join(lines), encoding="utf-8")
        again = analyse(merge_snapshots([aws_part, load_manifests(copy_tree, cluster="demo")]))
        assert key not in {f.key for f in again.findings}, key
