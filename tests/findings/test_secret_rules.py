"""F04, F05, F06, F07, F15, F16, F17, F22, F26, F27: who can read, decrypt or overwrite secret values."""

from __future__ import annotations

import dataclasses

from irsa_lib.findings import RULES, FindingContext, run_findings
from irsa_lib.model import (
    Account,
    ESOController,
    ESOSecretStore,
    KESController,
    KESExternalSecret,
    OrgPolicy,
    PodIdentityAssociation,
)
from tests.findings.builders import (
    ACCT,
    REGION,
    allow,
    arn,
    aws_key,
    binding,
    cmk,
    deny,
    doc,
    fails,
    k8s_role,
    node_group,
    only,
    param,
    param_arn,
    role,
    root_delegation,
    rule,
    sa,
    scoped_irsa,
    secret,
    snap,
    trust_role,
    unknowns,
    user,
)

BILLING_KEY = cmk("billing", root_delegation())
PAYMENTS_KEY = cmk("payments", root_delegation())
PARAMS = (param("/billing/db", "alias/billing"), param("/payments/api", "alias/payments"))
READ_ALL = doc(allow(["ssm:GetParameter*"], param_arn("/*")), allow("kms:Decrypt", "*"))


# --- F04 ------------------------------------------------------------------------------------------
def _kes_ctrl(policy: dict) -> dict:
    return {
        "roles": (role("external-secrets-role", scoped_irsa("external-secrets", "kes-sa"), policy),),
        "service_accounts": (sa("external-secrets", "kes-sa", arn("external-secrets-role")),),
        "kes_controllers": (
            KESController(cluster="demo", namespace="external-secrets", name="kes", service_account="kes-sa"),
        ),
        "kms_keys": (BILLING_KEY, PAYMENTS_KEY),
        "ssm_parameters": PARAMS,
    }


def test_f04_controller_role_reads_two_services() -> None:
    f = only(snap(**_kes_ctrl(READ_ALL)), "F04")
    assert f.resource == arn("external-secrets-role") and f.severity.value == "critical"
    assert any("['billing', 'payments']" in e for e in f.evidence)


