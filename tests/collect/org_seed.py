"""Seed a simulated AWS organisation on the local endpoint, through boto3 (not through the collector).

The management account (moto's default, 123456789012) creates the organisation, three OUs
(``prod`` with ``prod-eu`` below it, and ``dev``), ``MEMBERS`` member accounts spread over them, and an
SCP on each OU. moto's CreateAccount creates ``OrganizationAccountAccessRole`` in each new account (as
AWS does); through it every member gets the read-only member role ``irsa-collector`` (except the one
listed in ``missing_role``) and a few records of its own, each named after the member's index so a test
can say by hand which record belongs to which account. The management account has the member role
too, so it is collected like the others (its Account says it is the management account).

Checked against moto 5.2.5 in server mode: requests signed with AssumeRole credentials land in the
assumed role's account; AssumeRole itself succeeds for a role that does not exist (so the test's proxy
answers AccessDenied for the missing member role, as AWS does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from irsa_lib.collect.session import core_session

MANAGEMENT = "123456789012"
MEMBER_ROLE = "irsa-collector"
MEMBERS = 20
REGION = "us-east-1"
OPT_IN = "ap-east-1"
"""Asked for, but refused by the endpoint (an opt-in region not enabled): the proxy answers as AWS does."""
MISSING_ROLE_INDEX = 7
"""The member whose ``irsa-collector`` role was never created."""
CLUSTER_INDEXES = (0, 5)
"""Members with an EKS cluster (``app-<i>``) in us-east-1."""

SCPS: dict[str, dict[str, Any]] = {
    "prod": {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NoLeave", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
        ],
    },
    "prod-eu": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EuOnly",
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*"],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
            }
        ],
    },
    "dev": {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoKmsDelete", "Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}],
    },
}


def ou_of(index: int) -> str:
    """Which OU member ``index`` is in: 0-7 prod, 8-13 prod-eu, 14-19 dev (written out, not computed elsewhere)."""
    return "prod" if index < 8 else "prod-eu" if index < 14 else "dev"


@dataclass(frozen=True)
class SeededOrg:
    organization_id: str
    root_id: str
    ous: dict[str, str]
    """OU name -> id."""
    policies: dict[str, str]
    """SCP name (the OU it is attached to) -> policy id."""
    members: tuple[str, ...]
    """Member account ids, by index."""

    @property
    def missing_role(self) -> str:
        return self.members[MISSING_ROLE_INDEX]

    def index(self, account_id: str) -> int:
        return self.members.index(account_id)


def _member_session(endpoint: str, account_id: str) -> boto3.Session:
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        botocore_session=core_session(),  # parsed service models shared by every member's session
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def member_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "irsa"}},
            }
        ],
    }


def _seed_member(endpoint: str, account_id: str, index: int) -> None:
    session = _member_session(endpoint, account_id)

    def client(service: str) -> Any:
        return session.client(service, region_name=REGION, endpoint_url=endpoint)

    iam = client("iam")
    if index != MISSING_ROLE_INDEX:
        iam.create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps(member_trust()))
    iam.create_role(
        RoleName=f"app-{index}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    key = client("kms").create_key(Description=f"app-{index}")["KeyMetadata"]
    client("ssm").put_parameter(Name=f"/app-{index}/db", Value="not-read", Type="SecureString", KeyId=key["KeyId"])
    client("secretsmanager").create_secret(Name=f"app-{index}/api", SecretString="not-read")
    if index in CLUSTER_INDEXES:
        client("eks").create_cluster(
            name=f"app-{index}",
            version="1.29",
            roleArn=f"arn:aws:iam::{account_id}:role/app-{index}",
            resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        )


def seed_organization(endpoint: str, members: int = MEMBERS) -> SeededOrg:
    """Create the organisation and its members; returns the ids the tests assert on."""
    org = boto3.client("organizations", region_name=REGION, endpoint_url=endpoint)
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    ous: dict[str, str] = {}
    ous["prod"] = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    ous["prod-eu"] = org.create_organizational_unit(ParentId=ous["prod"], Name="prod-eu")["OrganizationalUnit"]["Id"]
    ous["dev"] = org.create_organizational_unit(ParentId=root, Name="dev")["OrganizationalUnit"]["Id"]
    policies: dict[str, str] = {}
    for name, document in SCPS.items():
        policy = org.create_policy(
            Content=json.dumps(document), Description=name, Name=f"scp-{name}", Type="SERVICE_CONTROL_POLICY"
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=policy, TargetId=ous[name])
        policies[name] = policy
    boto3.client("iam", region_name=REGION, endpoint_url=endpoint).create_role(
        RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps(member_trust())
    )
    ids: list[str] = []
    for index in range(members):
        request = org.create_account(Email=f"member{index}@example.com", AccountName=f"member-{index}")
        status = org.describe_create_account_status(CreateAccountRequestId=request["CreateAccountStatus"]["Id"])
        account_id = status["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ous[ou_of(index)])
        _seed_member(endpoint, account_id, index)
        ids.append(account_id)
    return SeededOrg(organization_id=organization_id, root_id=root, ous=ous, policies=policies, members=tuple(ids))
