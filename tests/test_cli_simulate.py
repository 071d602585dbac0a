"""``irsa simulate``: both forms, both output formats, and clear errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.cli import main
from irsa_lib.model import InlinePolicy, KMSKey, Role
from irsa_lib.snapshot import Snapshot, save_snapshot

A = "111122223333"
PARAM = f"arn:aws:ssm:us-east-1:{A}:parameter/billing/db"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k-1"
ROLE = f"arn:aws:iam::{A}:role/billing-service-role"

READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadBilling",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": f"arn:aws:ssm:*:{A}:parameter/billing/*",
        },
        {
            "Sid": "OnlyFromVpc",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}},
        },
    ],
}


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    snap = Snapshot(
        created_at="2026-11-29T00:00:00Z",
        roles=(
            Role(
                arn=ROLE,
                name="billing-service-role",
                role_id="AROABILLING",
                account_id=A,
                trust_policy={"Statement": [{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"}]},
                inline_policies=(InlinePolicy(name="read", document=READ),),
            ),
        ),
        kms_keys=(
            KMSKey(
                arn=KEY,
                key_id="k-1",
                account_id=A,
                region="us-east-1",
                manager="CUSTOMER",
                aliases=("alias/billing",),
                policy={
                    "Statement": [
                        {
                            "Sid": "Direct",
                            "Effect": "Allow",
                            "Principal": {"AWS": ROLE},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                        }
                    ]
                },
            ),
        ),
    )
    return save_snapshot(snap, tmp_path / "snap.json")


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_snapshot_form_is_conditional_on_an_unknown_key(
    snapshot_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_json(
        ["simulate", str(snapshot_file), "--principal", ROLE, "--action", "ssm:GetParameter", "--resource", PARAM],
        capsys,
    )
    assert out["decision"] == "conditional"
    assert out["unresolved_keys"] == ["aws:SourceVpc"]
    assert {d["sid"] for d in out["deciding"]} == {"ReadBilling", "OnlyFromVpc"}


def test_snapshot_form_with_context(snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["simulate", str(snapshot_file), "--principal", ROLE, "--action", "ssm:GetParameter", "--resource", PARAM]
    out = run_json([*base, "--context", "aws:SourceVpc=vpc-1"], capsys)
    assert (out["decision"], [d["sid"] for d in out["deciding"]], out["unresolved_keys"]) == (
        "allow",
        ["ReadBilling"],
        [],
    )
    out = run_json([*base, "--context", "aws:SourceVpc=vpc-2"], capsys)
    assert (out["decision"], out["explicit_deny"], [d["sid"] for d in out["deciding"]]) == (
        "deny",
        True,
        ["OnlyFromVpc"],
    )
    out = run_json([*base, "--context-complete"], capsys)
    assert out["decision"] == "deny" and out["explicit_deny"] is True


def test_snapshot_form_resolves_a_key_alias(snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alias = f"arn:aws:kms:us-east-1:{A}:alias/billing"
    out = run_json(
        [
            "simulate",
            str(snapshot_file),
            "--principal",
            ROLE,
            "--action",
            "kms:Decrypt",
            "--resource",
            alias,
            "--context",
            "aws:SourceVpc=vpc-1",
        ],
        capsys,
    )
    assert out["decision"] == "allow" and out["resource"] == KEY
    assert [d["sid"] for d in out["deciding"]] == ["Direct"]


def test_text_output_names_the_statements_and_keys(snapshot_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", str(snapshot_file), "--principal", ROLE, "--action", "ssm:GetParameter", "--resource", PARAM]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("decision: CONDITIONAL")
    assert "ReadBilling" in text and "OnlyFromVpc" in text
    assert "depends on context keys: aws:SourceVpc" in text
    assert "StringNotEquals aws:SourceVpc" in text


def test_request_file_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = {
        "principal": {"arn": f"arn:aws:sts::{A}:assumed-role/external-secrets-role/s", "identity_policies": []},
        "action": "sts:AssumeRole",
        "resource": ROLE,
        "resource_policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Eso",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{A}:role/external-secrets-role"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "context_complete": True,
    }
    path = tmp_path / "req.json"
    path.write_text(json.dumps(req))
    out = run_json(["simulate", "--request", str(path)], capsys)
    assert out["decision"] == "allow" and [d["sid"] for d in out["deciding"]] == ["Eso"]


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (
            ["--principal", f"arn:aws:iam::{A}:role/nope", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b"],
            "not in the snapshot",
        ),
        (
            ["--principal", ROLE, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b", "--context", "novalue"],
            "expected KEY=VALUE",
        ),
        (["--principal", ROLE, "--resource", "arn:aws:s3:::b"], "missing --action"),
    ],
)
def test_bad_snapshot_form_input_exits_2(
    snapshot_file: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str], message: str
) -> None:
    assert main(["simulate", str(snapshot_file), *argv_tail]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "malformed JSON at line 1"),
        (json.dumps({"action": "s3:GetObject", "resource": "x"}), "principal: expected an object"),
        (json.dumps({"principal": {"arn": ROLE}, "action": "s3:GetObject"}), "resource: expected a non-empty string"),
        (
            json.dumps({"principal": {"arn": ROLE}, "action": "a:b", "resource": "x", "oops": 1}),
            "unknown field(s) ['oops']",
        ),
        (
            json.dumps(
                {
                    "principal": {"arn": ROLE, "identity_policies": [{"Statement": [{"Effect": "Allow"}]}]},
                    "action": "a:b",
                    "resource": "x",
                }
            ),
            "principal.identity_policies[0]: Statement[0]",
        ),
    ],
)
def test_bad_request_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["simulate", "--request", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "error" in err


def test_missing_request_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--request", str(tmp_path / "none.json")]) == 2
    assert "no such request file" in capsys.readouterr().err


def test_request_and_snapshot_together_is_a_usage_error(
    snapshot_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    path.write_text("{}")
    assert main(["simulate", str(snapshot_file), "--request", str(path)]) == 2
    assert "self-contained" in capsys.readouterr().err


def test_repeated_context_key_collects_values() -> None:
    from irsa_lib.cli.simulate import parse_context

    assert parse_context(["k=a", "k=b", "j=x=y"]) == {"k": ["a", "b"], "j": "x=y"}
