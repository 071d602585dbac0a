"""Offline AWS dumps (AWS CLI outputs, hand-written in tests/data/aws_dump): records, and what they lack as not collected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from irsa_lib.access import effective_access
from irsa_lib.cli import main
from irsa_lib.collect.dumps import DumpError, load_aws_dump, load_iam_dump
from irsa_lib.collect.manifests import load_manifests
from irsa_lib.graph import build_graph
from irsa_lib.snapshot import load_snapshot, merge_snapshots

DATA = Path(__file__).resolve().parent.parent / "data"
DUMP = DATA / "aws_dump"
GAAD = DUMP / "iam" / "get-account-authorization-details.json"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_iam_dump_gives_principals_and_policies_and_names_what_it_lacks() -> None:
    snap = load_iam_dump(GAAD)
    roles = {r.name: r for r in snap.roles}
    assert set(roles) == {"app-role", "dev-role"}
    app = roles["app-role"]
    assert app.attached_policy_arns == ("arn:aws:iam::111122223333:policy/app-read",)
    assert [p.name for p in app.inline_policies] == ["decrypt-app"]
    assert app.tags == {"team": "app"}
    (policy,) = snap.managed_policies
    assert policy.default_version_id == "v2"
    assert policy.document["Statement"][0]["Action"] == ["ssm:GetParameter", "secretsmanager:GetSecretValue"]
    gaps = {(c.service, c.status, c.resource) for c in snap.incomplete()}
    assert gaps == {
        ("iam:GetPolicyVersion", "not_collected", "arn:aws:iam::111122223333:policy/dev-boundary"),
        ("iam:ListOpenIDConnectProviders", "not_collected", None),
    }


def test_aws_dump_directory() -> None:
    snap = load_aws_dump(DUMP)
    (provider,) = snap.oidc_providers
    assert provider.arn == "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    (key,) = snap.kms_keys
    assert key.arn == KEY and key.aliases == ("alias/app",) and key.rotation_enabled is None
    assert key.policy is not None and key.policy["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::111122223333:root"
    }
    params = {p.name: p for p in snap.ssm_parameters}
    assert params["/app/db-password"].resource_policy_readable
    assert not params["/app/shared"].resource_policy_readable
    (secret,) = snap.secrets
    assert secret.resource_policy is None and secret.resource_policy_readable
    (cluster,) = snap.clusters
    assert cluster.oidc_issuer == "https://oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    gaps = {(c.scope, c.service, c.resource) for c in snap.incomplete()}
    assert gaps == {
        ("111122223333/global", "iam:GetPolicyVersion", "arn:aws:iam::111122223333:policy/dev-boundary"),
        ("111122223333/us-east-1", "ssm:GetResourcePolicies", "/app/shared"),
        ("111122223333/us-east-1", "eks:ListPodIdentityAssociations", None),
        ("111122223333/us-east-1", "eks:DescribeNodegroup", None),
    }
    assert all(c.status == "not_collected" and "not in the offline dump" in (c.error or "") for c in snap.incomplete())


def test_a_dump_is_analysed_like_a_collection() -> None:
    """app/api -> app-role (IRSA) reads /app/db-password and app/api-key (alias/app delegates to IAM, and the
    role's inline policy allows kms:Decrypt on the key). /app/shared is conditional: its resource policies
    are not in the dump (one could deny). Every row of the cluster is incomplete: the dump has no node groups,
    so what pods reach through the node role is unknown."""
    snap = merge_snapshots([load_aws_dump(DUMP), load_manifests(DATA / "aws_dump_manifests", cluster="c1")])
    rows = effective_access(build_graph(snap))
    assert {(r.service_account, r.secret_name, r.decision) for r in rows} == {
        ("api", "/app/db-password", "allow"),
        ("api", "/app/shared", "conditional"),
        ("api", "app/api-key", "allow"),
    }
    assert all(not r.complete and any("eks:DescribeNodegroup" in u for u in r.unknown) for r in rows)


def test_collect_command_reads_dumps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "snap.json"
    code = main(["collect", "-o", str(out), "--iam-dump", str(GAAD), "--quiet"])
    assert code == 0
    assert {r.name for r in load_snapshot(out).roles} == {"app-role", "dev-role"}
    code = main(
        [
            "collect",
            "-o",
            str(out),
            "--aws-dump",
            str(DUMP),
            "--manifests",
            str(DATA / "aws_dump_manifests"),
            "--cluster",
            "c1",
            "--quiet",
        ]
    )
    assert code == 0
    assert len(load_snapshot(out).service_accounts) == 1
    capsys.readouterr()
    assert main(["collect", "-o", str(out), "--iam-dump", str(GAAD), "--profile", "p"]) == 2
    assert "--iam-dump conflicts with --profile" in capsys.readouterr().err


def test_bad_dumps_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DumpError, match="no such file"):
        load_iam_dump(tmp_path / "none.json")
    bad = tmp_path / "gaad.json"
    bad.write_text("{")
    with pytest.raises(DumpError, match=r"gaad\.json: malformed JSON"):
        load_iam_dump(bad)
    bad.write_text(json.dumps({"Parameters": []}))
    with pytest.raises(DumpError, match="not the output of aws iam get-account-authorization-details"):
        load_iam_dump(bad)
    copy = tmp_path / "dump"
    shutil.copytree(DUMP, copy)
    (copy / "us-east-1" / "ssm" / "describe-parameters.json").write_text("[1, 2]")
    snap = load_aws_dump(copy)  # one malformed file: that service fails, the rest loads
    assert snap.kms_keys and not snap.ssm_parameters
    assert [(c.service, c.status) for c in snap.coverage if c.service == "ssm"] == [("ssm", "failed")]
