"""IRSA: the role's trust policy decides, the annotation only marks the configured edge."""

from __future__ import annotations

from irsa_lib.graph import build_graph
from irsa_lib.graph.schema import CONFIGURED, DECISION, Mechanism, role_id, sa_id
from irsa_lib.model import Account, OIDCProvider, Role
from tests.graph.conftest import table
from tests.graph.factory import (
    ACCT,
    HOST,
    PROVIDER_ARN,
    allow,
    doc,
    irsa_trust,
    key_policy_for,
    kms_key,
    param,
    param_arn,
    role,
    role_arn,
    sa,
    snapshot,
)

READ_APP = doc(allow("ssm:GetParameter", param_arn("/app/*")))


def app_values() -> dict[str, object]:
    return {
        "kms_keys": [kms_key("k-app", "alias/app", key_policy_for("web-role"))],
        "ssm_parameters": [param("/app/db", "alias/app")],
    }


def test_exact_sub_gives_direct_access_to_the_annotated_sa_only() -> None:
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web"), READ_APP)],
        service_accounts=[sa("app", "web", "web-role"), sa("app", "other")],
        **app_values(),
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}
    g = build_graph(snap)
    edges = list(
        g.graph.get_edge_data(sa_id("c1", "app", "web"), role_id("arn:aws:iam::111122223333:role/web-role")).values()
    )
    assert [(e["mechanism"], e[DECISION], e[CONFIGURED]) for e in edges] == [(Mechanism.IRSA, "allow", True)]


def test_trust_scoped_to_another_namespace_gives_nothing_despite_the_annotation() -> None:
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:other:web"), READ_APP)],
        service_accounts=[sa("app", "web", "web-role")],
        **app_values(),
    )
    assert table(snap) == set()
    g = build_graph(snap)
    assert not g.graph.has_edge(sa_id("c1", "app", "web"), role_id("arn:aws:iam::111122223333:role/web-role"))


def test_unannotated_sa_matching_the_trust_still_gets_the_role() -> None:
    # The annotation is a claim; anyone who can set it on this SA obtains the role.
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web"), READ_APP)],
        service_accounts=[sa("app", "web")],
        **app_values(),
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}
    g = build_graph(snap)
    [edge] = g.graph.get_edge_data(
        sa_id("c1", "app", "web"), role_id("arn:aws:iam::111122223333:role/web-role")
    ).values()
    assert edge[CONFIGURED] is False


def test_wrong_audience_annotation_breaks_the_trust() -> None:
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web"), READ_APP)],
        service_accounts=[
            sa("app", "web", "web-role").__class__(
                cluster="c1",
                namespace="app",
                name="web",
                annotations={
                    "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/web-role",
                    "eks.amazonaws.com/audience": "other-aud",
                },
            )
        ],
        **app_values(),
    )
    assert table(snap) == set()


def test_namespace_wildcard_reaches_every_sa_there_and_any_new_one() -> None:
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:*", op="StringLike"), READ_APP)],
        service_accounts=[sa("app", "web"), sa("app", "batch"), sa("other", "web")],
        **app_values(),
    )
    assert table(snap, kinds=("ServiceAccount", "AnyServiceAccount")) == {
        ("app", "web", "/app/db", "direct", "allow"),
        ("app", "batch", "/app/db", "direct", "allow"),
        ("app", "*", "/app/db", "potential", "allow"),
    }


def test_cluster_wide_wildcard_gives_one_cluster_wide_potential_subject() -> None:
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:*:*", op="StringLike"), READ_APP)],
        service_accounts=[sa("app", "web"), sa("other", "x")],
        **app_values(),
    )
    assert table(snap, kinds=("ServiceAccount", "AnyServiceAccount")) == {
        ("app", "web", "/app/db", "direct", "allow"),
        ("other", "x", "/app/db", "direct", "allow"),
        (None, "*", "/app/db", "potential", "allow"),
    }


def test_trust_without_conditions_accepts_every_sa() -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
    )
    snap = snapshot(
        roles=[role("web-role", trust, READ_APP)],
        service_accounts=[sa("app", "web"), sa("other", "x")],
        **app_values(),
    )
    assert table(snap, kinds=("ServiceAccount", "AnyServiceAccount")) == {
        ("app", "web", "/app/db", "direct", "allow"),
        ("other", "x", "/app/db", "direct", "allow"),
        (None, "*", "/app/db", "potential", "allow"),
    }


def test_trust_of_another_clusters_provider_does_not_match() -> None:
    other = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER"
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": other},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/OTHER:sub": "system:serviceaccount:app:web"}
            },
        }
    )
    snap = snapshot(
        roles=[role("web-role", trust, READ_APP)], service_accounts=[sa("app", "web", "web-role")], **app_values()
    )
    assert table(snap) == set()


def test_an_issuer_registered_in_two_accounts_reaches_the_roles_of_both() -> None:
    # Cross-account IRSA registers the cluster's issuer as an OIDC provider in each account that holds
    # roles for it (EKS User Guide, "Cross-account IAM permissions"); a role's trust names its own
    # account's provider. Both roles must be reachable, whichever provider is listed first.
    other = "444455556666"
    other_provider = f"arn:aws:iam::{other}:oidc-provider/{HOST}"
    remote_trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": other_provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:sub": "system:serviceaccount:app:web"}},
        }
    )
    remote_role = Role(
        arn=f"arn:aws:iam::{other}:role/remote-reader",
        name="remote-reader",
        role_id="AROAREMOTEREADER0000",
        account_id=other,
        trust_policy=remote_trust,
    )
    providers = [
        OIDCProvider(arn=other_provider, url=HOST, account_id=other, client_ids=("sts.amazonaws.com",)),
        OIDCProvider(arn=PROVIDER_ARN, url=HOST, account_id=ACCT, client_ids=("sts.amazonaws.com",)),
    ]
    for order in (providers, providers[::-1]):
        snap = snapshot(
            roles=[role("web-role", irsa_trust("system:serviceaccount:app:web"), READ_APP), remote_role],
            service_accounts=[sa("app", "web", "web-role")],
            oidc_providers=order,
            accounts=[Account(account_id=ACCT), Account(account_id=other)],
            **app_values(),
        )
        g = build_graph(snap)
        for arn in (role_arn("web-role"), remote_role.arn):
            assert g.graph.has_edge(sa_id("c1", "app", "web"), role_id(arn)), (arn, [p.account_id for p in order])


def test_an_org_wide_aws_star_trust_accepts_no_service_account_token() -> None:
    # "AWS": "*" guarded by aws:PrincipalOrgID: a web-identity caller carries no organisation id, so the
    # condition fails for every token (the trust never reads sub, so one answer covers all accounts).
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg"}},
        }
    )
    snap = snapshot(
        roles=[role("web-role", trust, READ_APP)],
        service_accounts=[sa("app", "web", "web-role"), sa("other", "x")],
        **app_values(),
    )
    assert table(snap, kinds=("ServiceAccount", "AnyServiceAccount")) == set()
