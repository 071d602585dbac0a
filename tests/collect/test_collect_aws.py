"""The AWS collector against moto in server mode over HTTP: a seeded account read field by field."""

from __future__ import annotations

import json

import boto3
import pytest

from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.model import (
    Account,
    Coverage,
    Grant,
    GrantConstraints,
    InlinePolicy,
    InstanceProfile,
    ManagedPolicy,
    MetadataOptions,
    OIDCProvider,
    OrgPolicy,
    SSMParameter,
)
from irsa_lib.snapshot import snapshot_from_json, snapshot_to_json
from tests.collect.proxy import AwsProxy, hide_gaad_policy, page_json_listing
from tests.collect.seed import (
    ACCOUNT,
    BILLING_INLINE,
    BILLING_READ,
    BILLING_TRUST,
    BOUNDARY,
    ESO_TRUST,
    GROUP_INLINE,
    KEY_POLICY,
    OIDC_ARN,
    OIDC_HOST,
    REGION,
    SECRET_POLICY,
    seed_account,
)

pytestmark = pytest.mark.integration
SCOPE = f"{ACCOUNT}/{REGION}"
GLOBAL = f"{ACCOUNT}/global"


def test_full_collection_reads_every_record_field_by_field(moto: str) -> None:
    seeded = seed_account(moto)
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False)

    assert snap.accounts == (Account(account_id=ACCOUNT, partition="aws", scps=(), rcps=(), regions=(REGION,)),)

    roles = {r.name: r for r in snap.roles}
    assert set(roles) == {"external-secrets-role", "billing-service-role", "eks-node-role"}
    billing = roles["billing-service-role"]
    assert billing.arn == f"arn:aws:iam::{ACCOUNT}:role/services/billing-service-role"
    assert billing.role_id == seeded.role_ids["billing-service-role"]
    assert billing.account_id == ACCOUNT
    assert billing.path == "/services/"
    assert billing.trust_policy == BILLING_TRUST
    assert billing.inline_policies == (InlinePolicy(name="decrypt", document=BILLING_INLINE),)
    assert billing.attached_policy_arns == (f"arn:aws:iam::{ACCOUNT}:policy/billing-read",)
    assert billing.permissions_boundary_arn == f"arn:aws:iam::{ACCOUNT}:policy/boundaries/team-boundary"
    assert billing.tags == {"team": "billing"}
    assert billing.max_session_duration == 7200
    assert billing.instance_profile_arns == ()
    assert billing.service_linked is False
    eso = roles["external-secrets-role"]
    assert eso.trust_policy == ESO_TRUST
    assert eso.max_session_duration == 3600
    assert eso.inline_policies == () and eso.attached_policy_arns == () and eso.permissions_boundary_arn is None
    assert roles["eks-node-role"].instance_profile_arns == (
        f"arn:aws:iam::{ACCOUNT}:instance-profile/eks-node-profile",
    )
    assert snap.instance_profiles == (
        InstanceProfile(
            arn=f"arn:aws:iam::{ACCOUNT}:instance-profile/eks-node-profile",
            name="eks-node-profile",
            account_id=ACCOUNT,
            role_arns=(f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",),
        ),
    )

    (user,) = snap.users
    assert (user.name, user.arn, user.group_names, user.tags) == (
        "ci",
        f"arn:aws:iam::{ACCOUNT}:user/ci",
        ("deployers",),
        {"owner": "platform"},
    )
    (group,) = snap.groups
    assert (group.name, group.arn, group.inline_policies) == (
        "deployers",
        f"arn:aws:iam::{ACCOUNT}:group/deployers",
        (InlinePolicy(name="assume", document=GROUP_INLINE),),
    )
    # moto's dump lacks PolicyName: the names come from the ARNs
    assert {p.arn: p for p in snap.managed_policies} == {
        f"arn:aws:iam::{ACCOUNT}:policy/billing-read": ManagedPolicy(
            arn=f"arn:aws:iam::{ACCOUNT}:policy/billing-read",
            name="billing-read",
            document=BILLING_READ,
            path="/",
            default_version_id="v1",
        ),
        f"arn:aws:iam::{ACCOUNT}:policy/boundaries/team-boundary": ManagedPolicy(
            arn=f"arn:aws:iam::{ACCOUNT}:policy/boundaries/team-boundary",
            name="team-boundary",
            document=BOUNDARY,
            path="/boundaries/",
            default_version_id="v1",
        ),
    }
    assert snap.oidc_providers == (
        OIDCProvider(arn=OIDC_ARN, url=OIDC_HOST, account_id=ACCOUNT, client_ids=("sts.amazonaws.com",)),
    )

    (key,) = [k for k in snap.kms_keys if k.manager == "CUSTOMER"]
    assert key.arn == seeded.key_arn == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{seeded.key_id}"
    assert (key.key_id, key.account_id, key.region) == (seeded.key_id, ACCOUNT, REGION)
    assert (key.key_state, key.key_usage, key.key_spec, key.description) == (
        "Enabled",
        "ENCRYPT_DECRYPT",
        "SYMMETRIC_DEFAULT",
        "billing CMK",
    )
    assert key.aliases == ("alias/billing",)
    assert key.rotation_enabled is True
    assert key.policy == KEY_POLICY
    assert key.grants == (
        Grant(
            grant_id=seeded.grant_id,
            grantee_principal=f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",
            operations=("Decrypt",),
            name="node-decrypt",
            constraints=GrantConstraints(
                encryption_context_subset={"PARAMETER_ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/db"}
            ),
        ),
    )

    assert {p.name: p for p in snap.ssm_parameters} == {
        "/billing/db": SSMParameter(
            arn=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/db",
            name="/billing/db",
            account_id=ACCOUNT,
            region=REGION,
            type="SecureString",
            tier="Standard",
            key_id="alias/billing",
            version=1,
            last_modified_user="N/A",
        ),
        "/billing/api-key": SSMParameter(
            arn=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/api-key",
            name="/billing/api-key",
            account_id=ACCOUNT,
            region=REGION,
            type="SecureString",
            tier="Standard",
            key_id="alias/aws/ssm",
            version=1,
            last_modified_user="N/A",
        ),
        "/billing/endpoint": SSMParameter(
            arn=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/endpoint",
            name="/billing/endpoint",
            account_id=ACCOUNT,
            region=REGION,
            type="String",
            tier="Standard",
            key_id=None,
            version=1,
            last_modified_user="N/A",
        ),
    }

    (secret,) = snap.secrets
    assert (secret.arn, secret.name, secret.account_id, secret.region) == (
        seeded.secret_arn,
        "payments/db",
        ACCOUNT,
        REGION,
    )
    assert secret.kms_key_id == seeded.key_arn
    assert secret.resource_policy == SECRET_POLICY
    assert secret.tags == {"team": "payments"}

    (cluster,) = snap.clusters
    assert (cluster.name, cluster.arn, cluster.version, cluster.account_id, cluster.region, cluster.status) == (
        "demo",
        f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/demo",
        "1.29",
        ACCOUNT,
        REGION,
        "ACTIVE",
    )
    assert cluster.oidc_issuer is not None and cluster.oidc_issuer.startswith(
        f"https://oidc.eks.{REGION}.amazonaws.com/id/"
    )
    (ng,) = snap.node_groups
    assert (ng.cluster_name, ng.name, ng.node_role_arn, ng.kind) == (
        "demo",
        "workers",
        f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",
        "managed",
    )
    assert ng.arn is not None and ng.arn.startswith(f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/demo/workers/")
    assert ng.metadata_options == MetadataOptions(http_tokens="optional", hop_limit=2, http_endpoint="enabled")
    assert ng.metadata_source == "launch-template"
    assert snap.pod_identity_associations == ()

    coverage = {(c.scope, c.service): c for c in snap.coverage}
    assert coverage[(GLOBAL, "iam")].status == "ok"
    assert coverage[(GLOBAL, "iam")].count == 3 + 1 + 1 + 2 + 1  # roles, user, group, policies, profile
    assert coverage[(GLOBAL, "iam:ListOpenIDConnectProviders")].count == 1
    assert coverage[(GLOBAL, "organizations")].status == "absent"
    assert coverage[(SCOPE, "ssm")].count == 3
    assert coverage[(SCOPE, "secretsmanager")].count == 1
    assert coverage[(SCOPE, "eks")].count == 2  # one cluster, one node group
    assert coverage[(SCOPE, "kms")].status == "ok"
    # moto has no Pod Identity API: said plainly, not read as "no associations"
    pod = coverage[(SCOPE, "eks:ListPodIdentityAssociations")]
    assert (pod.status, pod.resource) == ("failed", "demo")
    assert pod.error == "eks:ListPodIdentityAssociations: the endpoint does not implement this operation (404)"
    # no collected policy conditions an SSM action on resource tags: parameter tags are skipped, and say why
    tags = coverage[(SCOPE, "ssm:ListTagsForResource")]
    assert (tags.status, tags.complete) == ("skipped", True)
    assert tags.error == "parameter tags not collected: no collected policy conditions an SSM action on resource tags"
    assert all(p.tags is None for p in snap.ssm_parameters)
    assert {c.service for c in snap.coverage if c.status != "ok"} == {
        "organizations",
        "eks:ListPodIdentityAssociations",
        "ssm:ListTagsForResource",
    }

    # the partial snapshot survives the strict JSON round trip
    assert snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snap)))) == snap


