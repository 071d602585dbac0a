"""Seed a small account in moto through boto3 (directly, not through the collector).

Every value the tests assert on is a constant here, written by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"
OIDC_HOST = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_HOST}"

ESO_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{OIDC_HOST}:sub": "system:serviceaccount:external-secrets:external-secrets-sa",
                    f"{OIDC_HOST}:aud": "sts.amazonaws.com",
                }
            },
        }
    ],
}
BILLING_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/external-secrets-role"},
            "Action": "sts:AssumeRole",
        }
    ],
}
NODE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
BILLING_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/*",
        }
    ],
}
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ssm:*", "kms:Decrypt"], "Resource": "*"}],
}
BILLING_INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
}
GROUP_INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}
KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "billing-key",
    "Statement": [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "BillingDecrypt",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/services/billing-service-role"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    ],
}
SECRET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/services/billing-service-role"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    ],
}
EMPTY_TRUST = {"Version": "2012-10-17", "Statement": []}


@dataclass(frozen=True)
class Seeded:
    key_id: str
    key_arn: str
    secret_arn: str
    grant_id: str
    launch_template_id: str
    role_ids: dict[str, str]


def clients(endpoint: str) -> Any:
    def make(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

    return make


def seed_account(endpoint: str) -> Seeded:
    c = clients(endpoint)
    iam = c("iam")
    iam.create_open_id_connect_provider(
        Url=f"https://{OIDC_HOST}",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )
    iam.create_policy(PolicyName="billing-read", PolicyDocument=json.dumps(BILLING_READ))
    iam.create_policy(PolicyName="team-boundary", Path="/boundaries/", PolicyDocument=json.dumps(BOUNDARY))
    ids = {}
    ids["external-secrets-role"] = iam.create_role(
        RoleName="external-secrets-role", AssumeRolePolicyDocument=json.dumps(ESO_TRUST)
    )["Role"]["RoleId"]
    ids["billing-service-role"] = iam.create_role(
        RoleName="billing-service-role",
        Path="/services/",
        AssumeRolePolicyDocument=json.dumps(BILLING_TRUST),
        PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/boundaries/team-boundary",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "billing"}],
    )["Role"]["RoleId"]
    iam.put_role_policy(
        RoleName="billing-service-role", PolicyName="decrypt", PolicyDocument=json.dumps(BILLING_INLINE)
    )
    iam.attach_role_policy(RoleName="billing-service-role", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/billing-read")
    ids["eks-node-role"] = iam.create_role(RoleName="eks-node-role", AssumeRolePolicyDocument=json.dumps(NODE_TRUST))[
        "Role"
    ]["RoleId"]
    iam.create_instance_profile(InstanceProfileName="eks-node-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="eks-node-profile", RoleName="eks-node-role")
    iam.create_group(GroupName="deployers")
    iam.put_group_policy(GroupName="deployers", PolicyName="assume", PolicyDocument=json.dumps(GROUP_INLINE))
    iam.create_user(UserName="ci", Tags=[{"Key": "owner", "Value": "platform"}])
    iam.add_user_to_group(GroupName="deployers", UserName="ci")

    kms = c("kms")
    key = kms.create_key(Description="billing CMK", Policy=json.dumps(KEY_POLICY))["KeyMetadata"]
    kms.create_alias(AliasName="alias/billing", TargetKeyId=key["KeyId"])
    kms.enable_key_rotation(KeyId=key["KeyId"])
    grant = kms.create_grant(
        KeyId=key["KeyId"],
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",
        Operations=["Decrypt"],
        Constraints={
            "EncryptionContextSubset": {"PARAMETER_ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/db"}
        },
        Name="node-decrypt",
    )

    ssm = c("ssm")
    ssm.put_parameter(Name="/billing/db", Value="not-read", Type="SecureString", KeyId="alias/billing")
    ssm.put_parameter(Name="/billing/api-key", Value="not-read", Type="SecureString")
    ssm.put_parameter(Name="/billing/endpoint", Value="https://billing", Type="String")

    sm = c("secretsmanager")
    secret = sm.create_secret(
        Name="payments/db", SecretString="not-read", KmsKeyId=key["Arn"], Tags=[{"Key": "team", "Value": "payments"}]
    )
    sm.put_resource_policy(SecretId="payments/db", ResourcePolicy=json.dumps(SECRET_POLICY))

    ec2 = c("ec2")
    lt = ec2.create_launch_template(
        LaunchTemplateName="demo-nodes",
        LaunchTemplateData={
            "MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}
        },
    )["LaunchTemplate"]
    eks = c("eks")
    eks.create_cluster(
        name="demo",
        version="1.29",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    eks.create_nodegroup(
        clusterName="demo",
        nodegroupName="workers",
        subnets=["subnet-1"],
        nodeRole=f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",
        launchTemplate={"id": lt["LaunchTemplateId"], "version": "1"},
    )
    return Seeded(
        key_id=key["KeyId"],
        key_arn=key["Arn"],
        secret_arn=secret["ARN"],
        grant_id=grant["GrantId"],
        launch_template_id=lt["LaunchTemplateId"],
        role_ids=ids,
    )
