"""The demo account: the reference IRSA + external-secrets design, with planted mistakes.

``seed_aws(endpoint_url)`` builds it through boto3 only (any endpoint that speaks the AWS APIs;
the demo uses :func:`irsa_lib.demo.server.local_aws`) and returns :class:`DemoFacts`. The
Kubernetes half ships as manifests in ``irsa_lib/data/demo/manifests`` (see ``manifests_dir()``).
Account 123456789012, region us-east-1, EKS cluster ``demo`` (1.30). The OIDC issuer id is random
on every server: it is always read back from ``DescribeCluster``, never assumed.

The intended design (seed article; domain-spec §0, §5.4)
--------------------------------------------------------
* ``external-secrets/external-secrets-sa`` (the KES controller) -> IRSA -> ``external-secrets-role``
  (trust: Federated = the cluster's OIDC provider, ``StringEquals`` ``<issuer>:sub`` and
  ``<issuer>:aud = sts.amazonaws.com``). Its identity policy allows only ``sts:AssumeRole`` on the
  two service roles.
* ``billing-service-role`` / ``payments-service-role`` trust ONLY external-secrets-role (its ARN).
  Each may ``ssm:GetParameter``/``GetParameters``/``GetParametersByPath`` on ``parameter/<svc>/*``
  and ``kms:Decrypt`` on its own key; payments also ``secretsmanager:GetSecretValue`` on
  ``secret:payments/stripe-api-key-??????``.
* One customer managed key per service (``alias/<svc>``, rotation on). Key policy: the account
  root gets the *administrative* actions only (no Decrypt/Encrypt/GenerateDataKey/ReEncrypt/
  CreateGrant), so IAM policies cannot widen who decrypts ("Enable IAM policies" with ``kms:*``
  would hand decryption to any principal with an IAM ``kms:Decrypt`` on ``*``: F07); the service
  role is the only principal allowed ``kms:Decrypt``.
* SecureStrings ``/billing/db-password``, ``/billing/api-key`` (KeyId given as the bare key id),
  ``/payments/db-password`` (KeyId given as ``alias/payments``); Secrets Manager secret
  ``payments/stripe-api-key`` (KmsKeyId given as the key ARN). The three spellings are deliberate:
  real accounts mix them and the analysis must resolve all three.
* KES serves ``billing`` (ExternalSecrets with ``roleArn: billing-service-role``; the namespace
  carries ``iam.amazonaws.com/permitted: ^arn:aws:iam::123456789012:role/billing-service-role$``).
* ESO serves ``payments`` (migration design, decided here): SecretStores in ``payments`` use
  ``auth.jwt`` with ``payments/payments-eso-sa``, which is annotated with external-secrets-role, then
  ``role: payments-service-role``. For that chain to work the trust of external-secrets-role lists
  BOTH subjects: ``system:serviceaccount:external-secrets:external-secrets-sa`` and
  ``system:serviceaccount:payments:payments-eso-sa``. Consequence a good report shows (not a
  planted mistake, the price of this migration step): whoever can run a pod as ``payments-eso-sa``
  or write a SecretStore in ``payments`` (group ``payments-team``, see the manifests) reaches
  external-secrets-role, hence ``billing-service-role`` and, through (d), the billing parameters.
* Pod Identity: ``monitoring/cloudwatch-agent`` -> ``cloudwatch-agent-role`` (trust
  ``pods.eks.amazonaws.com`` with ``aws:SourceAccount``), which reads no secret at all.
* The third service, ``orders``, is deliberately absent: it is the onboarding walkthrough's.

Planted mistakes (finding ids from domain-spec §7) and their exact expected effect
------------------------------------------------------------------------------------
(a) F01 ``reporting-role`` trusts the OIDC provider with ``StringLike`` ``<issuer>:sub =
    system:serviceaccount:*:*`` (``aud`` is pinned). It may ``ssm:GetParameter*`` on
    ``parameter/reporting/*``. Effect: EVERY service account in cluster ``demo`` (any namespace,
    existing or created later) can assume it and read ``/reporting/db-password``; the only one
    configured for it is ``reporting/reporting-app``.
(b) F06 ``/reporting/db-password`` is encrypted with the AWS managed ``aws/ssm`` key, whose policy
    lets every principal of the account decrypt through SSM. Effect: any principal with an IAM
    ``ssm:GetParameter`` on it can read it, no KMS permission needed (this is what (a) and (c) use).
(c) F05 node role ``demo-node-role`` (instance profile ``demo-node-profile``, node group
    ``demo-nodes``) holds the customer managed policy ``demo-node-ssm-read``:
    ``ssm:GetParameter*`` on ``*``. The launch template and the node instance use
    ``HttpTokens=optional`` and hop limit 2, so every pod on the nodes reaches IMDS. Effect: every
    pod reads ``/reporting/db-password`` (aws/ssm key). It does NOT read the billing, payments or
    legacy parameters: their key policies neither name the node role nor delegate Decrypt to IAM.
    It reads no Secrets Manager secret (no permission).
(d) F04 ``external-secrets-role`` also holds ``ssm:GetParameter`` on ``parameter/billing/*`` and
    the billing key policy allows it ``kms:Decrypt`` directly. Effect: the controller reads
    ``/billing/db-password`` and ``/billing/api-key`` with its own identity, without assuming
    billing-service-role; any KES ExternalSecret without ``roleArn`` (which skips the namespace
    gate entirely) in any namespace materialises them. It cannot read payments directly.
(e) F08 ``legacy-app-role`` trusts the account root (``arn:aws:iam::123456789012:root``) and reads
    ``/legacy/api-token`` (its own CMK ``alias/legacy``, whose key policy allows legacy-app-role).
    IAM user ``ci-deployer`` is in group ``deployers`` whose inline policy allows ``sts:AssumeRole``
    on ``*``. Effect: ci-deployer -> legacy-app-role -> ``/legacy/api-token``. ci-deployer cannot
    assume the service roles: their trust names external-secrets-role, not the account.
Kubernetes-side mistakes (manifests; listed here so the scenario is documented in one place):
F03 the KES controller has no ``ENFORCE_NAMESPACE_ANNOTATIONS`` and only ``billing`` is annotated,
so an ExternalSecret in any other namespace (e.g. by ``payments-team`` in ``payments``) may name
``billing-service-role``; F13 ClusterRole ``secret-reader`` (get/list/watch secrets) is bound
cluster-wide to group ``developers``; F14 ``payments/payments-api`` reads the database password
from an env ``secretKeyRef``; F25 KES (deprecated) is still deployed.
Also reported, as consequences of the above rather than separate plants: F09 (ESO may mint tokens
for ``payments-eso-sa`` while ``payments-team`` writes SecretStores there), F12 (teams may author
KES ExternalSecrets, whose templates run in the controller), F28 (IRSA / Pod Identity pods keep
the Kubernetes API token mounted).
Note on (d): the F04 rule reports a controller identity that reads several services; here it
reads one (billing) directly, so (d) shows up in the access analysis rather than as F04.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from irsa_lib.demo.server import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, aws_client
from irsa_lib.onboarding.policies import KEY_ADMIN_ACTIONS  # manage the key, never use it for data

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
REGION = DEFAULT_REGION
CLUSTER = "demo"
CLUSTER_VERSION = "1.30"
AUDIENCE = "sts.amazonaws.com"
OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"

SERVICES = ("billing", "payments")
KES_SUBJECT = "system:serviceaccount:external-secrets:external-secrets-sa"
PAYMENTS_ESO_SUBJECT = "system:serviceaccount:payments:payments-eso-sa"

ROLE_NAMES = (
    "demo-cluster-role",
    "demo-node-role",
    "external-secrets-role",
    "billing-service-role",
    "payments-service-role",
    "reporting-role",
    "legacy-app-role",
    "cloudwatch-agent-role",
)
PARAMETERS = (
    "/billing/db-password",
    "/billing/api-key",
    "/payments/db-password",
    "/reporting/db-password",
    "/legacy/api-token",
)
SECRET_NAME = "payments/stripe-api-key"
NODE_GROUP = "demo-nodes"
NODE_POLICY = "demo-node-ssm-read"
INSTANCE_PROFILE = "demo-node-profile"
LAUNCH_TEMPLATE = "demo-nodes"
NODE_IMAGE = "ami-0123456789abcdef0"
"""A placeholder AMI id (the one AWS documentation uses); nothing reads the image."""
CI_USER = "ci-deployer"
CI_GROUP = "deployers"
POD_IDENTITY_NAMESPACE = "monitoring"
POD_IDENTITY_SERVICE_ACCOUNT = "cloudwatch-agent"

SSM_READ_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath")

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class DemoFacts:
    """What ``seed_aws`` created, with the values only the endpoint knows (issuer id, key ids)."""

    endpoint_url: str
    account_id: str
    region: str
    cluster_name: str
    cluster_arn: str
    oidc_issuer: str
    """Full issuer URL, ``https://oidc.eks.us-east-1.amazonaws.com/id/<random>``."""
    oidc_provider_arn: str
    roles: Mapping[str, str] = field(default_factory=dict)
    """Role name -> ARN."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """``billing`` / ``payments`` / ``legacy`` / ``aws/ssm`` -> key ARN."""
    parameters: Mapping[str, str] = field(default_factory=dict)
    """Parameter name -> ARN."""
    secret_arn: str
    node_group: str
    node_role_arn: str
    instance_profile_arn: str
    launch_template_id: str
    node_instance_id: str
    node_policy_arn: str
    ci_user_arn: str
    pod_identity_association_id: str

    def role_arn(self, name: str) -> str:
        return self.roles[name]


def manifests_dir() -> Path:
    """The shipped Kubernetes half of the demo (a directory of YAML manifests)."""
    return Path(str(resources.files("irsa_lib") / "data" / "demo" / "manifests"))


def role_arn(name: str, account_id: str = ACCOUNT_ID) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def parameter_arn(name: str, account_id: str = ACCOUNT_ID, region: str = REGION) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


# --- policy documents (pure) -----------------------------------------------------------------------


def _doc(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def irsa_trust(provider_arn: str, issuer_host: str, subjects: tuple[str, ...], *, like: bool = False) -> dict[str, Any]:
    """Web-identity trust for IRSA: the cluster's OIDC provider, ``sub`` and ``aud`` conditions."""
    sub_operator = "StringLike" if like else "StringEquals"
    sub_value: str | list[str] = subjects[0] if len(subjects) == 1 else list(subjects)
    condition: dict[str, dict[str, Any]] = {sub_operator: {f"{issuer_host}:sub": sub_value}}
    condition.setdefault("StringEquals", {})[f"{issuer_host}:aud"] = AUDIENCE
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


