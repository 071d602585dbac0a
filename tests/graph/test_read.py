"""Read + decrypt: only the combination makes access; each layer can take it away."""

from __future__ import annotations

import dataclasses

from irsa_lib.graph import build_graph
from irsa_lib.graph.schema import ACTIONS, DECRYPT_DECISION, READ_DECISION, Mechanism, param_id, role_id
from irsa_lib.model import Account, Grant, GrantConstraints, KMSKey, OrgPolicy, SSMParameter
from tests.graph.conftest import rows, table
from tests.graph.factory import (
    ACCT,
    allow,
    deny,
    doc,
    irsa_trust,
    key_policy_for,
    key_policy_root,
    kms_key,
    managed,
    param,
    param_arn,
    role,
    role_arn,
    sa,
    secret,
    snapshot,
)

WEB_TRUST = irsa_trust("system:serviceaccount:app:web")
WEB = [sa("app", "web", "web-role")]


def test_key_policy_naming_the_role_is_enough_without_iam_kms_permission() -> None:
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}


def test_root_delegation_needs_an_iam_allow_for_kms_decrypt() -> None:
    values = {
        "kms_keys": [kms_key("k1", "alias/app", key_policy_root())],
        "ssm_parameters": [param("/app/db", "alias/app")],
        "service_accounts": WEB,
    }
    without = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))], **values
    )
    assert table(without) == set()
    with_iam = snapshot(
        roles=[
            role(
                "web-role",
                WEB_TRUST,
                doc(allow("ssm:GetParameter", param_arn("/app/*")), allow("kms:Decrypt", "arn:aws:kms:*:*:key/k1")),
            )
        ],
        **values,
    )
    assert table(with_iam) == {("app", "web", "/app/db", "direct", "allow")}


def test_key_policy_without_root_delegation_makes_iam_kms_allows_useless() -> None:
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*")), allow("kms:Decrypt")))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("admin-role"))],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    assert table(snap) == set()


def test_read_without_decrypt_and_decrypt_without_read_both_give_nothing() -> None:
    only_decrypt = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:DescribeParameters")))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    assert table(only_decrypt) == set()


def test_edge_keeps_both_decisions_and_the_actions() -> None:
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow(["ssm:GetParameter", "ssm:GetParameters"], param_arn("/app/*"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    g = build_graph(snap)
    [edge] = g.graph.get_edge_data(role_id(role_arn("web-role")), param_id(param_arn("/app/db"))).values()
    assert edge["mechanism"] == Mechanism.CAN_READ
    assert (edge[READ_DECISION], edge[DECRYPT_DECISION]) == ("allow", "allow")
    assert set(edge[ACTIONS]) == {"ssm:GetParameter", "ssm:GetParameters"}


def test_explicit_deny_in_the_permission_boundary_wins() -> None:
    boundary = managed("boundary", doc(allow("*"), deny("ssm:GetParameter*", param_arn("/app/db"))))
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))), boundary=boundary.arn)],
        managed_policies=[boundary],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[param("/app/db", "alias/app"), param("/app/other", "alias/app")],
    )
    assert table(snap) == {("app", "web", "/app/other", "direct", "allow")}


def test_deny_on_a_parameter_does_not_stop_get_parameters_by_path_on_its_parent() -> None:
    # SSM UG: a Deny on /a/b does not protect it from GetParametersByPath on /a.
    boundary = managed("boundary", doc(allow("*"), deny("ssm:GetParameter", param_arn("/app/db"))))
    snap = snapshot(
        roles=[
            role(
                "web-role",
                WEB_TRUST,
                doc(allow(["ssm:GetParameter", "ssm:GetParametersByPath"], [param_arn("/app/*"), param_arn("/app")])),
                boundary=boundary.arn,
            )
        ],
        managed_policies=[boundary],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}
    g = build_graph(snap)
    [edge] = g.graph.get_edge_data(role_id(role_arn("web-role")), param_id(param_arn("/app/db"))).values()
    assert edge[ACTIONS] == ("ssm:GetParametersByPath",)


