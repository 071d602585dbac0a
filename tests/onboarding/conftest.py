"""Fixtures for onboarding: moto in server mode over HTTP (fresh per test), a seeded controller role."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from irsa_lib.onboarding import OnboardingParams, make_params
from irsa_lib.onboarding.guard import OnboardingClients
from tests.collect.conftest import isolated_env, moto, moto_server  # noqa: F401  (shared fixtures)
from tests.collect.proxy import AwsProxy

ACCOUNT = "123456789012"
REGION = "us-east-1"
CONTROLLER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/external-secrets-role"
OIDC_HOST = "oidc.eks.us-east-1.amazonaws.com/id/ONBOARDTEST"
DB_VALUE = "orders-db-S3cr3t-value-7f3a9c"
API_VALUE = "orders-api-T0ken-value-41be20"
STRIPE_VALUE = "orders-stripe-K3y-value-9d77e1"
VALUES = {"/orders/db-password": DB_VALUE, "/orders/api-key": API_VALUE, "orders/stripe-api-key": STRIPE_VALUE}
ENV_NAMES = {
    "/orders/db-password": "ORDERS_DB",
    "/orders/api-key": "ORDERS_API",
    "orders/stripe-api-key": "ORDERS_STRIPE",
}


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def seed_controller(endpoint: str) -> str:
    """The KES controller's IRSA role, as the reference pattern has it before onboarding."""
    iam = client("iam", endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_HOST}"},
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
    return str(
        iam.create_role(RoleName="external-secrets-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )


def orders_params(**overrides: Any) -> OnboardingParams:
    args: dict[str, Any] = {
        "service": "orders",
        "namespace": "orders",
        "cluster": "demo",
        "account_id": ACCOUNT,
        "region": REGION,
        "parameters": ["/orders/db-password", "/orders/api-key"],
        "secrets": ["orders/stripe-api-key"],
        "controller_role_arn": CONTROLLER_ROLE,
        "value_env": ENV_NAMES,
    }
    args.update(overrides)
    return make_params(**args)


@dataclass
class Aws:
    """A reset moto endpoint with the controller role, and guarded onboarding clients for it."""

    endpoint: str
    clients: OnboardingClients

    def client(self, service: str) -> Any:
        return client(service, self.endpoint)


def reset(endpoint: str) -> None:
    """Drop every resource: in-process moto servers share one global state, so leave it clean."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset", data=b"", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        resp.read()


@pytest.fixture
def aws(moto: str) -> Iterator[Aws]:  # noqa: F811
    seed_controller(moto)
    yield Aws(endpoint=moto, clients=OnboardingClients(region=REGION, endpoint_url=moto))
    reset(moto)


@pytest.fixture
def recorded(aws: Aws, moto_server: tuple[str, int]) -> Iterator[tuple[Aws, AwsProxy]]:  # noqa: F811
    """The same endpoint behind a recording proxy: every operation sent is visible."""
    proxy = AwsProxy(moto_server).start()
    try:
        yield Aws(endpoint=proxy.url, clients=OnboardingClients(region=REGION, endpoint_url=proxy.url)), proxy
    finally:
        proxy.stop()


@pytest.fixture
def value_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {ENV_NAMES[name]: value for name, value in VALUES.items()}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


CLUSTER_MANIFESTS = Path(__file__).parent / "data" / "cluster"
KES_SUBJECT = "system:serviceaccount:external-secrets:external-secrets-sa"


def irsa_trust(provider_arn: str, issuer_host: str, subject: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{issuer_host}:sub": subject, f"{issuer_host}:aud": "sts.amazonaws.com"}
                },
            }
        ],
    }


def seed_cluster(endpoint: str) -> tuple[str, str]:
    """A clean account: EKS cluster ``demo`` with its OIDC provider, the KES controller role (IRSA), and
    one service, ``shop``, set up by hand the reference way. Returns (provider ARN, issuer host)."""
    ec2, eks, iam, kms, ssm = (client(s, endpoint) for s in ("ec2", "eks", "iam", "kms", "ssm"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    eks_trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    cluster_role = iam.create_role(RoleName="demo-cluster-role", AssumeRolePolicyDocument=json.dumps(eks_trust))
    issuer = eks.create_cluster(
        name="demo", roleArn=cluster_role["Role"]["Arn"], resourcesVpcConfig={"subnetIds": [subnet]}
    )["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.removeprefix("https://")
    provider = iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
    )["OpenIDConnectProviderArn"]
    iam.create_role(
        RoleName="external-secrets-role", AssumeRolePolicyDocument=json.dumps(irsa_trust(provider, host, KES_SUBJECT))
    )
    shop_role = f"arn:aws:iam::{ACCOUNT}:role/shop-service-role"
    iam.create_role(
        RoleName="shop-service-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": CONTROLLER_ROLE}, "Action": "sts:AssumeRole"}],
            }
        ),
    )
    key = kms.create_key(
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:GetKeyPolicy"],
                        "Resource": "*",
                    },
                    {"Effect": "Allow", "Principal": {"AWS": shop_role}, "Action": "kms:Decrypt", "Resource": "*"},
                ],
            }
        )
    )["KeyMetadata"]
    kms.create_alias(AliasName="alias/shop", TargetKeyId=key["KeyId"])
    ssm.put_parameter(Name="/shop/db-password", Type="SecureString", KeyId=key["Arn"], Value="shop-value-1")
    iam.put_role_policy(
        RoleName="shop-service-role",
        PolicyName="read-shop",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ssm:GetParameter",
                        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/*",
                    },
                    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]},
                ],
            }
        ),
    )
    iam.put_role_policy(
        RoleName="external-secrets-role",
        PolicyName="assume-shop",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": shop_role}],
            }
        ),
    )
    return str(provider), host


@pytest.fixture
def cluster_aws(moto: str) -> Iterator[Aws]:  # noqa: F811
    """A reset endpoint holding the clean cluster account of :func:`seed_cluster`."""
    seed_cluster(moto)
    yield Aws(endpoint=moto, clients=OnboardingClients(region=REGION, endpoint_url=moto))
    reset(moto)
