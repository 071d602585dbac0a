"""The seeded demo account holds exactly the intended resources (expectations written by hand)."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest

from irsa_lib.demo.scenario import DemoFacts, seed_aws
from irsa_lib.demo.server import LocalAws, aws_client

pytestmark = pytest.mark.integration

ACCT = "123456789012"
ROOT = f"arn:aws:iam::{ACCT}:root"
V = "2012-10-17"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCT}:role/{name}"


def param(path: str) -> str:
    return f"arn:aws:ssm:us-east-1:{ACCT}:parameter{path}"


def client(facts: DemoFacts, service: str) -> Any:
    return aws_client(service, facts.endpoint_url)


def inline_policies(iam: Any, role_name: str) -> dict[str, Any]:
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    return {n: iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"] for n in names}


def key_policy(kms: Any, key_arn: str) -> Any:
    import json

    return json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])


# --- cluster and IRSA --------------------------------------------------------------------------------


def test_cluster_and_oidc_provider(facts: DemoFacts) -> None:
    eks, iam = client(facts, "eks"), client(facts, "iam")
    cluster = eks.describe_cluster(name="demo")["cluster"]
    assert cluster["version"] == "1.30"
    assert cluster["arn"] == facts.cluster_arn == f"arn:aws:eks:us-east-1:{ACCT}:cluster/demo"
    assert re.fullmatch(r"https://oidc\.eks\.us-east-1\.amazonaws\.com/id/[A-Za-z0-9]+", facts.oidc_issuer)
    assert cluster["identity"]["oidc"]["issuer"] == facts.oidc_issuer
    host = facts.oidc_issuer.removeprefix("https://")
    assert facts.oidc_provider_arn == f"arn:aws:iam::{ACCT}:oidc-provider/{host}"
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [facts.oidc_provider_arn]
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=facts.oidc_provider_arn)
    assert provider["Url"] == host
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]


def test_exactly_the_intended_roles(facts: DemoFacts) -> None:
    names = {r["RoleName"] for r in client(facts, "iam").list_roles()["Roles"]}
    assert names == {
        "demo-cluster-role",
        "demo-node-role",
        "external-secrets-role",
        "billing-service-role",
        "payments-service-role",
        "reporting-role",
        "legacy-app-role",
        "cloudwatch-agent-role",
    }
    assert facts.roles == {n: role(n) for n in names}


def test_external_secrets_role(facts: DemoFacts) -> None:
    iam = client(facts, "iam")
    host = facts.oidc_issuer.removeprefix("https://")
    trust = iam.get_role(RoleName="external-secrets-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust == {
        "Version": V,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": facts.oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:sub": [
                            "system:serviceaccount:external-secrets:external-secrets-sa",
                            "system:serviceaccount:payments:payments-eso-sa",
                        ],
                        f"{host}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    assert inline_policies(iam, "external-secrets-role") == {
        "assume-service-roles": {
            "Version": V,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": [role("billing-service-role"), role("payments-service-role")],
                }
            ],
        },
        # planted (d) F04
        "read-billing-parameters": {
            "Version": V,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:us-east-1:{ACCT}:parameter/billing/*",
                }
            ],
        },
    }
    assert iam.list_attached_role_policies(RoleName="external-secrets-role")["AttachedPolicies"] == []


@pytest.mark.parametrize("svc", ["billing", "payments"])
def test_service_roles_trust_only_the_controller_role(facts: DemoFacts, svc: str) -> None:
    iam = client(facts, "iam")
    trust = iam.get_role(RoleName=f"{svc}-service-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust == {
        "Version": V,
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": role("external-secrets-role")}, "Action": "sts:AssumeRole"}
        ],
    }
    statements = [
        {
            "Sid": "ReadOwnParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            "Resource": f"arn:aws:ssm:us-east-1:{ACCT}:parameter/{svc}/*",
        },
        {"Sid": "DecryptWithOwnKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": facts.keys[svc]},
    ]
    if svc == "payments":
        statements.append(
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:payments/stripe-api-key-??????"],
            }
        )
    assert inline_policies(iam, f"{svc}-service-role") == {
        f"read-{svc}-secrets": {"Version": V, "Statement": statements}
    }


def test_reporting_role_trusts_every_service_account(facts: DemoFacts) -> None:
    iam = client(facts, "iam")
    host = facts.oidc_issuer.removeprefix("https://")
    trust = iam.get_role(RoleName="reporting-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": facts.oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringLike": {f"{host}:sub": "system:serviceaccount:*:*"},
                "StringEquals": {f"{host}:aud": "sts.amazonaws.com"},
            },
        }
    ]
    assert inline_policies(iam, "reporting-role")["read-reporting-parameters"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            "Resource": f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/*",
        }
    ]


def test_legacy_role_trusts_the_account_and_ci_user_assumes_anything(facts: DemoFacts) -> None:
    iam = client(facts, "iam")
    trust = iam.get_role(RoleName="legacy-app-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}]
    assert [u["Arn"] for u in iam.list_users()["Users"]] == [facts.ci_user_arn]
    assert facts.ci_user_arn == f"arn:aws:iam::{ACCT}:user/ci-deployer"
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ci-deployer")["Groups"]] == ["deployers"]
    assert iam.list_user_policies(UserName="ci-deployer")["PolicyNames"] == []
    group_policy = iam.get_group_policy(GroupName="deployers", PolicyName="assume-any-role")["PolicyDocument"]
    assert group_policy["Statement"] == [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]


def test_pod_identity_role_and_association(facts: DemoFacts) -> None:
    iam, eks = client(facts, "iam"), client(facts, "eks")
    trust = iam.get_role(RoleName="cloudwatch-agent-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCT}},
        }
    ]
    listed = eks.list_pod_identity_associations(clusterName="demo")["associations"]
    assert [(a["namespace"], a["serviceAccount"]) for a in listed] == [("monitoring", "cloudwatch-agent")]
    assoc = eks.describe_pod_identity_association(clusterName="demo", associationId=listed[0]["associationId"])
    assert assoc["association"]["roleArn"] == role("cloudwatch-agent-role")
    assert assoc["association"]["associationId"] == facts.pod_identity_association_id


# --- KMS, SSM, Secrets Manager ---------------------------------------------------------------------------


def test_customer_keys_aliases_rotation(facts: DemoFacts) -> None:
    kms = client(facts, "kms")
    custom = {a["AliasName"]: a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if "/aws/" not in a["AliasName"]}
    assert set(custom) == {"alias/billing", "alias/payments", "alias/legacy"}
    for svc in ("billing", "payments", "legacy"):
        assert facts.keys[svc].endswith("/" + custom[f"alias/{svc}"])
        assert kms.get_key_rotation_status(KeyId=facts.keys[svc])["KeyRotationEnabled"] is True
        assert kms.describe_key(KeyId=facts.keys[svc])["KeyMetadata"]["KeyState"] == "Enabled"


ADMIN_ONLY = {
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
}


@pytest.mark.parametrize(
    ("svc", "decrypters"),
    [
        ("billing", {"billing-service-role", "external-secrets-role"}),  # planted (d) F04
        ("payments", {"payments-service-role"}),
        ("legacy", {"legacy-app-role"}),
    ],
)
def test_key_policies_root_administers_only_named_roles_decrypt(
    facts: DemoFacts, svc: str, decrypters: set[str]
) -> None:
    statements = key_policy(client(facts, "kms"), facts.keys[svc])["Statement"]
    assert all(s["Effect"] == "Allow" and s["Resource"] == "*" and "Condition" not in s for s in statements)
    root = [s for s in statements if s["Principal"] == {"AWS": ROOT}]
    assert len(root) == 1 and set(root[0]["Action"]) == ADMIN_ONLY
    by_principal = {
        s["Principal"]["AWS"]: {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
        for s in statements
        if s["Principal"] != {"AWS": ROOT}
    }
    assert set(by_principal) == {role(r) for r in decrypters}
    assert all(
        "kms:Decrypt" in actions and actions <= {"kms:Decrypt", "kms:DescribeKey"} for actions in by_principal.values()
    )


def test_aws_ssm_key_has_its_documented_policy(facts: DemoFacts) -> None:
    kms = client(facts, "kms")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert facts.keys["aws/ssm"].endswith("/" + aliases["alias/aws/ssm"])
    policy = key_policy(kms, facts.keys["aws/ssm"])
    service = policy["Statement"][0]
    assert service["Principal"] == {"AWS": "*"}
    assert "kms:Decrypt" in service["Action"]
    assert service["Condition"] == {
        "StringEquals": {"kms:CallerAccount": ACCT, "kms:ViaService": "ssm.us-east-1.amazonaws.com"}
    }
    assert policy["Statement"][1]["Principal"] == {"AWS": ROOT}
    assert "kms:Decrypt" not in policy["Statement"][1]["Action"]


def test_exactly_the_intended_parameters(facts: DemoFacts) -> None:
    ssm = client(facts, "ssm")
    found = {
        p["Name"]: (p["Type"], p.get("KeyId"))
        for page in ssm.get_paginator("describe_parameters").paginate()
        for p in page["Parameters"]
    }
    billing_key_id = facts.keys["billing"].rsplit("/", 1)[1]
    assert found == {
        "/billing/db-password": ("SecureString", billing_key_id),
        "/billing/api-key": ("SecureString", billing_key_id),
        "/payments/db-password": ("SecureString", "alias/payments"),
        "/reporting/db-password": ("SecureString", "alias/aws/ssm"),  # planted (b) F06
        "/legacy/api-token": ("SecureString", facts.keys["legacy"]),
    }
    assert facts.parameters == {name: param(name) for name in found}


def test_the_one_secret(facts: DemoFacts) -> None:
    secrets = client(facts, "secretsmanager").list_secrets()["SecretList"]
    assert [(s["Name"], s["KmsKeyId"]) for s in secrets] == [("payments/stripe-api-key", facts.keys["payments"])]
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:payments/stripe-api-key-[A-Za-z0-9]{{6}}", facts.secret_arn
    )
    assert secrets[0]["ARN"] == facts.secret_arn


# --- nodes ------------------------------------------------------------------------------------------


def test_node_role_reads_every_parameter_and_imds_is_open(facts: DemoFacts) -> None:
    iam, eks, ec2 = client(facts, "iam"), client(facts, "eks"), client(facts, "ec2")
    attached = iam.list_attached_role_policies(RoleName="demo-node-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [f"arn:aws:iam::{ACCT}:policy/demo-node-ssm-read"]
    version = iam.get_policy(PolicyArn=facts.node_policy_arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=facts.node_policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    assert doc["Statement"] == [{"Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": "*"}]
    profile = iam.get_instance_profile(InstanceProfileName="demo-node-profile")["InstanceProfile"]
    assert [r["Arn"] for r in profile["Roles"]] == [role("demo-node-role")]

    nodegroup = eks.describe_nodegroup(clusterName="demo", nodegroupName="demo-nodes")["nodegroup"]
    assert nodegroup["nodeRole"] == role("demo-node-role")
    assert nodegroup["launchTemplate"]["id"] == facts.launch_template_id
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=facts.launch_template_id)
    options = versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]["MetadataOptions"]
    assert (options["HttpTokens"], options["HttpPutResponseHopLimit"]) == ("optional", 2)

    instance = ec2.describe_instances(InstanceIds=[facts.node_instance_id])["Reservations"][0]["Instances"][0]
    assert instance["IamInstanceProfile"]["Arn"] == facts.instance_profile_arn
    assert (instance["MetadataOptions"]["HttpTokens"], instance["MetadataOptions"]["HttpPutResponseHopLimit"]) == (
        "optional",
        2,
    )
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    assert tags["eks:cluster-name"] == "demo" and tags["eks:nodegroup-name"] == "demo-nodes"


# --- seeding itself ----------------------------------------------------------------------------------

VALUE_READS = {
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "GetParameterHistory",
    "GetSecretValue",
    "BatchGetSecretValue",
    "Decrypt",
}


def test_seeding_is_repeatable_and_never_reads_a_value(blank_aws: LocalAws, monkeypatch: Any) -> None:
    operations: list[str] = []
    session = boto3.session.Session()
    session.events.register("before-call", lambda model, **_: operations.append(model.name))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)

    first = seed_aws(blank_aws.endpoint_url)
    second = seed_aws(blank_aws.endpoint_url)
    assert second == first
    assert {"CreateRole", "PutParameter", "CreateSecret", "CreateCluster"} <= set(operations)
    assert VALUE_READS.isdisjoint(operations)
    assert len(client(first, "iam").list_roles()["Roles"]) == 8
    assert len(client(first, "kms").list_aliases()["Aliases"]) == 14 + 3