def test_aws_endpoint_url_from_environment(moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm", region_name=REGION, endpoint_url=moto).put_parameter(Name="/x", Value="v", Type="String")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    snap = collect_aws([AwsTarget()], progress=False)
    assert [p.name for p in snap.ssm_parameters] == ["/x"]
    assert snap.accounts[0].regions == (REGION,)


def test_pagination_loses_and_duplicates_nothing(proxy: AwsProxy, moto: str) -> None:
    c = boto3.Session(region_name=REGION)
    ssm, sm, kms = (c.client(s, endpoint_url=moto) for s in ("ssm", "secretsmanager", "kms"))
    for i in range(23):  # moto pages DescribeParameters by 10
        ssm.put_parameter(Name=f"/p/{i:02d}", Value="v", Type="String")
    for i in range(7):
        sm.create_secret(Name=f"s{i}", SecretString="v")
    key_ids = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    proxy.hooks[("kms", "ListKeys")] = page_json_listing("Keys")  # moto returns ListKeys whole: page it

    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False, page_size=2)

    assert [p.name for p in snap.ssm_parameters] == [f"/p/{i:02d}" for i in range(23)]
    assert sorted(s.name for s in snap.secrets) == [f"s{i}" for i in range(7)]
    assert {k.key_id for k in snap.kms_keys} == key_ids and len(snap.kms_keys) == 5
    pages = [c for c in proxy.calls if c.operation in ("DescribeParameters", "ListSecrets", "ListKeys")]
    assert sum(c.operation == "DescribeParameters" for c in pages) == 3
    assert sum(c.operation == "ListSecrets" for c in pages) == 4
    assert sum(c.operation == "ListKeys" for c in pages) == 3