def test_scp_deny_on_kms_decrypt_blocks_everything() -> None:
    full = OrgPolicy(policy_id="p-full", name="FullAWSAccess", document=doc(allow("*")), target_id="r-root")
    no_decrypt = OrgPolicy(
        policy_id="p-deny", name="NoDecrypt", document=doc(allow("*"), deny("kms:Decrypt")), target_id=ACCT
    )
    snap = snapshot(
        accounts=[
            Account(account_id=ACCT, management_account=False, ou_path=("r-root", ACCT), scps=((full,), (no_decrypt,)))
        ],
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    assert table(snap) == set()


def test_grant_with_a_non_matching_encryption_context_does_not_decrypt() -> None:
    grant = Grant(
        grant_id="g1",
        grantee_principal=role_arn("web-role"),
        operations=("Decrypt",),
        constraints=GrantConstraints(encryption_context_equals={"PARAMETER_ARN": param_arn("/app/other")}),
    )
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("admin-role"), grants=(grant,))],
        ssm_parameters=[param("/app/db", "alias/app"), param("/app/other", "alias/app")],
    )
    assert table(snap) == {("app", "web", "/app/other", "direct", "allow")}


def test_ssm_path_grant_reads_the_subtree_only() -> None:
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParametersByPath", param_arn("/app"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy_for("web-role"))],
        ssm_parameters=[
            param("/app/db", "alias/app"),
            param("/app/sub/x", "alias/app"),
            param("/other/y", "alias/app"),
        ],
    )
    assert table(snap) == {
        ("app", "web", "/app/db", "direct", "allow"),
        ("app", "web", "/app/sub/x", "direct", "allow"),
    }


def test_secrets_manager_six_question_marks_match_exactly_one_name() -> None:
    values = {"service_accounts": WEB, "secrets": [secret("db"), secret("db-prod")]}
    exact = snapshot(
        roles=[
            role(
                "web-role",
                WEB_TRUST,
                doc(
                    allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:db-??????")
                ),
            )
        ],
        **values,
    )
    assert table(exact) == {("app", "web", "db", "direct", "allow")}
    star = snapshot(
        roles=[
            role(
                "web-role",
                WEB_TRUST,
                doc(allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:db-*")),
            )
        ],
        **values,
    )
    assert table(star) == {("app", "web", "db", "direct", "allow"), ("app", "web", "db-prod", "direct", "allow")}


def test_aws_managed_ssm_key_lets_any_reader_in_the_account_decrypt() -> None:
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=WEB,
        ssm_parameters=[param("/app/db", None), param("/app/db2", "alias/aws/ssm")],
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow"), ("app", "web", "/app/db2", "direct", "allow")}


def test_identity_deny_on_decrypt_still_blocks_the_aws_managed_key() -> None:
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*")), deny("kms:Decrypt")))],
        service_accounts=WEB,
        ssm_parameters=[param("/app/db", None)],
    )
    assert table(snap) == set()


def test_key_policy_condition_on_the_encryption_context_pins_one_parameter() -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn("web-role")},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:PARAMETER_ARN": param_arn("/app/db")}},
        }
    )
    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", policy)],
        ssm_parameters=[param("/app/db", "alias/app"), param("/app/other", "alias/app")],
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}


def test_unreadable_key_policy_gives_a_conditional_incomplete_row() -> None:
    from tests.graph.conftest import rows

    snap = snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("ssm:GetParameter", param_arn("/app/*"))))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", None)],
        ssm_parameters=[param("/app/db", "alias/app")],
    )
    [row] = rows(snap)
    assert (row.secret_name, row.access, row.decision, row.complete) == ("/app/db", "direct", "conditional", False)
    assert row.unknown


def _sm_snapshot(key_policy: dict[str, object], *grants: Grant) -> object:
    """web-role may GetSecretValue on app/db, encrypted with k1 (policy and grants as given)."""
    return snapshot(
        roles=[role("web-role", WEB_TRUST, doc(allow("secretsmanager:GetSecretValue", "*")))],
        service_accounts=WEB,
        kms_keys=[kms_key("k1", "alias/app", key_policy, grants=grants)],
        secrets=[secret("app/db", key="alias/app")],
    )


SM_ARN = secret("app/db").arn
ADMIN_ONLY = doc({"Effect": "Allow", "Principal": {"AWS": role_arn("admin")}, "Action": "kms:*", "Resource": "*"})


def _grant(gid: str, **constraints: dict[str, str]) -> Grant:
    return Grant(
        grant_id=gid,
        grantee_principal=role_arn("web-role"),
        operations=("Decrypt",),
        constraints=GrantConstraints(**constraints),  # type: ignore[arg-type]
    )