def test_f04_negatives_assume_only_or_key_blocks() -> None:
    assume_only = doc(allow("sts:AssumeRole", arn("billing-service-role")))
    assert fails(snap(**_kes_ctrl(assume_only)), "F04") == set()
    # ssm on everything, but the keys name only the service roles (no root delegation): no decrypt.
    world = _kes_ctrl(READ_ALL)
    named = {
        "Effect": "Allow",
        "Principal": {"AWS": arn("billing-service-role")},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    world["kms_keys"] = (cmk("billing", named), cmk("payments", named))
    assert fails(snap(**world), "F04") == set()


def test_f04_eso_store_without_auth_uses_controller() -> None:
    world = {
        "roles": (role("eso-role", scoped_irsa("external-secrets", "eso"), READ_ALL),),
        "service_accounts": (sa("external-secrets", "eso", arn("eso-role")),),
        "eso_controllers": (
            ESOController(cluster="demo", namespace="external-secrets", name="eso", service_account="eso"),
        ),
        "eso_stores": (ESOSecretStore(cluster="demo", name="global", kind="ClusterSecretStore", api_version="v1"),),
        "kms_keys": (BILLING_KEY, PAYMENTS_KEY),
        "ssm_parameters": PARAMS,
    }
    f = only(snap(**world), "F04")
    assert any("no auth and no role" in e for e in f.evidence)


# --- F05 ------------------------------------------------------------------------------------------
def _nodes(tokens: str, hop: int, policy_arn: str | None = None, *policies: dict) -> dict:
    node = role(
        "node-role",
        trust_role("ec2.amazonaws.com"),
        *policies,
        attached_policy_arns=(policy_arn,) if policy_arn else (),
    )
    return {
        "roles": (node,),
        "node_groups": (node_group(tokens, hop),),
        "ssm_parameters": (param("/billing/db"),),  # aws/ssm default key
        "kms_keys": (aws_key("ssm"),),
    }


def test_f05_ssm_managed_instance_core_on_open_imds() -> None:
    s = snap(**_nodes("optional", 2, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"))
    f = only(s, "F05")
    assert f.resource == arn("node-role") and "IMDSv1" in f.evidence[0]


def test_f05_negatives() -> None:
    # IMDSv2 required and hop limit 1: pods cannot reach the role.
    assert fails(snap(**_nodes("required", 1, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")), "F05") == set()
    # Reachable IMDS, but the role reads nothing.
    assert fails(snap(**_nodes("optional", 2)), "F05") == set()


def test_f05_unknown_without_imds_settings() -> None:
    world = _nodes("optional", 2, None, doc(allow("ssm:GetParameter", "*")))
    ng = world["node_groups"][0]
    world["node_groups"] = (dataclasses.replace(ng, metadata_options=None),)
    assert unknowns(snap(**world), "F05") == {arn("node-role")}


# --- F06 ------------------------------------------------------------------------------------------
def test_f06_default_keys() -> None:
    s = snap(
        ssm_parameters=(
            param("/a/default"),
            param("/a/alias", "alias/aws/ssm"),
            param("/a/cmk", "alias/billing"),
            param("/a/plain", type_="String"),
        ),
        secrets=(secret("sm-default"), secret("sm-cmk", "alias/billing")),
        kms_keys=(BILLING_KEY,),
    )
    assert fails(s, "F06") == {param_arn("/a/default"), param_arn("/a/alias"), secret("sm-default").arn}


# --- F07 ------------------------------------------------------------------------------------------
def test_f07_root_delegation_plus_wildcard_decrypt() -> None:
    admin = role("admin", trust_role(arn("x")), doc(allow("*", "*")))
    scoped = role("billing-service-role", trust_role(arn("x")), doc(allow("kms:Decrypt", BILLING_KEY.arn)))
    s = snap(roles=(admin, scoped), kms_keys=(BILLING_KEY,), ssm_parameters=(param("/billing/db", "alias/billing"),))
    f = only(s, "F07")
    assert f.resource == BILLING_KEY.arn
    assert any(arn("admin") in e for e in f.evidence) and not any("billing-service-role" in e for e in f.evidence)


def test_f07_negatives_and_unknown() -> None:
    admin = role("admin", trust_role(arn("x")), doc(allow("*", "*")))
    named = cmk(
        "billing", {"Effect": "Allow", "Principal": {"AWS": arn("svc")}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    used = (param("/billing/db", "alias/billing"),)
    assert fails(snap(roles=(admin,), kms_keys=(named,), ssm_parameters=used), "F07") == set()
    assert fails(snap(roles=(admin,), kms_keys=(BILLING_KEY,)), "F07") == set()  # key encrypts nothing collected
    no_policy = cmk("billing", policy=False)
    assert unknowns(snap(roles=(admin,), kms_keys=(no_policy,), ssm_parameters=used), "F07") == {no_policy.arn}


# --- F15 ------------------------------------------------------------------------------------------
def test_f15_prefix_without_slash_crosses_services() -> None:
    app = role("app", trust_role(arn("x")), doc(allow("ssm:GetParameter", param_arn("/app*"))))
    slash = role("slash", trust_role(arn("x")), doc(allow("ssm:GetParameter", param_arn("/app/*"))))
    s = snap(roles=(app, slash), ssm_parameters=(param("/app/db"), param("/app-admin/db")))
    assert fails(s, "F15") == {arn("app")}


def test_f15_subpath_deny_bypassed_by_path() -> None:
    r = role(
        "r",
        trust_role(arn("x")),
        doc(
            allow(["ssm:GetParameter", "ssm:GetParametersByPath"], [param_arn("/billing"), param_arn("/billing/*")]),
            deny("ssm:GetParameter", param_arn("/billing/admin/root")),
        ),
    )
    safe = role(
        "safe",
        trust_role(arn("x")),
        doc(
            allow("ssm:GetParameter", param_arn("/billing/*")),
            deny("ssm:GetParameter", param_arn("/billing/admin/root")),
        ),
    )
    s = snap(roles=(r, safe), ssm_parameters=(param("/billing/db"), param("/billing/admin/root")))
    f = only(s, "F15")
    assert f.resource == arn("r") and f.severity.value == "high"


def test_f15_keeps_no_answer_once_a_principal_is_judged() -> None:
    """Roles whose pattern spans services they may not read are asked about each of those parameters;
    across an organisation those answers grow with principals x parameters, so none is kept: the
    context's cache stays empty and judging again asks the evaluator as often as the first time."""
    denied = doc(allow("ssm:GetParameter", param_arn("/*")), deny("ssm:GetParameter", param_arn("/*")))
    roles = tuple(role(f"r{i}", trust_role(arn("x")), denied) for i in range(3))
    params = tuple(param(f"/{svc}/p{j}") for svc in ("billing", "payments") for j in range(4))
    ctx = FindingContext(snap(roles=(*roles, role("app", trust_role(arn("x")), READ_ALL)), ssm_parameters=params))
    first = list(RULES["F15"].check(ctx))
    asked = ctx.aws.evaluations
    assert asked >= 3 * len(params) and ctx.decisions == {}
    assert list(RULES["F15"].check(ctx)) == first and ctx.aws.evaluations == 2 * asked
    assert [f.resource for f in first if f.status == "fail"] == [arn("app")]


# --- F16 ------------------------------------------------------------------------------------------
def test_f16_history_where_get_denied() -> None:
    leaky = role(
        "leaky",
        trust_role(arn("x")),
        doc(
            allow("ssm:*", param_arn("/billing/*")),
            deny("ssm:GetParameter", param_arn("/billing/db")),
            allow("kms:Decrypt", "*"),
        ),
    )
    tight = role(
        "tight",
        trust_role(arn("x")),
        doc(
            allow("ssm:*", param_arn("/billing/*")),
            deny("ssm:GetParameter*", param_arn("/billing/db")),
            allow("kms:Decrypt", "*"),
        ),
    )
    s = snap(roles=(leaky, tight), ssm_parameters=(param("/billing/db", "alias/billing"),), kms_keys=(BILLING_KEY,))
    assert fails(s, "F16") == {arn("leaky")}


# --- F17 ------------------------------------------------------------------------------------------
def test_f17_secret_wildcards_and_missing_names() -> None:
    sm = f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:"
    s = snap(
        roles=(
            role("star", trust_role(arn("x")), doc(allow("secretsmanager:GetSecretValue", sm + "db-*"))),
            role("exact", trust_role(arn("x")), doc(allow("secretsmanager:GetSecretValue", sm + "db-??????"))),
            role("gone", trust_role(arn("x")), doc(allow("secretsmanager:GetSecretValue", sm + "old-??????"))),
        ),
        secrets=(secret("db"), secret("db-admin")),
    )
    got = run_findings(s, rules=["F17"])
    assert {f.resource for f in got} == {arn("star"), arn("gone")}
    star = next(f for f in got if f.resource == arn("star"))
    assert "db-admin" in star.evidence[0]


# --- F22 ------------------------------------------------------------------------------------------
def test_f22_chained_roles_with_long_sessions() -> None:
    s = snap(
        roles=(
            role("long", trust_role(arn("x")), max_session_duration=43200),
            role("short", trust_role(arn("x"))),
            role("unchained-long", trust_role(arn("x")), max_session_duration=43200),
        ),
        kes_external_secrets=(
            KESExternalSecret(
                cluster="demo", namespace="a", name="e", backend_type="systemManager", role_arn=arn("long")
            ),
        ),
        pod_identity_associations=(
            PodIdentityAssociation(
                association_arn="a",
                association_id="a",
                cluster_name="demo",
                namespace="a",
                service_account="s",
                role_arn=arn("unchained-long"),
                target_role_arn=arn("short"),
                account_id=ACCT,
                region=REGION,
            ),
        ),
    )
    assert fails(s, "F22") == {arn("long")}


# --- F26 ------------------------------------------------------------------------------------------
def test_f26_tenant_pushsecret_through_writing_store() -> None:
    writer = role(
        "billing-store", trust_role(arn("x")), doc(allow(["ssm:PutParameter", "ssm:GetParameter"], param_arn("/*")))
    )
    reader = role("payments-store", trust_role(arn("x")), doc(allow("ssm:GetParameter", param_arn("/*"))))
    pusher = k8s_role("pusher", None, rule(["create"], ["external-secrets.io"], ["pushsecrets"]))
    s = snap(
        roles=(writer, reader),
        ssm_parameters=(param("/billing/db"), param("/payments/api")),
        eso_stores=(
            ESOSecretStore(
                cluster="demo",
                name="s",
                kind="SecretStore",
                api_version="v1",
                namespace="billing",
                role=arn("billing-store"),
            ),
            ESOSecretStore(
                cluster="demo",
                name="s",
                kind="SecretStore",
                api_version="v1",
                namespace="payments",
                role=arn("payments-store"),
            ),
        ),
        rbac_roles=(pusher,),
        rbac_bindings=(binding("devs", pusher, user("dev")),),
    )
    f = only(s, "F26")
    assert f.resource == "demo/billing/SecretStore/s" and "/payments/api" in f.evidence[0]
    no_pushers = dataclasses.replace(s, rbac_bindings=())
    assert fails(no_pushers, "F26") == set()


# --- F27 ------------------------------------------------------------------------------------------
def test_f27_lists_guardrails_or_says_unknown() -> None:
    scp = OrgPolicy(policy_id="p-1", name="deny-kms-outside-org", target_id="r-root", document=doc(deny("kms:*", "*")))
    with_scp = Account(account_id=ACCT, organization_id="o-1", scps=((scp,),), rcps=((),))
    f = only(snap(accounts=(with_scp,)), "F27")
    assert f.resource == f"arn:aws:iam::{ACCT}:root" and "deny-kms-outside-org" in f.evidence[0]
    unreadable = Account(account_id=ACCT, organization_id="o-1", scps=None, rcps=None)
    assert unknowns(snap(accounts=(unreadable,)), "F27") == {f"arn:aws:iam::{ACCT}:root"}
    mgmt = Account(account_id=ACCT, organization_id="o-1", management_account=True)
    assert run_findings(snap(accounts=(mgmt,)), rules=["F27"]) == []