def test_managed_policy_missing_from_the_dump_is_fetched(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/boundaries/team-boundary"
    proxy.hooks[("iam", "GetAccountAuthorizationDetails")] = hide_gaad_policy(boundary)
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False)
    policy = next(p for p in snap.managed_policies if p.arn == boundary)
    assert (policy.name, policy.document, policy.default_version_id) == ("team-boundary", BOUNDARY, "v1")
    fetched = [c.params.get("PolicyArn") for c in proxy.calls if c.operation in ("GetPolicy", "GetPolicyVersion")]
    assert fetched == [boundary, boundary]


def test_organization_path_and_policies(moto: str) -> None:
    org = boto3.client("organizations", region_name=REGION, endpoint_url=moto)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=ACCOUNT, SourceParentId=root, DestinationParentId=ou)
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
    }
    policy_id = org.create_policy(
        Name="deny-leave", Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(deny)
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=ou)

    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False)

    (account,) = snap.accounts
    assert account.ou_path == (root, ou, ACCOUNT)
    assert account.management_account is True
    assert account.organization_id is not None and account.organization_id.startswith("o-")
    assert account.scps is not None and [[p.name for p in level] for level in account.scps] == [
        ["FullAWSAccess"],
        ["FullAWSAccess", "deny-leave"],
        ["FullAWSAccess"],
    ]
    assert account.scps[1][1] == OrgPolicy(policy_id=policy_id, name="deny-leave", document=deny, target_id=ou)
    assert (
        account.rcps is not None and [[p.name for p in level] for level in account.rcps] == [["RCPFullAWSAccess"]] * 3
    )