def test_secret_version_id_is_unknown_so_a_pin_on_it_is_conditional() -> None:
    # Secrets Manager decrypts with {SecretARN, SecretVersionId}; the version id cannot be known
    # statically, so a key policy or a grant constrained on it decides nothing for sure.
    pinned_policy = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn("web-role")},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:SecretVersionId": "v-1"}},
        }
    )
    assert table(_sm_snapshot(pinned_policy)) == {("app", "web", "app/db", "direct", "conditional")}
    pinned_grant = _grant("g1", encryption_context_equals={"SecretARN": SM_ARN, "SecretVersionId": "v-1"})
    [row] = rows(_sm_snapshot(ADMIN_ONLY, pinned_grant))
    assert (row.decision, row.unresolved_keys) == ("conditional", ("kms:EncryptionContext:SecretVersionId",))


def test_secret_arn_pins_are_decided_and_an_exact_context_without_the_version_never_matches() -> None:
    on_arn = _grant("g2", encryption_context_subset={"SecretARN": SM_ARN})
    assert table(_sm_snapshot(ADMIN_ONLY, on_arn)) == {("app", "web", "app/db", "direct", "allow")}
    # EncryptionContextEquals {SecretARN} alone: the real context also has SecretVersionId -> no match
    exact = _grant("g3", encryption_context_equals={"SecretARN": SM_ARN})
    assert table(_sm_snapshot(ADMIN_ONLY, exact)) == set()
    other_secret = _grant("g4", encryption_context_subset={"SecretARN": SM_ARN.replace("app/db", "app/other")})
    assert table(_sm_snapshot(ADMIN_ONLY, other_secret)) == set()


OTHER = "444455556666"
SHARED_ARN = f"arn:aws:ssm:us-east-1:{OTHER}:parameter/shared/db"


def _cross_account(**param_fields: object) -> object:
    """web-role (account ACCT) may GetParameter and Decrypt anything; the parameter and its key live in
    OTHER, whose key policy lets web-role decrypt. Only the parameter's resource policy varies."""
    key = KMSKey(
        arn=f"arn:aws:kms:us-east-1:{OTHER}:key/shared",
        key_id="shared",
        account_id=OTHER,
        region="us-east-1",
        manager="CUSTOMER",
        aliases=("alias/shared",),
        policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": role_arn("web-role")}, "Action": "kms:Decrypt", "Resource": "*"}
        ),
    )
    shared = SSMParameter(
        arn=SHARED_ARN,
        name="/shared/db",
        account_id=OTHER,
        region="us-east-1",
        type="SecureString",
        tier="Advanced",
        key_id=key.arn,
        **param_fields,  # type: ignore[arg-type]
    )
    return snapshot(
        accounts=[Account(account_id=ACCT), Account(account_id=OTHER)],
        roles=[role("web-role", WEB_TRUST, doc(allow(["ssm:GetParameter", "kms:Decrypt"])))],
        service_accounts=WEB,
        kms_keys=[key],
        ssm_parameters=[shared],
    )


def test_cross_account_parameter_without_a_resource_policy_is_not_readable() -> None:
    # Cross-account requests need the resource side to allow too; an IAM "*" alone reads nothing there.
    assert table(_cross_account()) == set()  # type: ignore[arg-type]


def test_cross_account_parameter_shared_by_its_resource_policy_is_readable() -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn("web-role")},
            "Action": "ssm:GetParameter",
            "Resource": SHARED_ARN,
        }
    )
    snap = _cross_account(resource_policies=(policy,))
    assert table(snap) == {("app", "web", "/shared/db", "direct", "allow")}  # type: ignore[arg-type]


def test_cross_account_parameter_whose_resource_policy_was_unreadable_stays_possible() -> None:
    snap = _cross_account(resource_policy_readable=False)
    assert table(snap) == {("app", "web", "/shared/db", "direct", "conditional")}  # type: ignore[arg-type]


def test_a_resource_policy_naming_one_session_of_the_role_is_a_conditional_read() -> None:
    # No identity Allow at all: only the secret's own policy, naming the session "ci" of web-role. In the
    # same account that is enough for that session (IAM UG: the resource policy alone can allow), and
    # which session a pod gets is not in the snapshot: conditional, never dropped.
    session = f"arn:aws:sts::{ACCT}:assumed-role/web-role/ci"
    shared = dataclasses.replace(
        secret("app/db"),
        resource_policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": session},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    snap = snapshot(roles=[role("web-role", WEB_TRUST, doc())], service_accounts=WEB, secrets=[shared])
    assert table(snap) == {("app", "web", "app/db", "direct", "conditional")}