def aws_principal_trust(principal_arn: str) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"})


def service_trust(service: str, *, actions: tuple[str, ...] = ("sts:AssumeRole",), **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    return _doc(statement)


def service_read_policy(service: str, key_arn: str, *, secret_arns: tuple[str, ...] = ()) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadOwnParameters",
            "Effect": "Allow",
            "Action": list(SSM_READ_ACTIONS),
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/{service}/*",
        },
        {"Sid": "DecryptWithOwnKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
    ]
    if secret_arns:
        statements.append(
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": list(secret_arns),
            }
        )
    return _doc(*statements)


def service_key_policy(name: str, decrypters: tuple[str, ...]) -> dict[str, Any]:
    """Key policy of the safe design: root administers, only ``decrypters`` may Decrypt."""
    doc = _doc(
        {
            "Sid": "KeyAdministrationOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "ServiceRoleDecrypt",
            "Effect": "Allow",
            "Principal": {"AWS": decrypters[0]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        },
        *(
            {
                "Sid": f"AlsoDecrypt{i}",
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
            for i, arn in enumerate(decrypters[1:], start=1)
        ),
    )
    doc["Id"] = f"{name}-key-policy"
    return doc


def aws_ssm_key_policy() -> dict[str, Any]:
    """The documented policy of the AWS managed ``aws/ssm`` key (moto gives it a root ``kms:*`` one)."""
    doc = _doc(
        {
            "Sid": "Allow access through AWS Systems Manager for all principals in the account "
            "that are authorized to use AWS Systems Manager",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:CreateGrant",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": ACCOUNT_ID, "kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
            },
        },
        {
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
            "Resource": "*",
        },
    )
    doc["Id"] = "auto-ssm-2"
    return doc


# --- seeding (side effects, boto3 only) -----------------------------------------------------------


def _exists_ok(call: Callable[[], T], *codes: str, fallback: Callable[[], T]) -> T:
    """Run ``call``; when it fails because the resource already exists, return ``fallback()``."""
    try:
        return call()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in codes:
            return fallback()
        raise


class _Seeder:
    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.iam = aws_client("iam", endpoint_url, region=REGION)
        self.kms = aws_client("kms", endpoint_url, region=REGION)
        self.ssm = aws_client("ssm", endpoint_url, region=REGION)
        self.sm = aws_client("secretsmanager", endpoint_url, region=REGION)
        self.eks = aws_client("eks", endpoint_url, region=REGION)
        self.ec2 = aws_client("ec2", endpoint_url, region=REGION)

    # IAM ------------------------------------------------------------------------------------------

    def role(self, name: str, trust: Mapping[str, Any], description: str) -> str:
        document = json.dumps(trust)
        arn = _exists_ok(
            lambda: str(
                self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=document, Description=description)["Role"][
                    "Arn"
                ]
            ),
            "EntityAlreadyExists",
            fallback=lambda: self._update_trust(name, document),
        )
        return arn

    def inline(self, role_name: str, **policies: Mapping[str, Any]) -> None:
        for policy_name, policy in policies.items():
            self.iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))

    def _update_trust(self, name: str, document: str) -> str:
        self.iam.update_assume_role_policy(RoleName=name, PolicyDocument=document)
        return str(self.iam.get_role(RoleName=name)["Role"]["Arn"])

    def managed_policy(self, name: str, document: Mapping[str, Any], description: str) -> str:
        arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}"
        return _exists_ok(
            lambda: str(
                self.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document), Description=description)[
                    "Policy"
                ]["Arn"]
            ),
            "EntityAlreadyExists",
            fallback=lambda: arn,
        )

    def oidc_provider(self, issuer: str) -> str:
        host = issuer.removeprefix("https://")
        arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
        return _exists_ok(
            lambda: str(
                self.iam.create_open_id_connect_provider(
                    Url=issuer, ClientIDList=[AUDIENCE], ThumbprintList=[OIDC_THUMBPRINT]
                )["OpenIDConnectProviderArn"]
            ),
            "EntityAlreadyExists",
            fallback=lambda: arn,
        )

    def instance_profile(self, name: str, role_name: str) -> str:
        profile = _exists_ok(
            lambda: self.iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"],
            "EntityAlreadyExists",
            fallback=lambda: self.iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"],
        )
        if not any(r["RoleName"] == role_name for r in profile.get("Roles", [])):
            self.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role_name)
        return str(profile["Arn"])

    def ci_user(self) -> str:
        assume_anything = _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
        _exists_ok(lambda: self.iam.create_group(GroupName=CI_GROUP), "EntityAlreadyExists", fallback=lambda: None)
        self.iam.put_group_policy(
            GroupName=CI_GROUP, PolicyName="assume-any-role", PolicyDocument=json.dumps(assume_anything)
        )
        arn = _exists_ok(
            lambda: str(self.iam.create_user(UserName=CI_USER)["User"]["Arn"]),
            "EntityAlreadyExists",
            fallback=lambda: str(self.iam.get_user(UserName=CI_USER)["User"]["Arn"]),
        )
        self.iam.add_user_to_group(GroupName=CI_GROUP, UserName=CI_USER)
        return arn

    # KMS ------------------------------------------------------------------------------------------

    def customer_key(self, name: str, policy: Mapping[str, Any]) -> str:
        alias = f"alias/{name}"
        existing = self._alias_target(alias)
        if existing is None:
            key = self.kms.create_key(
                Description=f"{name}: SecureString parameters and secrets of the {name} service",
                KeyUsage="ENCRYPT_DECRYPT",
                Policy=json.dumps(policy),
                Tags=[{"TagKey": "service", "TagValue": name}],
            )["KeyMetadata"]
            self.kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
            key_id = key["KeyId"]
        else:
            key_id = existing
            self.kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))
        self.kms.enable_key_rotation(KeyId=key_id)
        return str(self.kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])

    def _alias_target(self, alias: str) -> str | None:
        for page in self.kms.get_paginator("list_aliases").paginate():
            for entry in page["Aliases"]:
                if entry["AliasName"] == alias and entry.get("TargetKeyId"):
                    return str(entry["TargetKeyId"])
        return None

    def aws_ssm_key(self) -> str:
        """Materialise ``aws/ssm`` as AWS does on first use, with its documented key policy.

        moto creates reserved keys lazily, reports them as ``KeyManager: CUSTOMER`` and gives them a
        root ``kms:*`` policy; the documented policy is put back so the data matches a real account.
        """
        key = self.kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]
        self.kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(aws_ssm_key_policy()))
        self.kms.update_key_description(
            KeyId=key["KeyId"], Description="Default key that protects my SSM parameters when no other key is defined"
        )
        return str(key["Arn"])

    # SSM / Secrets Manager --------------------------------------------------------------------------

    def secure_string(self, name: str, key_id: str | None) -> str:
        extra = {"KeyId": key_id} if key_id else {}
        self.ssm.put_parameter(
            Name=name,
            Type="SecureString",
            Value=f"demo-value-of-{name.strip('/').replace('/', '-')}",
            Description=f"demo secret {name}",
            Overwrite=True,
            **extra,
        )
        return parameter_arn(name)

    def secret(self, name: str, kms_key_id: str) -> str:
        return _exists_ok(
            lambda: str(
                self.sm.create_secret(
                    Name=name,
                    KmsKeyId=kms_key_id,
                    SecretString=json.dumps({"api-key": "demo-value-of-stripe-api-key"}),
                    Description="Stripe API key of the payments service",
                )["ARN"]
            ),
            "ResourceExistsException",
            fallback=lambda: str(self.sm.describe_secret(SecretId=name)["ARN"]),
        )

    # EKS / EC2 ------------------------------------------------------------------------------------

    def network(self) -> list[str]:
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["demo-vpc"]}])["Vpcs"]
        if vpcs:
            vpc_id = vpcs[0]["VpcId"]
            subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
            return sorted(s["SubnetId"] for s in subnets)
        vpc_id = self.ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "demo-vpc"}]}],
        )["Vpc"]["VpcId"]
        return [
            self.ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")[
                "Subnet"
            ]["SubnetId"]
            for i, zone in ((1, "a"), (2, "b"))
        ]

    def cluster(self, role: str, subnets: list[str]) -> dict[str, Any]:
        _exists_ok(
            lambda: self.eks.create_cluster(
                name=CLUSTER, version=CLUSTER_VERSION, roleArn=role, resourcesVpcConfig={"subnetIds": subnets}
            ),
            "ResourceInUseException",
            fallback=lambda: None,
        )
        cluster: dict[str, Any] = self.eks.describe_cluster(name=CLUSTER)["cluster"]
        return cluster

    def launch_template(self) -> str:
        metadata = {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}
        found = _exists_ok(
            lambda: self.ec2.describe_launch_templates(LaunchTemplateNames=[LAUNCH_TEMPLATE])["LaunchTemplates"],
            "InvalidLaunchTemplateName.NotFoundException",
            fallback=lambda: [],
        )
        if found:
            return str(found[0]["LaunchTemplateId"])
        return str(
            self.ec2.create_launch_template(
                LaunchTemplateName=LAUNCH_TEMPLATE, LaunchTemplateData={"MetadataOptions": metadata}
            )["LaunchTemplate"]["LaunchTemplateId"]
        )

    def node_group(self, node_role: str, subnets: list[str], template_id: str) -> None:
        _exists_ok(
            lambda: self.eks.create_nodegroup(
                clusterName=CLUSTER,
                nodegroupName=NODE_GROUP,
                nodeRole=node_role,
                subnets=subnets,
                launchTemplate={"id": template_id, "version": "1"},
                scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 1},
            ),
            "ResourceInUseException",
            fallback=lambda: None,
        )

    def node_instance(self, template_id: str, profile_arn: str, subnet: str) -> str:
        filters = [
            {"Name": "tag:eks:nodegroup-name", "Values": [NODE_GROUP]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
        for reservation in self.ec2.describe_instances(Filters=filters)["Reservations"]:
            for instance in reservation["Instances"]:
                return str(instance["InstanceId"])
        tags = {
            "Name": NODE_GROUP,
            "eks:cluster-name": CLUSTER,
            "eks:nodegroup-name": NODE_GROUP,
            f"kubernetes.io/cluster/{CLUSTER}": "owned",
        }
        # moto does not copy MetadataOptions from the launch template; pass the same values, as
        # EC2 would have applied them from the template.
        instance = self.ec2.run_instances(
            ImageId=NODE_IMAGE,
            MinCount=1,
            MaxCount=1,
            InstanceType="m5.large",
            SubnetId=subnet,
            LaunchTemplate={"LaunchTemplateId": template_id, "Version": "1"},
            IamInstanceProfile={"Arn": profile_arn},
            MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )["Instances"][0]
        return str(instance["InstanceId"])

    def pod_identity(self, role: str) -> str:
        def existing() -> str:
            found = self.eks.list_pod_identity_associations(
                clusterName=CLUSTER, namespace=POD_IDENTITY_NAMESPACE, serviceAccount=POD_IDENTITY_SERVICE_ACCOUNT
            )["associations"]
            return str(found[0]["associationId"])

        return _exists_ok(
            lambda: str(
                self.eks.create_pod_identity_association(
                    clusterName=CLUSTER,
                    namespace=POD_IDENTITY_NAMESPACE,
                    serviceAccount=POD_IDENTITY_SERVICE_ACCOUNT,
                    roleArn=role,
                )["association"]["associationId"]
            ),
            "ResourceInUseException",
            fallback=existing,
        )


def seed_aws(endpoint_url: str) -> DemoFacts:
    """Create the demo account on ``endpoint_url`` (boto3 only) and return what was created.

    Safe to run against a fresh endpoint, and again on the same one (existing resources are
    reused and their policies rewritten). Principals are created before any policy names them,
    as IAM and KMS require in a real account.
    """
    s = _Seeder(endpoint_url)
    roles: dict[str, str] = {}
    arn = role_arn

    # Cluster, its OIDC issuer and provider. The issuer id is random: read it back.
    roles["demo-cluster-role"] = s.role(
        "demo-cluster-role", service_trust("eks.amazonaws.com"), "EKS control plane role of cluster demo"
    )
    subnets = s.network()
    cluster = s.cluster(roles["demo-cluster-role"], subnets)
    issuer: str = cluster["identity"]["oidc"]["issuer"]
    issuer_host = issuer.removeprefix("https://")
    provider = s.oidc_provider(issuer)

    # Roles and their trust policies.
    roles["external-secrets-role"] = s.role(
        "external-secrets-role",
        irsa_trust(provider, issuer_host, (KES_SUBJECT, PAYMENTS_ESO_SUBJECT)),
        "external-secrets controllers: assumes the per-service roles",
    )
    for svc in SERVICES:
        roles[f"{svc}-service-role"] = s.role(
            f"{svc}-service-role",
            aws_principal_trust(roles["external-secrets-role"]),
            f"{svc}: reads /{svc}/* on behalf of external-secrets",
        )
    # (a) F01: any service account of the cluster matches the sub wildcard.
    roles["reporting-role"] = s.role(
        "reporting-role",
        irsa_trust(provider, issuer_host, ("system:serviceaccount:*:*",), like=True),
        "reporting exporter (IRSA)",
    )
    # (e) F08: the trust names the account, so IAM policies decide who assumes it.
    roles["legacy-app-role"] = s.role(
        "legacy-app-role", aws_principal_trust(f"arn:aws:iam::{ACCOUNT_ID}:root"), "legacy batch application (pre-IRSA)"
    )
    roles["cloudwatch-agent-role"] = s.role(
        "cloudwatch-agent-role",
        service_trust(
            "pods.eks.amazonaws.com",
            actions=("sts:AssumeRole", "sts:TagSession"),
            StringEquals={"aws:SourceAccount": ACCOUNT_ID},
        ),
        "CloudWatch agent (EKS Pod Identity): metrics and logs only",
    )
    roles["demo-node-role"] = s.role("demo-node-role", service_trust("ec2.amazonaws.com"), "worker nodes of demo")

    # Keys: the root administers, only the named roles decrypt. (d) F04: billing also names the controller.
    keys = {
        "billing": s.customer_key(
            "billing", service_key_policy("billing", (roles["billing-service-role"], roles["external-secrets-role"]))
        ),
        "payments": s.customer_key("payments", service_key_policy("payments", (roles["payments-service-role"],))),
        "legacy": s.customer_key("legacy", service_key_policy("legacy", (roles["legacy-app-role"],))),
        "aws/ssm": s.aws_ssm_key(),
    }

    # Parameters (KeyId spelled as key id, alias, none = aws/ssm (b) F06, and ARN) and the secret.
    billing_key_id = keys["billing"].rsplit("/", 1)[1]
    params = {
        "/billing/db-password": s.secure_string("/billing/db-password", billing_key_id),
        "/billing/api-key": s.secure_string("/billing/api-key", billing_key_id),
        "/payments/db-password": s.secure_string("/payments/db-password", "alias/payments"),
        "/reporting/db-password": s.secure_string("/reporting/db-password", None),
        "/legacy/api-token": s.secure_string("/legacy/api-token", keys["legacy"]),
    }
    secret_arn = s.secret(SECRET_NAME, keys["payments"])
    secret_pattern = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{SECRET_NAME}-??????"

    # Identity policies.
    s.inline(
        "external-secrets-role",
        **{
            "assume-service-roles": _doc(
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": [arn(f"{v}-service-role") for v in SERVICES],
                }
            ),
            # (d) F04: the controller itself can read billing (the billing key policy lets it decrypt).
            "read-billing-parameters": _doc(
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/billing/*",
                }
            ),
        },
    )
    s.inline("billing-service-role", **{"read-billing-secrets": service_read_policy("billing", keys["billing"])})
    s.inline(
        "payments-service-role",
        **{"read-payments-secrets": service_read_policy("payments", keys["payments"], secret_arns=(secret_pattern,))},
    )
    s.inline(
        "reporting-role",
        **{
            "read-reporting-parameters": _doc(
                {
                    "Effect": "Allow",
                    "Action": list(SSM_READ_ACTIONS),
                    "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/reporting/*",
                }
            )
        },
    )
    s.inline(
        "legacy-app-role",
        **{
            "read-legacy-parameters": _doc(
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/legacy/*",
                },
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": keys["legacy"]},
            )
        },
    )
    s.inline(
        "cloudwatch-agent-role",
        **{
            "publish-metrics": _doc(
                {
                    "Effect": "Allow",
                    "Action": ["cloudwatch:PutMetricData", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                }
            )
        },
    )
    # (e) F08: a CI user (through its group) may assume any role.
    ci_user_arn = s.ci_user()

    # (c) F05: the node role reads any parameter, and pods reach IMDS (optional tokens, hop limit 2).
    node_policy_arn = s.managed_policy(
        NODE_POLICY,
        _doc({"Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": "*"}),
        "lets node bootstrap scripts read their configuration parameters",
    )
    s.iam.attach_role_policy(RoleName="demo-node-role", PolicyArn=node_policy_arn)
    profile_arn = s.instance_profile(INSTANCE_PROFILE, "demo-node-role")
    template_id = s.launch_template()
    s.node_group(roles["demo-node-role"], subnets, template_id)
    instance_id = s.node_instance(template_id, profile_arn, subnets[0])

    association_id = s.pod_identity(roles["cloudwatch-agent-role"])

    return DemoFacts(
        endpoint_url=endpoint_url,
        account_id=ACCOUNT_ID,
        region=REGION,
        cluster_name=CLUSTER,
        cluster_arn=str(cluster["arn"]),
        oidc_issuer=issuer,
        oidc_provider_arn=provider,
        roles=roles,
        keys=keys,
        parameters=params,
        secret_arn=secret_arn,
        node_group=NODE_GROUP,
        node_role_arn=roles["demo-node-role"],
        instance_profile_arn=profile_arn,
        launch_template_id=template_id,
        node_instance_id=instance_id,
        node_policy_arn=node_policy_arn,
        ci_user_arn=ci_user_arn,
        pod_identity_association_id=association_id,
    )
