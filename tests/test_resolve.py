"""resolve: snapshot records to evaluator inputs, with missing pieces made visible."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from irsa_lib.model import (
    Account,
    Grant,
    Group,
    InlinePolicy,
    KMSKey,
    ManagedPolicy,
    OrgPolicy,
    Role,
    SecretsManagerSecret,
    SSMParameter,
    User,
)
from irsa_lib.policy import Request, evaluate
from irsa_lib.resolve import (
    Inventory,
    UnknownPrincipalError,
    identity_policies,
    policy_set_for,
    principal_for_role,
)
from irsa_lib.snapshot import Snapshot

A = "111122223333"
PARAM = f"arn:aws:ssm:us-east-1:{A}:parameter/billing/db"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1111-2222"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str, resource: str = "*", sid: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if sid:
        s["Sid"] = sid
    return s


TRUST_ESO = doc(
    {
        "Sid": "Eso",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:role/external-secrets-role"},
        "Action": "sts:AssumeRole",
    }
)


def snapshot(**over: Any) -> Snapshot:
    base: dict[str, Any] = {
        "created_at": "2026-11-29T00:00:00Z",
        "roles": (
            Role(
                arn=f"arn:aws:iam::{A}:role/billing-service-role",
                name="billing-service-role",
                role_id="AROABILLING000000001",
                account_id=A,
                trust_policy=TRUST_ESO,
                inline_policies=(InlinePolicy(name="read", document=doc(allow("ssm:GetParameter", PARAM, "Read"))),),
                attached_policy_arns=(f"arn:aws:iam::{A}:policy/decrypt",),
                tags={"team": "billing"},
            ),
            Role(
                arn=f"arn:aws:iam::{A}:role/external-secrets-role",
                name="external-secrets-role",
                role_id="AROAESO0000000000001",
                account_id=A,
                trust_policy=doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": f"arn:aws:iam::{A}:oidc-provider/x"},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                    }
                ),
            ),
        ),
        "users": (
            User(
                arn=f"arn:aws:iam::{A}:user/alice",
                name="alice",
                user_id="AIDAALICE00000000001",
                account_id=A,
                group_names=("readers",),
            ),
        ),
        "groups": (
            Group(
                arn=f"arn:aws:iam::{A}:group/readers",
                name="readers",
                group_id="AGPA1",
                account_id=A,
                inline_policies=(InlinePolicy(name="g", document=doc(allow("ssm:GetParameter", PARAM, "Group"))),),
            ),
        ),
        "managed_policies": (
            ManagedPolicy(
                arn=f"arn:aws:iam::{A}:policy/decrypt", name="decrypt", document=doc(allow("kms:Decrypt", KEY, "Dec"))
            ),
        ),
        "kms_keys": (
            KMSKey(
                arn=KEY,
                key_id="1111-2222",
                account_id=A,
                region="us-east-1",
                manager="CUSTOMER",
                aliases=("alias/billing",),
                policy=doc(
                    {
                        "Sid": "EnableIAM",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ),
                grants=(
                    Grant(grant_id="g1", grantee_principal=f"arn:aws:iam::{A}:user/alice", operations=("Decrypt",)),
                ),
            ),
        ),
        "ssm_parameters": (
            SSMParameter(
                arn=PARAM,
                name="/billing/db",
                account_id=A,
                region="us-east-1",
                type="SecureString",
                key_id="alias/billing",
            ),
        ),
    }
    base.update(over)
    return Snapshot(**base)


def sids(policies: Any) -> list[str | None]:
    return [s.ref.sid for p in policies for s in p.statements]


def test_role_identity_policies_are_inline_plus_attached() -> None:
    inv = Inventory.from_snapshot(snapshot())
    assert sids(identity_policies(inv, f"arn:aws:iam::{A}:role/billing-service-role")) == ["Read", "Dec"]


def test_session_gets_its_role_policies_and_principal() -> None:
    inv = Inventory.from_snapshot(snapshot())
    session = f"arn:aws:sts::{A}:assumed-role/billing-service-role/k8s-external-secrets"
    assert sids(identity_policies(inv, session)) == ["Read", "Dec"]
    p = inv.principal(session)
    assert (p.kind, p.role_arn, p.unique_id, p.tags) == (
        "session",
        f"arn:aws:iam::{A}:role/billing-service-role",
        "AROABILLING000000001",
        {"team": "billing"},
    )


def test_user_identity_includes_group_policies() -> None:
    inv = Inventory.from_snapshot(snapshot())
    assert sids(identity_policies(inv, f"arn:aws:iam::{A}:user/alice")) == ["Group"]


def test_principal_for_role() -> None:
    role = snapshot().roles[0]
    p = principal_for_role(role)
    assert (p.arn, p.kind, p.account_id, p.unique_id) == (role.arn, "role", A, "AROABILLING000000001")


def test_unknown_role_principal_is_an_error() -> None:
    inv = Inventory.from_snapshot(snapshot())
    with pytest.raises(UnknownPrincipalError, match="not in the snapshot"):
        inv.principal(f"arn:aws:iam::{A}:role/nope")


def test_parameter_read_end_to_end() -> None:
    inv = Inventory.from_snapshot(snapshot())
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, PARAM)
    assert ps.missing == ()
    d = evaluate(Request(inv.principal(role), "ssm:GetParameter", PARAM), ps)
    assert d.outcome == "allow"
    assert [r.sid for r in d.deciding] == ["Read"]


def test_key_by_arn_id_and_alias_and_root_delegation() -> None:
    inv = Inventory.from_snapshot(snapshot())
    assert inv.find_key("1111-2222") is inv.find_key("alias/billing") is inv.find_key(KEY)
    assert inv.find_key(f"arn:aws:kms:us-east-1:{A}:alias/billing") is inv.find_key(KEY)
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, KEY)
    assert ps.resource_kind == "kms-key" and len(ps.grants) == 1
    d = evaluate(Request(inv.principal(role), "kms:Decrypt", KEY), ps)
    assert d.outcome == "allow"
    assert sorted(r.sid or "" for r in d.deciding) == ["Dec", "EnableIAM"]


def test_grant_from_the_snapshot_lets_alice_decrypt() -> None:
    inv = Inventory.from_snapshot(snapshot())
    alice = f"arn:aws:iam::{A}:user/alice"
    d = evaluate(Request(inv.principal(alice), "kms:Decrypt", KEY), policy_set_for(inv, alice, KEY))
    assert d.outcome == "allow"
    assert [r.source for r in d.deciding] == ["grant g1"]


def test_trust_policy_is_the_resource_side_of_assume_role() -> None:
    inv = Inventory.from_snapshot(snapshot())
    eso = f"arn:aws:sts::{A}:assumed-role/external-secrets-role/s"
    target = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, eso, target)
    assert ps.resource_kind == "role-trust"
    d = evaluate(Request(inv.principal(eso), "sts:AssumeRole", target), ps)
    assert d.outcome == "allow" and [r.sid for r in d.deciding] == ["Eso"]


def test_missing_managed_policy_is_visible_and_makes_the_answer_uncertain() -> None:
    inv = Inventory.from_snapshot(snapshot(managed_policies=()))
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, KEY)
    assert any("policy/decrypt" in m and "not in the snapshot" in m for m in ps.missing)
    d = evaluate(Request(inv.principal(role), "kms:Decrypt", KEY), ps)
    assert d.outcome == "conditional" and d.missing == ps.missing


def test_unreadable_key_policy_is_missing_not_empty() -> None:
    snap = snapshot()
    key = snap.kms_keys[0]
    inv = Inventory.from_snapshot(snapshot(kms_keys=(KMSKey(**{**key.__dict__, "policy": None}),)))
    ps = policy_set_for(inv, f"arn:aws:iam::{A}:role/billing-service-role", KEY)
    assert any("key policy" in m and "could not be read" in m for m in ps.missing)


def test_malformed_inline_policy_is_reported_not_dropped() -> None:
    bad = Role(
        arn=f"arn:aws:iam::{A}:role/bad",
        name="bad",
        role_id="AROABAD",
        account_id=A,
        trust_policy=TRUST_ESO,
        inline_policies=(
            InlinePolicy(name="oops", document={"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}),
        ),
    )
    inv = Inventory.from_snapshot(snapshot(roles=(*snapshot().roles, bad)))
    ps = policy_set_for(inv, bad.arn, PARAM)
    assert any("inline oops" in m and "Effect" in m for m in ps.missing)
    assert any("inline oops" in p for p in inv.problems)


def test_missing_boundary_is_not_read_as_no_boundary() -> None:
    role = Role(
        arn=f"arn:aws:iam::{A}:role/bounded",
        name="bounded",
        role_id="AROAB",
        account_id=A,
        trust_policy=TRUST_ESO,
        inline_policies=(InlinePolicy(name="all", document=doc(allow("*"))),),
        permissions_boundary_arn=f"arn:aws:iam::{A}:policy/boundary",
    )
    inv = Inventory.from_snapshot(snapshot(roles=(role,)))
    ps = policy_set_for(inv, role.arn, PARAM)
    assert ps.boundary is not None
    d = evaluate(Request(inv.principal(role.arn), "ssm:GetParameter", PARAM), ps)
    assert d.outcome == "conditional"
    assert any("policy/boundary" in m for m in d.missing)


def scp(sid: str, effect: str, action: str) -> OrgPolicy:
    return OrgPolicy(
        policy_id=f"p-{sid}",
        name=sid,
        target_id="r-1",
        document=doc({"Sid": sid, "Effect": effect, "Action": action, "Resource": "*"}),
    )


def test_scps_of_the_principal_account_apply_per_level() -> None:
    acct = Account(
        account_id=A,
        organization_id="o-1",
        management_account=False,
        scps=((scp("Full", "Allow", "*"),), (scp("OnlyS3", "Allow", "s3:*"),)),
        rcps=(),
    )
    inv = Inventory.from_snapshot(snapshot(accounts=(acct,)))
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, PARAM)
    assert ps.scps is not None and len(ps.scps) == 2
    assert evaluate(Request(inv.principal(role), "ssm:GetParameter", PARAM), ps).outcome == "deny"


def test_scps_do_not_apply_to_the_management_account() -> None:
    acct = Account(account_id=A, organization_id="o-1", management_account=True, scps=((scp("Deny", "Deny", "*"),),))
    inv = Inventory.from_snapshot(snapshot(accounts=(acct,)))
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, PARAM)
    assert ps.scps is None
    assert evaluate(Request(inv.principal(role), "ssm:GetParameter", PARAM), ps).outcome == "allow"


def test_unreadable_scps_of_an_org_member_are_missing() -> None:
    acct = Account(account_id=A, organization_id="o-1", management_account=False, scps=None)
    inv = Inventory.from_snapshot(snapshot(accounts=(acct,)))
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, PARAM)
    assert any("SCPs of account" in m for m in ps.scp_missing)
    decision = evaluate(Request(inv.principal(role), "ssm:GetParameter", PARAM), ps)
    assert any("SCPs of account" in m for m in decision.missing)


def test_parameter_and_secret_resource_policies() -> None:
    shared = doc(
        {
            "Sid": "Share",
            "Effect": "Allow",
            "Principal": {"AWS": "444455556666"},
            "Action": "ssm:GetParameter",
            "Resource": "*",
        }
    )
    secret_arn = f"arn:aws:secretsmanager:us-east-1:{A}:secret:db-AbCdEf"
    secret_pol = doc(
        {
            "Sid": "Sec",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:user/alice"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    )
    snap = snapshot(
        ssm_parameters=(
            SSMParameter(
                arn=PARAM,
                name="/billing/db",
                account_id=A,
                region="us-east-1",
                type="SecureString",
                resource_policies=(shared,),
            ),
        ),
        secrets=(
            SecretsManagerSecret(
                arn=secret_arn, name="db", account_id=A, region="us-east-1", resource_policy=secret_pol
            ),
        ),
    )
    inv = Inventory.from_snapshot(snap)
    ps = policy_set_for(inv, f"arn:aws:iam::{A}:user/alice", PARAM + ":3")
    assert ps.resource is not None and [s.ref.sid for s in ps.resource.statements] == ["Share"]
    alice = f"arn:aws:iam::{A}:user/alice"
    d = evaluate(
        Request(inv.principal(alice), "secretsmanager:GetSecretValue", secret_arn),
        policy_set_for(inv, alice, secret_arn),
    )
    assert d.outcome == "allow" and [r.sid for r in d.deciding] == ["Sec"]


def test_unreadable_parameter_resource_policies_are_missing_not_none() -> None:
    # billing-service-role's identity policy allows ssm:GetParameter on PARAM ("Read"). With the
    # parameter's resource policies unreadable, a Deny there could still block it: conditional.
    unreadable = SSMParameter(
        arn=PARAM,
        name="/billing/db",
        account_id=A,
        region="us-east-1",
        type="SecureString",
        tier="Advanced",
        resource_policy_readable=False,
    )
    inv = Inventory.from_snapshot(snapshot(ssm_parameters=(unreadable,)))
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, PARAM)
    assert ps.resource is None
    assert ps.missing == (f"resource policies of parameter {PARAM} could not be read",)
    d = evaluate(Request(inv.principal(role), "ssm:GetParameter", PARAM), ps)
    assert d.outcome == "conditional"
    assert d.missing == (f"resource policies of parameter {PARAM} could not be read",)
    assert [r.sid for r in d.deciding] == ["Read"]


def test_unreadable_secret_resource_policy_is_missing_not_none() -> None:
    # external-secrets-role has no identity policy: without the secret's policy nothing allows, but the
    # unread policy could name the role (same account: that alone allows), so the answer is conditional.
    secret_arn = f"arn:aws:secretsmanager:us-east-1:{A}:secret:db-AbCdEf"
    secret = SecretsManagerSecret(
        arn=secret_arn, name="db", account_id=A, region="us-east-1", resource_policy_readable=False
    )
    readable = SecretsManagerSecret(
        arn=f"arn:aws:secretsmanager:us-east-1:{A}:secret:other-XyZ123", name="other", account_id=A, region="us-east-1"
    )
    inv = Inventory.from_snapshot(snapshot(secrets=(secret, readable)))
    eso = f"arn:aws:iam::{A}:role/external-secrets-role"
    d = evaluate(
        Request(inv.principal(eso), "secretsmanager:GetSecretValue", secret_arn), policy_set_for(inv, eso, secret_arn)
    )
    assert (d.outcome, d.missing) == ("conditional", (f"resource policy of secret {secret_arn} could not be read",))
    # a secret whose policy was read and found absent stays a plain implicit deny
    d = evaluate(
        Request(inv.principal(eso), "secretsmanager:GetSecretValue", readable.arn),
        policy_set_for(inv, eso, readable.arn),
    )
    assert (d.outcome, d.missing) == ("deny", ())


def test_cross_account_without_a_resource_policy_is_denied_even_with_a_policy_missing() -> None:
    # The principal's managed policy is not in the snapshot, but across accounts the parameter's own
    # (absent) resource policy would have to allow as well: a definite deny, not "uncertain".
    elsewhere = "arn:aws:ssm:us-east-1:444455556666:parameter/billing/db"
    shared = SSMParameter(
        arn=elsewhere, name="/billing/db", account_id="444455556666", region="us-east-1", type="SecureString"
    )
    inv = Inventory.from_snapshot(snapshot(managed_policies=(), ssm_parameters=(shared,)))
    role = f"arn:aws:iam::{A}:role/billing-service-role"
    ps = policy_set_for(inv, role, elsewhere)
    assert ps.missing and ps.resource_complete
    d = evaluate(Request(inv.principal(role), "ssm:GetParameter", elsewhere), ps)
    assert (d.outcome, d.missing) == ("deny", ())
    assert any("no resource-based policy" in r for r in d.reasons)
    # the same question without knowing the resource side stays uncertain: a parameter that was not
    # collected (its resource policies unknown), or a policy set built by hand
    uncollected = "arn:aws:ssm:us-east-1:444455556666:parameter/other/db"
    ps_uncollected = policy_set_for(inv, role, uncollected)
    assert not ps_uncollected.resource_complete
    assert evaluate(Request(inv.principal(role), "ssm:GetParameter", uncollected), ps_uncollected).outcome == (
        "conditional"
    )
    unknown = dataclasses.replace(ps, resource_complete=False)
    assert evaluate(Request(inv.principal(role), "ssm:GetParameter", elsewhere), unknown).outcome == "conditional"
