"""IRSA and Pod Identity request builders against hand-written trust policies (EKS UG)."""

from __future__ import annotations

from typing import Any

from irsa_lib.policy import (
    PolicySet,
    evaluate,
    parse_policy,
    pod_identity_decision,
    pod_identity_requests,
    web_identity_request,
)

A = "111122223333"
ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
PROVIDER = f"arn:aws:iam::{A}:oidc-provider/{HOST}"
ROLE = f"arn:aws:iam::{A}:role/app"
CLUSTER = f"arn:aws:eks:us-east-1:{A}:cluster/demo"


def trust(*statements: dict[str, Any]) -> PolicySet:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return PolicySet(resource=parse_policy(doc, source="trust", kind="trust"), resource_kind="role-trust")


IRSA = trust(
    {
        "Sid": "Irsa",
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{HOST}:sub": "system:serviceaccount:billing:api", f"{HOST}:aud": "sts.amazonaws.com"}
        },
    }
)


def irsa(ns: str, sa: str, **kw: Any) -> str:
    req = web_identity_request(ROLE, provider_arn=PROVIDER, issuer=ISSUER, namespace=ns, service_account=sa, **kw)
    return evaluate(req, IRSA).outcome


def test_irsa_trust_matches_only_the_named_service_account() -> None:
    assert irsa("billing", "api") == "allow"
    assert irsa("billing", "other") == "deny"
    assert irsa("tenant", "api") == "deny"


def test_irsa_audience_must_match() -> None:
    assert irsa("billing", "api", audiences=("other",)) == "deny"


def test_irsa_other_trust_conditions_stay_unresolved_unless_complete() -> None:
    extra = trust(
        {
            "Sid": "Irsa",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:sub": "system:serviceaccount:billing:api", f"{HOST}:amr": "x"}},
        }
    )
    req = web_identity_request(ROLE, provider_arn=PROVIDER, issuer=ISSUER, namespace="billing", service_account="api")
    d = evaluate(req, extra)
    assert d.outcome == "conditional" and d.unresolved_keys == (f"{HOST}:amr",)
    req = web_identity_request(
        ROLE, provider_arn=PROVIDER, issuer=ISSUER, namespace="billing", service_account="api", context_complete=True
    )
    assert evaluate(req, extra).outcome == "deny"


POD = {
    "Sid": "Pods",
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
    "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "billing", "aws:SourceAccount": A}},
}


def test_pod_identity_needs_assume_and_tag_session() -> None:
    reqs = pod_identity_requests(ROLE, cluster_arn=CLUSTER, namespace="billing", service_account="api")
    assert pod_identity_decision(trust(POD), reqs).outcome == "allow"
    only_assume = dict(POD, Action="sts:AssumeRole")
    d = pod_identity_decision(trust(only_assume), reqs)
    assert d.outcome == "deny"


def test_pod_identity_request_tags_scope_the_namespace() -> None:
    reqs = pod_identity_requests(ROLE, cluster_arn=CLUSTER, namespace="tenant", service_account="api")
    assert pod_identity_decision(trust(POD), reqs).outcome == "deny"


def test_pod_identity_pod_name_tag_is_unknown() -> None:
    pod_named = dict(POD, Condition={"StringLike": {"aws:RequestTag/kubernetes-pod-name": "api-*"}})
    reqs = pod_identity_requests(ROLE, cluster_arn=CLUSTER, namespace="billing", service_account="api")
    d = pod_identity_decision(trust(pod_named), reqs)
    assert d.outcome == "conditional"
    assert d.unresolved_keys == ("aws:RequestTag/kubernetes-pod-name",)
