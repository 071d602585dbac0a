"""F01, F02, F08, F18, F19, F20, F21: trust-policy shape rules, each with positive and negative cases."""

from __future__ import annotations

import pytest

from irsa_lib.model import Coverage, KMSKey
from tests.findings.builders import (
    ACCT,
    HOST,
    REGION,
    allow,
    arn,
    doc,
    fails,
    irsa_trust,
    only,
    param_arn,
    role,
    sa,
    scoped_irsa,
    snap,
    trust_role,
    unknowns,
)

SUB = f"{HOST}:sub"
AUD = f"{HOST}:aud"


# --- F01 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("conditions", "broad"),
    [
        (None, True),
        ({"StringEquals": {AUD: "sts.amazonaws.com"}}, True),
        ({"StringLike": {SUB: "system:serviceaccount:*:*"}}, True),
        ({"StringLike": {SUB: "system:serviceaccount:*:app"}}, True),
        ({"StringLike": {SUB: "*"}}, True),
        ({"StringLike": {SUB: "system:serviceaccount:team-*:app"}}, True),
        ({"StringNotEquals": {SUB: "system:serviceaccount:kube-system:x"}}, True),
        ({"StringEquals": {SUB: "system:serviceaccount:billing:app"}}, False),
        ({"StringLike": {SUB: "system:serviceaccount:billing:*"}}, False),
        # literal '*' under StringEquals is not a wildcard
        ({"StringEquals": {SUB: "system:serviceaccount:*:*"}}, False),
        # ANDed: one scoped condition is enough
        ({"StringLike": {SUB: "system:serviceaccount:*:*"}, "StringEquals": {SUB: "system:serviceaccount:a:b"}}, False),
    ],
)
def test_f01_irsa_trust_scope(conditions: dict | None, broad: bool) -> None:
    s = snap(roles=(role("r", irsa_trust(conditions)),))
    assert fails(s, "F01") == ({arn("r")} if broad else set())