def test_coverage_entries_are_typed_records(moto: str) -> None:
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False)
    assert all(isinstance(c, Coverage) and c.source == "aws" for c in snap.coverage)
    assert {c.service for c in snap.coverage} >= {"iam", "organizations", "kms", "ssm", "secretsmanager", "eks"}


def test_describe_parameters_asks_for_the_largest_page(proxy: AwsProxy, moto: str) -> None:
    # The API returns 10 a page unless MaxResults says otherwise; 50 is its documented maximum.
    # (moto answers 10 a page whatever is asked, so this checks the request, not the page count.)
    boto3.client("ssm", region_name=REGION, endpoint_url=moto).put_parameter(Name="/x", Value="v", Type="String")
    collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False)
    asked = [c.params.get("MaxResults") for c in proxy.calls if c.operation == "DescribeParameters"]
    assert asked and all(m == 50 for m in asked)


def _tag_values(moto: str) -> None:
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=moto)
    ssm.put_parameter(Name="/app/db", Value="placeholder", Type="SecureString")
    ssm.put_parameter(Name="/app/url", Value="https://example.invalid", Type="String")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/app/db", Tags=[{"Key": "team", "Value": "app"}])
    kms = boto3.client("kms", region_name=REGION, endpoint_url=moto)
    kms.create_key(Description="tagged", Tags=[{"TagKey": "team", "TagValue": "app"}])


def test_tags_of_keys_and_parameters_are_collected(moto: str) -> None:
    _tag_values(moto)
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False, ssm_tags="always")
    assert {p.name: p.tags for p in snap.ssm_parameters} == {"/app/db": {"team": "app"}, "/app/url": {}}
    assert [k.tags for k in snap.kms_keys] == [{"team": "app"}]
    coverage = {(c.scope, c.service): c for c in snap.coverage}
    assert (
        coverage[(SCOPE, "ssm:ListTagsForResource")].status,
        coverage[(SCOPE, "ssm:ListTagsForResource")].count,
    ) == (
        "ok",
        2,
    )


def test_parameter_tags_are_collected_when_a_policy_conditions_on_them(moto: str) -> None:
    _tag_values(moto)
    iam = boto3.client("iam", region_name=REGION, endpoint_url=moto)
    iam.create_role(RoleName="abac", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    abac = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter*",
                "Resource": "*",
                "Condition": {"StringEquals": {"ssm:resourceTag/team": "${aws:PrincipalTag/team}"}},
            }
        ],
    }
    iam.put_role_policy(RoleName="abac", PolicyName="abac", PolicyDocument=json.dumps(abac))
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False)
    assert {p.name: p.tags for p in snap.ssm_parameters} == {"/app/db": {"team": "app"}, "/app/url": {}}
    never = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False, ssm_tags="never")
    assert all(p.tags is None for p in never.ssm_parameters)
    assert {c.status for c in never.coverage if c.service == "ssm:ListTagsForResource"} == {"skipped"}
