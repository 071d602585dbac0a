"""Verdicts the graph and ``irsa simulate`` reach over whole snapshots, class by class, each from the
AWS documentation page it cites (the request-level cases are in ``tests/policy/cases``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.cli import main
from irsa_lib.findings import run_findings
from irsa_lib.graph import build_graph
from irsa_lib.graph.aws import AwsView, Identity
from irsa_lib.graph.schema import param_id, role_id
from irsa_lib.model import Account, OrgPolicy, Role, SSMParameter
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot, save_snapshot
from tests.graph.conftest import rows as rows_of
from tests.graph.conftest import table
from tests.graph.factory import (
    ACCT,
    allow,
    deny,
    doc,
    irsa_trust,
    key_arn,
    key_policy_for,
    key_policy_root,
    kms_key,
    param,
    param_arn,
    role,
    role_arn,
    sa,
    secret,
    snapshot,
)

ORG_ACCOUNT = Account(
    account_id=ACCT,
    organization_id="o-1",
    management_account=False,
    ou_path=("r-root", ACCT),
    rcps=(),
    scps=(
        (OrgPolicy(policy_id="p-full", name="FullAWSAccess", document=doc(allow("*")), target_id="r-root"),),
        (OrgPolicy(policy_id="p-nossm", name="NoSsm", document=doc(allow("*"), deny("ssm:*")), target_id=ACCT),),
    ),
)


def simulate(tmp_path: Path, snap: Snapshot, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """``irsa simulate SNAPSHOT ... --format json`` and its answer."""
    path = tmp_path / "snap.json"
    save_snapshot(snap, path)
    capsys.readouterr()
    assert main(["simulate", str(path), *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def simulate_text(tmp_path: Path, snap: Snapshot, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    path = tmp_path / "snap.json"
    save_snapshot(snap, path)
    capsys.readouterr()
    assert main(["simulate", str(path), *args]) == 0
    return capsys.readouterr().out


# --- SCPs and RCPs do not apply to service-linked roles ----------------------------------------------
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html ("SCPs don't
# affect service-linked roles"); IAM puts every service-linked role on the /aws-service-role/ path
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).

SLR_NAME = "AWSServiceRoleForAmazonSSM"
SLR_ARN = f"arn:aws:iam::{ACCT}:role/aws-service-role/ssm.amazonaws.com/{SLR_NAME}"


def _slr_snapshot() -> Snapshot:
    # A record from a source that does not set service_linked (an offline dump, an older snapshot):
    # its path alone says what it is.
    slr = dataclasses.replace(
        role(
            SLR_NAME,
            doc({"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        ),
        arn=SLR_ARN,
        path="/aws-service-role/ssm.amazonaws.com/",
    )
    slr = dataclasses.replace(slr, inline_policies=role("x", {}, doc(allow("ssm:GetParameter"))).inline_policies)
    app = role("app-role", {}, doc(allow("ssm:GetParameter")))
    return Snapshot(
        created_at="2026-11-29T00:00:00Z",
        accounts=(ORG_ACCOUNT,),
        roles=(slr, app),
        kms_keys=(kms_key("k1", "alias/app", key_policy_for(SLR_NAME, "app-role")),),
        ssm_parameters=(param("/app/db", "alias/app"),),
    )


def test_an_scp_deny_does_not_turn_a_service_linked_roles_read_into_a_deny() -> None:
    snap = _slr_snapshot()
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    [target] = aws.parameters
    slr_read = aws.read(Identity(SLR_ARN), target, ("ssm:GetParameter",))
    assert slr_read is not None and slr_read.leg.decision == "allow"
    # the same SCP still denies an ordinary role of the account
    assert aws.read(Identity(role("app-role", {}).arn), target, ("ssm:GetParameter",)) is None


def test_simulate_says_why_the_scp_was_not_applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--principal", SLR_ARN, "--action", "ssm:GetParameter", "--resource", param_arn("/app/db"))
    out = simulate(tmp_path, _slr_snapshot(), capsys, *args)
    assert out["decision"] == "allow"
    assert any("SCPs and RCPs do not apply to it" in r for r in out["reasons"])
    session = f"arn:aws:sts::{ACCT}:assumed-role/{SLR_NAME}/run-1"
    out = simulate(tmp_path, _slr_snapshot(), capsys, "--principal", session, *args[2:])
    assert out["decision"] == "allow"


def test_a_role_named_like_a_service_linked_role_is_still_restricted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _slr_snapshot()
    impostor = dataclasses.replace(snap.roles[0], arn=f"arn:aws:iam::{ACCT}:role/{SLR_NAME}", path="/")
    snap = dataclasses.replace(snap, roles=(impostor, snap.roles[1]))
    out = simulate(
        tmp_path, snap, capsys, "--principal", impostor.arn, "--action", "ssm:GetParameter", "--resource",
        param_arn("/app/db"),
    )  # fmt: skip
    assert (out["decision"], out["explicit_deny"]) == ("deny", True)


def test_roles_flagged_at_collection_stay_service_linked() -> None:
    flagged = Role(
        arn=f"arn:aws:iam::{ACCT}:role/custom-path/{SLR_NAME}",
        name=SLR_NAME,
        role_id="AROASLR",
        account_id=ACCT,
        trust_policy={},
        service_linked=True,
    )
    assert Inventory.from_snapshot(Snapshot(created_at="x", roles=(flagged,))).principal(flagged.arn).service_linked


def test_unread_org_policies_leave_a_service_linked_role_certain() -> None:
    # SCPs and RCPs that could not be read cannot change an answer they do not take part in: not for a
    # service-linked role, and RCPs not for Parameter Store (Organizations orgs_manage_policies_rcps:
    # Systems Manager is not among the services RCPs apply to).
    unread = dataclasses.replace(ORG_ACCOUNT, scps=None, rcps=None)
    snap = dataclasses.replace(_slr_snapshot(), accounts=(unread,))
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    [target] = aws.parameters
    slr_read = aws.read(Identity(SLR_ARN), target, ("ssm:GetParameter",))
    assert slr_read is not None and slr_read.leg.decision == "allow"
    app_read = aws.read(Identity(role("app-role", {}).arn), target, ("ssm:GetParameter",))
    assert app_read is not None and app_read.leg.decision == "conditional"
    assert app_read.read.missing == (f"SCPs of account {ACCT} could not be read",)  # RCPs: not for SSM
    assert f"RCPs of account {ACCT} could not be read" in app_read.decrypt.missing  # but for KMS


# --- a key that is not enabled decrypts nothing ------------------------------------------------------
# https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html: cryptographic operations fail for
# keys that are Disabled, PendingDeletion, PendingImport, Unavailable or PendingReplicaDeletion.

WEB_TRUST = irsa_trust("system:serviceaccount:app:web")


def _key_state_snapshot(state: str, *, policy_readable: bool = True) -> Snapshot:
    policy = key_policy_for("web-role") if policy_readable else None
    return snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow(["ssm:GetParameter", "secretsmanager:GetSecretValue"])))],
        service_accounts=[sa("app", "web", "web-role")],
        kms_keys=[
            kms_key("k1", "alias/app", policy, key_state=state),
            kms_key("k2", "alias/ok", key_policy_for("web-role")),
        ],
        ssm_parameters=[param("/app/db", "alias/app"), param("/app/ok", "alias/ok")],
        secrets=[secret("app/api", key=key_arn("k1"))],
    )


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion", "PendingImport", "Unavailable"])
def test_values_on_a_key_that_is_not_enabled_are_read_by_no_one(state: str) -> None:
    assert table(_key_state_snapshot(state)) == {("app", "web", "/app/ok", "direct", "allow")}
    # an unreadable key policy cannot make them conditional either: the state refuses whatever it says
    assert table(_key_state_snapshot(state, policy_readable=False)) == {("app", "web", "/app/ok", "direct", "allow")}


def test_an_enabled_key_still_reads() -> None:
    assert table(_key_state_snapshot("Enabled")) == {
        ("app", "web", "/app/ok", "direct", "allow"),
        ("app", "web", "/app/db", "direct", "allow"),
        ("app", "web", "app/api", "direct", "allow"),
    }


def test_simulate_explains_the_key_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--principal", role_arn("web-role"), "--action", "kms:Decrypt", "--resource", "alias/app")
    text = simulate_text(tmp_path, _key_state_snapshot("Disabled"), capsys, *args)
    assert text.startswith("decision: DENY\n")
    assert f"KMS key {key_arn('k1')} is Disabled: KMS refuses cryptographic operations such as kms:Decrypt" in text
    assert "the policies alone: allow" in text


def test_f29_names_values_no_one_can_read() -> None:
    found = {(f.resource, f.severity.value) for f in run_findings(_key_state_snapshot("Disabled"), rules=["F29"])}
    assert found == {(param_arn("/app/db"), "medium"), (secret("app/api").arn, "medium")}
    pending = run_findings(_key_state_snapshot("PendingDeletion"), rules=["F29"])
    assert {f.severity.value for f in pending} == {"high"}
    assert run_findings(_key_state_snapshot("Enabled"), rules=["F29"]) == []


# --- KMS actions with no key, and alias management ----------------------------------------------------
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
# (actions without a resource type are allowed on "*"); https://docs.aws.amazon.com/kms/latest/developerguide/
# alias-access.html (alias operations need the alias in an IAM policy and every affected key in its key policy).


def _kms_admin_snapshot() -> Snapshot:
    alias_admin = {
        "Sid": "OpsAliases",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn("ops-role")},
        "Action": ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:DescribeKey"],
        "Resource": "*",
    }
    return snapshot(
        roles=[
            role(
                "ops-role",
                {},
                doc(
                    allow(["kms:ListKeys", "kms:ListAliases", "kms:CreateKey"]),
                    allow(["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"], "arn:aws:kms:*:*:alias/app*"),
                ),
            )
        ],
        kms_keys=[
            kms_key("k1", "alias/app", doc(alias_admin)),
            kms_key("k2", "alias/other", key_policy_for("admin-role")),
        ],
    )


def test_kms_actions_without_a_key_are_decided_by_iam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _kms_admin_snapshot()
    for action in ("kms:ListKeys", "kms:ListAliases", "kms:CreateKey"):
        out = simulate(
            tmp_path, snap, capsys, "--principal", role_arn("ops-role"), "--action", action, "--resource", "*"
        )
        assert out["decision"] == "allow", out
    text = simulate_text(
        tmp_path, snap, capsys, "--principal", role_arn("ops-role"), "--action", "kms:GenerateRandom", "--resource", "*"
    )
    assert text.startswith("decision: DENY\n")
    assert "kms:GenerateRandom has no resource type" in text


def test_alias_management_needs_the_alias_and_every_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _kms_admin_snapshot()
    who = ("--principal", role_arn("ops-role"))
    out = simulate(tmp_path, snap, capsys, *who, "--action", "kms:DeleteAlias", "--resource", "alias/app")
    assert (out["decision"], out["resource"]) == ("allow", f"arn:aws:kms:us-east-1:{ACCT}:alias/app")
    # creating a new alias for k1: the alias pattern and k1's key policy both allow
    out = simulate(
        tmp_path, snap, capsys, *who, "--action", "kms:CreateAlias", "--resource", "alias/app-2", "--target-key", "k1"
    )
    assert out["decision"] == "allow"
    # pointing alias/app at k2: k2's key policy does not allow ops-role
    text = simulate_text(
        tmp_path, snap, capsys, *who, "--action", "kms:UpdateAlias", "--resource", "alias/app", "--target-key", "k2"
    )
    assert text.startswith("decision: DENY\n")
    assert f"on the key {key_arn('k2')}:" in text
    # the new key not given: uncertain, and it says which key is missing
    out = simulate(tmp_path, snap, capsys, *who, "--action", "kms:UpdateAlias", "--resource", "alias/app")
    assert out["decision"] == "conditional"
    assert out["missing"] == ["the target key (--target-key) is not known"]
    # alias/other is outside the IAM alias pattern, whatever k2's policy says
    out = simulate(tmp_path, snap, capsys, *who, "--action", "kms:DeleteAlias", "--resource", "alias/other")
    assert out["decision"] == "deny"
    assert any(r.startswith(f"on the alias arn:aws:kms:us-east-1:{ACCT}:alias/other:") for r in out["reasons"])


# --- aws:ResourceTag from the tags the snapshot holds --------------------------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html (aws:ResourceTag compares the tags of the
# resource); https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
# (a missing key makes StringEquals false).

TEAM = {"StringEquals": {"aws:ResourceTag/team": "app"}}


def _tagged_snapshot(*, parameter_tags: dict[str, str] | None, key_tags: dict[str, str] | None = None) -> Snapshot:
    read = doc(
        allow(["secretsmanager:GetSecretValue", "ssm:GetParameter"], Condition=TEAM),
        allow("kms:Decrypt", Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
    )
    return snapshot(
        roles=[role("web-role", WEB_TRUST, read, tags={"team": "app"})],
        service_accounts=[sa("app", "web", "web-role")],
        kms_keys=[kms_key("k1", "alias/app", key_policy_root(), tags=key_tags)],
        secrets=[
            dataclasses.replace(secret("app/match", key=key_arn("k1")), tags={"team": "app"}),
            dataclasses.replace(secret("app/other", key=key_arn("k1")), tags={"team": "billing"}),
            dataclasses.replace(secret("app/untagged", key=key_arn("k1")), tags={}),
        ],
        ssm_parameters=[dataclasses.replace(param("/app/db", "alias/app"), tags=parameter_tags)],
    )


def test_resource_tags_resolve_from_the_snapshot() -> None:
    snap = _tagged_snapshot(parameter_tags={"team": "app"}, key_tags={"team": "app"})
    assert table(snap) == {
        ("app", "web", "app/match", "direct", "allow"),
        ("app", "web", "/app/db", "direct", "allow"),
    }


def test_tags_not_collected_leave_the_key_unresolved() -> None:
    # parameter tags not collected: conditional on the parameter's tag; key tags not collected: on the key's
    snap = _tagged_snapshot(parameter_tags=None, key_tags=None)
    rows = {r.secret_name: r for r in rows_of(snap)}
    assert set(rows) == {"app/match", "/app/db"}
    assert all(r.decision == "conditional" for r in rows.values())
    assert set(rows["/app/db"].unresolved_keys) == {"aws:ResourceTag/team"}
    # collected and different: no row at all
    assert table(_tagged_snapshot(parameter_tags={"team": "billing"}, key_tags={"team": "app"})) == {
        ("app", "web", "app/match", "direct", "allow")
    }


def test_simulate_resolves_resource_tags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _tagged_snapshot(parameter_tags={"team": "app"}, key_tags={"team": "app"})
    who = ("--principal", role_arn("web-role"), "--action", "secretsmanager:GetSecretValue", "--resource")
    assert simulate(tmp_path, snap, capsys, *who, secret("app/match").arn)["decision"] == "allow"
    assert simulate(tmp_path, snap, capsys, *who, secret("app/untagged").arn)["decision"] == "deny"
    # the caller can still say what a tag is (a what-if): the given context wins
    out = simulate(tmp_path, snap, capsys, *who, secret("app/untagged").arn, "--context", "aws:ResourceTag/team=app")
    assert out["decision"] == "allow"


# --- String and StringList parameters are values too -------------------------------------------------
# https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-about.html (parameter types:
# String and StringList values are plain text; only SecureString values are encrypted with a KMS key).


def _plain(name: str, ptype: str = "String") -> SSMParameter:
    return dataclasses.replace(param(name), type=ptype, key_id=None)  # type: ignore[arg-type]


def _plaintext_snapshot() -> Snapshot:
    return snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=[sa("app", "web", "web-role")],
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("admin-role"))],  # the role cannot decrypt
        ssm_parameters=[
            param("/app/db-password", "alias/app"),
            _plain("/app/db-username"),
            _plain("/app/hosts", "StringList"),
            _plain("/app/apiToken"),
            _plain("/other/url"),
        ],
    )


def test_string_parameters_are_read_without_a_key() -> None:
    got = {(r.secret_name, r.secret_kind, r.access, r.decision) for r in rows_of(_plaintext_snapshot())}
    assert got == {
        ("/app/db-username", "ssm-string-parameter", "direct", "allow"),
        ("/app/hosts", "ssm-string-parameter", "direct", "allow"),
        ("/app/apiToken", "ssm-string-parameter", "direct", "allow"),
    }  # not the SecureString (its key policy does not name the role), not /other/url (not allowed)


def test_string_parameter_read_is_explained_without_kms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g = build_graph(_plaintext_snapshot())
    [edge] = g.graph.get_edge_data(role_id(role_arn("web-role")), param_id(param_arn("/app/db-username"))).values()
    assert any("no KMS key" in e for e in edge["evidence"])
    out = simulate(
        tmp_path, _plaintext_snapshot(), capsys, "--principal", role_arn("web-role"), "--action", "ssm:GetParameter",
        "--resource", param_arn("/app/db-username"),
    )  # fmt: skip
    assert out["decision"] == "allow"


def test_f30_flags_plaintext_parameters_that_look_like_secrets() -> None:
    snap = _plaintext_snapshot()
    found = {f.resource: f for f in run_findings(snap, graph=build_graph(snap), rules=["F30"])}
    assert {r: f.severity.value for r, f in found.items()} == {
        param_arn("/app/apiToken"): "high",  # its name says token
        param_arn("/app/db-username"): "medium",  # beside the SecureString /app/db-password
        param_arn("/app/hosts"): "medium",
    }
    evidence = found[param_arn("/app/apiToken")].evidence
    assert "its name says token" in evidence
    assert "readable by 1 subject(s): ['c1/app/web']" in evidence
    # encrypted values are not F30's business, nor plain text on its own path with a neutral name
    assert param_arn("/other/url") not in found and param_arn("/app/db-password") not in found