def test_f01_ignores_other_providers_and_deny() -> None:
    gh = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/*"}},
        }
    )
    assert fails(snap(roles=(role("gh", gh),)), "F01") == set()


def test_f01_unknown_when_iam_not_collected() -> None:
    gap = Coverage(source="aws", scope=f"{ACCT}/global", service="iam", status="denied", error="AccessDenied")
    s = snap(coverage=(gap,))
    assert unknowns(s, "F01") == {f"aws:{ACCT}/global:iam"}
    assert fails(s, "F01") == set()


def test_f01_evidence_names_statement_and_cluster() -> None:
    f = only(snap(roles=(role("r", irsa_trust({"StringLike": {SUB: "system:serviceaccount:*:*"}})),)), "F01")
    assert "statement 0" in f.evidence[0] and "cluster demo" in f.evidence[0]
    assert f.severity.value == "critical"


# --- F18 ------------------------------------------------------------------------------------------
def test_f18_missing_aud() -> None:
    no_aud = irsa_trust({"StringEquals": {SUB: "system:serviceaccount:a:b"}})
    assert fails(snap(roles=(role("r", no_aud),)), "F18") == {arn("r")}
    assert fails(snap(roles=(role("r", scoped_irsa("a", "b")),)), "F18") == set()


# --- F02 ------------------------------------------------------------------------------------------
def test_f02_open_principal() -> None:
    open_ = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    star = doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    )
    org = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        }
    )
    negated = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}},
        }
    )
    s = snap(roles=(role("open", open_), role("star", star), role("org", org), role("neg", negated)))
    assert fails(s, "F02") == {arn("open"), arn("star"), arn("neg")}


def test_f02_federated_without_conditions_but_not_eks() -> None:
    saml = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCT}:saml-provider/idp"},
            "Action": "sts:AssumeRoleWithSAML",
        }
    )
    named = trust_role(arn("ctrl"))
    s = snap(roles=(role("saml", saml), role("eks", irsa_trust(None)), role("named", named)))
    assert fails(s, "F02") == {arn("saml")}  # the EKS provider is F01's


# --- F08 ------------------------------------------------------------------------------------------
def _reader(name: str, trust: dict) -> object:
    return role(name, trust, doc(allow("ssm:GetParameter", param_arn("/billing/*"))))


def test_f08_root_trust_with_wildcard_assumer() -> None:
    svc = _reader("billing-service-role", trust_role(f"arn:aws:iam::{ACCT}:root"))
    dev = role("dev", trust_role(arn("x")), doc(allow("sts:AssumeRole", "*")))
    f = only(snap(roles=(svc, dev)), "F08")
    assert f.resource == arn("billing-service-role")
    assert any(arn("dev") in e for e in f.evidence)


def test_f08_negatives() -> None:
    named = _reader("named", trust_role(arn("ctrl")))
    root_no_wild = _reader("rootonly", trust_role(ACCT))
    exact = role("ctrl", trust_role(arn("x")), doc(allow("sts:AssumeRole", arn("rootonly"))))
    not_reader = role("plain", trust_role(f"arn:aws:iam::{ACCT}:root"))
    dev = role("dev", trust_role(arn("x")), doc(allow("sts:AssumeRole", "*")))
    assert fails(snap(roles=(named, root_no_wild, exact)), "F08") == set()
    assert fails(snap(roles=(not_reader, dev)), "F08") == set()


def test_f08_unknown_for_uncollected_account() -> None:
    svc = _reader("svc", trust_role("arn:aws:iam::999999999999:root"))
    assert unknowns(snap(roles=(svc,)), "F08") == {arn("svc")}


# --- F19 ------------------------------------------------------------------------------------------
def test_f19_dangling_unique_id_in_trust_and_key() -> None:
    r = role("r", trust_role("AROAOLDDELETEDROLE1"))
    key = KMSKey(
        arn=f"arn:aws:kms:{REGION}:{ACCT}:key/k",
        key_id="k",
        account_id=ACCT,
        region=REGION,
        manager="CUSTOMER",
        policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": "AIDAOLDUSER12345"}, "Action": "kms:Decrypt", "Resource": "*"}
        ),
    )
    ok = role("ok", trust_role(arn("r")))
    assert fails(snap(roles=(r, ok), kms_keys=(key,)), "F19") == {arn("r"), key.arn}


def test_f19_principal_arn_condition_naming_missing_role_is_high() -> None:
    t = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": arn("gone")}},
        }
    )
    f = only(snap(roles=(role("r", t),)), "F19")
    assert f.severity.value == "high"
    present = doc({**t["Statement"][0], "Condition": {"ArnEquals": {"aws:PrincipalArn": arn("r")}}})
    assert fails(snap(roles=(role("r", present),)), "F19") == set()


def test_f19_annotations_missing_role_and_dead_edge() -> None:
    good = role("good", scoped_irsa("billing", "app"))
    s = snap(
        roles=(good,),
        service_accounts=(
            sa("billing", "app", arn("good")),  # trust admits it
            sa("billing", "other", arn("good")),  # trust scoped to billing/app: dead edge
            sa("billing", "ghost", arn("missing")),  # role does not exist
            sa("billing", "plain"),  # no annotation
        ),
    )
    assert fails(s, "F19") == {"demo/billing/ServiceAccount/other", "demo/billing/ServiceAccount/ghost"}


def test_f19_unknown_when_role_account_not_collected() -> None:
    s = snap(roles=(), service_accounts=(sa("a", "b", "arn:aws:iam::999999999999:role/x"),))
    assert unknowns(s, "F19") == {"demo/a/ServiceAccount/b"}


# --- F20 ------------------------------------------------------------------------------------------
def _pi(condition: dict | None) -> dict:
    st: dict = {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    if condition:
        st["Condition"] = condition
    return doc(st)


def test_f20_pod_identity_trust() -> None:
    s = snap(
        roles=(
            role("bare", _pi(None)),
            role("src", _pi({"StringEquals": {"aws:SourceAccount": ACCT}})),
            role("tag", _pi({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "billing"}})),
        )
    )
    assert fails(s, "F20") == {arn("bare")}


# --- F21 ------------------------------------------------------------------------------------------
def test_f21_abac_without_cluster() -> None:
    ns_only = doc(
        allow(
            "ssm:GetParameter",
            param_arn("/${aws:PrincipalTag/kubernetes-namespace}/*"),
        )
    )
    with_cluster = doc(
        allow(
            "ssm:GetParameter",
            param_arn("/${aws:PrincipalTag/kubernetes-namespace}/*"),
            Condition={"StringEquals": {"aws:PrincipalTag/eks-cluster-arn": "arn:aws:eks:us-east-1:1:cluster/demo"}},
        )
    )
    cond_only = doc(
        allow(
            "ssm:GetParameter", "*", Condition={"StringEquals": {"aws:PrincipalTag/kubernetes-service-account": "app"}}
        )
    )
    s = snap(roles=(role("a", _pi(None), ns_only), role("b", _pi(None), with_cluster), role("c", _pi(None), cond_only)))
    assert fails(s, "F21") == {arn("a"), arn("c")}


def test_unknown_matches_collector_operation_names() -> None:
    """The AWS collector names coverage by operation (``iam:GetAccountAuthorizationDetails``)."""
    gap = Coverage(
        source="aws", scope=f"{ACCT}/global", service="iam:GetAccountAuthorizationDetails", status="throttled"
    )
    s = snap(coverage=(gap,), service_accounts=(sa("a", "b", arn("x")),))
    assert unknowns(s, "F01") == {f"aws:{ACCT}/global:iam:GetAccountAuthorizationDetails"}
    assert unknowns(s, "F19") == {"demo/a/ServiceAccount/b"}  # role existence cannot be judged
