"""Deterministic synthetic organisations for benchmarks and scale tests.

``generate(size, seed=...)`` builds a :class:`~irsa_lib.snapshot.Snapshot` directly from the model
records: several AWS accounts in one organisation, EKS clusters with OIDC providers and node groups,
one "service" per customer-managed KMS key, and the reference delegation pattern per service
(controller ServiceAccount -> IRSA controller role -> ``sts:AssumeRole`` -> service role -> the
service's parameters and secrets + its CMK). A realistic share of services deviates from the pattern
in the ways the findings catalogue knows (wildcard IRSA subjects, account-root trusts, key policies
delegating to the root, ``aws/ssm``-encrypted parameters, path wildcards, ``name-*`` secret ARNs,
IMDS reachable from pods, cluster-wide secret readers, ungated KES namespaces...), so the access
graph has real paths of every kind, not one shape repeated.

The same seed and size always give the same snapshot (byte-identical JSON): every random choice
comes from one ``random.Random`` consumed in a fixed order, and nothing iterates over a set.

``seed_endpoint(endpoint_url, size)`` writes the records of one account of a (small) synthetic
organisation into a local AWS endpoint (moto in server mode) through boto3, for the collection
benchmark.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from irsa_lib.model import (
    ROLE_ARN_ANNOTATION,
    STS_REGIONAL_ANNOTATION,
    Account,
    Container,
    Coverage,
    CSIObject,
    CSIVolume,
    EKSCluster,
    ESOClusterExternalSecret,
    ESOController,
    ESODataFrom,
    ESODataItem,
    ESOExternalSecret,
    ESOSecretStore,
    Grant,
    GrantConstraints,
    Group,
    InlinePolicy,
    InstanceProfile,
    JWTAuth,
    K8sSecret,
    KESController,
    KESDataItem,
    KESExternalSecret,
    KMSKey,
    ManagedPolicy,
    MetadataOptions,
    Namespace,
    NodeGroup,
    OIDCProvider,
    OrgPolicy,
    PodIdentityAssociation,
    PolicyRule,
    RBACBinding,
    RBACRole,
    Role,
    SecretKeyRef,
    SecretProviderClass,
    SecretsManagerSecret,
    ServiceAccount,
    SSMParameter,
    StoreConditions,
    StoreRef,
    Subject,
    User,
    Workload,
)
from irsa_lib.snapshot import Snapshot

__all__ = ["SIZES", "OrgSize", "generate", "plan", "seed_endpoint"]

REGION = "us-east-1"
ORG_ID = "o-synth0rg42"
CREATED_AT = "2026-01-01T00:00:00Z"
MANAGEMENT_ACCOUNT = "123456789012"
"""Account 0; also moto's default account, so ``seed_endpoint`` can write it without assuming roles."""
MANAGED_KEYS_PER_ACCOUNT = 2  # aws/ssm and aws/secretsmanager


@dataclass(frozen=True)
class OrgSize:
    """Record counts of a synthetic organisation (exact, except namespaces/workloads which follow)."""

    name: str
    accounts: int
    clusters: int
    roles: int
    service_accounts: int
    ssm_parameters: int
    secrets: int
    kms_keys: int
    """All keys, including the two AWS managed keys (aws/ssm, aws/secretsmanager) of every account."""

    def scaled(self, name: str, factor: float) -> OrgSize:
        """The same shape with every count multiplied (clusters and accounts at least 1)."""
        return OrgSize(
            name=name,
            accounts=max(1, round(self.accounts * factor)),
            clusters=max(1, round(self.clusters * factor)),
            roles=round(self.roles * factor),
            service_accounts=round(self.service_accounts * factor),
            ssm_parameters=round(self.ssm_parameters * factor),
            secrets=round(self.secrets * factor),
            kms_keys=round(self.kms_keys * factor),
        )


LARGE = OrgSize(
    name="large",
    accounts=20,
    clusters=3,
    roles=5000,
    service_accounts=2000,
    ssm_parameters=20000,
    secrets=5000,
    kms_keys=1000,
)
SIZES: dict[str, OrgSize] = {
    "tiny": OrgSize("tiny", accounts=2, clusters=2, roles=90, service_accounts=40, ssm_parameters=160,
                    secrets=40, kms_keys=16),
    "collect": OrgSize("collect", accounts=1, clusters=1, roles=200, service_accounts=80,
                       ssm_parameters=1000, secrets=250, kms_keys=52),
    "small": LARGE.scaled("small", 0.25),
    "medium": LARGE.scaled("medium", 0.5),
    "large": LARGE,
    "xlarge": LARGE.scaled("xlarge", 2.0),
    "xxlarge": LARGE.scaled("xxlarge", 20.0),  # 100,000 roles, 40,000 SAs, 400,000 parameters (org_bench)
}  # fmt: skip
"""small -> medium -> large -> xlarge each double the organisation, so growth ratios read directly;
xxlarge (ten times xlarge) is the organisation the partitioned analysis is for (``benchmarks.org_bench``)."""

Pattern = Literal[
    "kes",  # reference: KES controller IRSA role -> service role (trust names the controller role)
    "kes-root",  # service role trusts the controller's account root (F08)
    "eso-jwt",  # ESO SecretStore, jwt auth with the app SA's IRSA role -> service role
    "eso-controller",  # ESO SecretStore without auth: the controller's own IRSA role -> service role
    "irsa-direct",  # the app SA's IRSA role reads directly (ASCP mount)
    "irsa-wildcard",  # the same, but the trust's sub is system:serviceaccount:*:* (F01)
    "pod-identity",  # EKS Pod Identity association (targetRoleArn when the role is in another account)
    "org-star",  # trust Principal AWS "*" guarded by aws:PrincipalOrgID
]

_PATTERN_WEIGHTS: tuple[tuple[Pattern, int], ...] = (
    ("kes", 48),
    ("kes-root", 8),
    ("eso-jwt", 14),
    ("eso-controller", 10),
    ("irsa-direct", 10),
    ("irsa-wildcard", 3),
    ("pod-identity", 5),
    ("org-star", 2),
)

_WORDS = (
    "billing", "payments", "orders", "ledger", "search", "catalog", "checkout", "identity", "profile",
    "inventory", "shipping", "pricing", "fraud", "reports", "notify", "media", "gateway", "auth",
    "loyalty", "invoices", "tax", "quotes", "reviews", "ads", "analytics", "export", "import", "sync",
)  # fmt: skip
_PARAM_LEAVES = ("db/password", "db/username", "api/key", "api/token", "smtp/password", "jwt/signing-key",
                 "oauth/client-secret", "cache/auth", "queue/credentials", "feature/flags")  # fmt: skip
_SECRET_LEAVES = ("database", "stripe", "sendgrid", "oauth", "tls", "webhook", "s3-hmac", "datadog")

# --- policy documents ------------------------------------------------------------------------------


def _doc(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def _allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def _root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def _param_arn(account: str, name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{account}:parameter/{name.lstrip('/')}"


def _irsa_trust(provider_arn: str, issuer_host: str, sub: str, *, aud: bool = True) -> dict[str, Any]:
    op = "StringLike" if "*" in sub or "?" in sub else "StringEquals"
    cond: dict[str, dict[str, str]] = {op: {f"{issuer_host}:sub": sub}}
    if aud:
        cond.setdefault("StringEquals", {})[f"{issuer_host}:aud"] = "sts.amazonaws.com"
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": cond,
        }
    )


def _aws_trust(principals: str | list[str], **extra: Any) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole", **extra})


def _service_trust(service: str) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def _pod_identity_trust(account: str | None) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    if account is not None:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return _doc(stmt)


def _aws_managed_policies() -> tuple[ManagedPolicy, ...]:
    """AWS managed policies the synthetic roles attach, with their documents abridged but faithful
    in what matters here (what they allow on SSM, Secrets Manager, KMS and STS)."""

    def mp(name: str, doc: dict[str, Any], path: str = "/") -> ManagedPolicy:
        return ManagedPolicy(
            arn=f"arn:aws:iam::aws:policy{path}{name}",
            name=name,
            document=doc,
            path=path,
            default_version_id="v1",
            aws_managed=True,
        )

    return (
        mp("AdministratorAccess", _doc(_allow("*", "*"))),
        mp(
            "PowerUserAccess",
            _doc(
                {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
                _allow(["iam:CreateServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"], "*"),
            ),
        ),
        mp(
            "ReadOnlyAccess",
            _doc(
                _allow(
                    [
                        "ssm:Describe*",
                        "ssm:Get*",
                        "ssm:List*",
                        "kms:Describe*",
                        "kms:Get*",
                        "kms:List*",
                        "secretsmanager:Describe*",
                        "secretsmanager:GetResourcePolicy",
                        "secretsmanager:List*",
                        "iam:Get*",
                        "iam:List*",
                        "eks:Describe*",
                        "eks:List*",
                        "ec2:Describe*",
                    ],
                    "*",
                )
            ),
        ),
        mp(
            "AmazonSSMManagedInstanceCore",
            _doc(
                _allow(
                    [
                        "ssm:DescribeAssociation",
                        "ssm:GetDeployablePatchSnapshotForInstance",
                        "ssm:GetDocument",
                        "ssm:DescribeDocument",
                        "ssm:GetManifest",
                        "ssm:GetParameter",
                        "ssm:GetParameters",
                        "ssm:ListAssociations",
                        "ssm:ListInstanceAssociations",
                        "ssm:PutInventory",
                        "ssm:UpdateInstanceInformation",
                    ],
                    "*",
                ),
                _allow(["ssmmessages:*", "ec2messages:*"], "*"),
            ),
        ),
        mp(
            "AmazonEKSWorkerNodePolicy",
            _doc(_allow(["ec2:Describe*", "eks:DescribeCluster", "eks-auth:AssumeRoleForPodIdentity"], "*")),
        ),
        mp("AmazonEKS_CNI_Policy", _doc(_allow(["ec2:AssignPrivateIpAddresses", "ec2:Describe*"], "*"))),
        mp(
            "AmazonEC2ContainerRegistryReadOnly",
            _doc(_allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "*")),
        ),
    )


AWS_POLICY = "arn:aws:iam::aws:policy/"

# --- the plan: how counts split into structure and filler ----------------------------------------


@dataclass(frozen=True)
class Plan:
    """How a size's counts are split; ``generate`` follows it exactly."""

    size: OrgSize
    accounts: tuple[str, ...]
    services: int
    cluster_modes: tuple[Literal["kes", "eso", "both"], ...]
    structural_roles: int
    filler_roles: int
    structural_service_accounts: int
    extra_service_accounts: int


def _account_ids(n: int) -> tuple[str, ...]:
    return (MANAGEMENT_ACCOUNT, *(f"{210000000000 + 1011 * i:012d}" for i in range(1, n)))


def plan(size: OrgSize) -> Plan:
    """Split a size into structural records and filler; raise ValueError when it cannot hold."""
    accounts = _account_ids(size.accounts)
    services = size.kms_keys - MANAGED_KEYS_PER_ACCOUNT * size.accounts
    if services < 1:
        raise ValueError(f"{size.name}: {size.kms_keys} KMS keys leave no customer key for a service")
    modes: tuple[Literal["kes", "eso", "both"], ...] = tuple(
        ("both", "kes", "eso")[c % 3] for c in range(size.clusters)
    )
    # per account: admin, readonly, poweruser, kms-admin, breakglass; per cluster: node role + controller roles;
    # per service: the service role (+ an app IRSA role for eso-jwt, + a pod-identity hop when cross-account:
    # counted at generation time from the patterns, which come first from the random stream).
    per_cluster = sum(1 + (m in ("kes", "both")) + (m in ("eso", "both")) for m in modes)
    base = 5 * size.accounts + per_cluster + 1  # + platform-shared-role
    controller_sas = sum((m in ("kes", "both")) + (m in ("eso", "both")) for m in modes)
    structural_sas = controller_sas + services
    if structural_sas > size.service_accounts:
        raise ValueError(f"{size.name}: {size.service_accounts} service accounts < {structural_sas} needed")
    return Plan(
        size=size,
        accounts=accounts,
        services=services,
        cluster_modes=modes,
        structural_roles=base + services,  # lower bound; extra per-pattern roles come out of the filler
        filler_roles=size.roles - base - services,
        structural_service_accounts=structural_sas,
        extra_service_accounts=size.service_accounts - structural_sas,
    )


# --- generation ------------------------------------------------------------------------------------


@dataclass
class _Cluster:
    name: str
    account: str
    mode: Literal["kes", "eso", "both"]
    oidc_id: str
    node_role: str
    ssm_core_on_nodes: bool
    index: int = 0
    kes_role: str | None = None
    eso_role: str | None = None

    @property
    def issuer_host(self) -> str:
        return f"oidc.eks.{REGION}.amazonaws.com/id/{self.oidc_id}"

    @property
    def provider_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:oidc-provider/{self.issuer_host}"

    @property
    def arn(self) -> str:
        return f"arn:aws:eks:{REGION}:{self.account}:cluster/{self.name}"


@dataclass
class _Service:
    index: int
    name: str
    account: str
    cluster: _Cluster
    pattern: Pattern
    role_arn: str
    key_arn: str
    key_id: str
    alias: str
    app_role_arn: str | None = None
    params: list[str] = field(default_factory=list)
    secret_arns: list[str] = field(default_factory=list)
    secret_names: list[str] = field(default_factory=list)


class _Builder:
    """Accumulates records in a fixed order; one instance per ``generate`` call."""

    def __init__(self, size: OrgSize, seed: int) -> None:
        self.plan = plan(size)
        self.size = size
        self.rng = random.Random(f"irsa-synthetic:{seed}:{size.name}")
        self.roles: list[Role] = []
        self.users: list[User] = []
        self.groups: list[Group] = []
        self.policies: list[ManagedPolicy] = list(_aws_managed_policies())
        self.instance_profiles: list[InstanceProfile] = []
        self.oidc: list[OIDCProvider] = []
        self.keys: list[KMSKey] = []
        self.params: list[SSMParameter] = []
        self.secrets: list[SecretsManagerSecret] = []
        self.clusters: list[EKSCluster] = []
        self.associations: list[PodIdentityAssociation] = []
        self.node_groups: list[NodeGroup] = []
        self.namespaces: list[Namespace] = []
        self.sas: list[ServiceAccount] = []
        self.workloads: list[Workload] = []
        self.k8s_secrets: list[K8sSecret] = []
        self.rbac_roles: list[RBACRole] = []
        self.rbac_bindings: list[RBACBinding] = []
        self.kes: list[KESExternalSecret] = []
        self.kes_controllers: list[KESController] = []
        self.eso_stores: list[ESOSecretStore] = []
        self.eso_es: list[ESOExternalSecret] = []
        self.eso_ces: list[ESOClusterExternalSecret] = []
        self.eso_controllers: list[ESOController] = []
        self.spcs: list[SecretProviderClass] = []
        self.c: list[_Cluster] = []
        self.svc: list[_Service] = []
        self.provider_arns: set[str] = set()

    # random helpers -----------------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def token(self, n: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def pattern(self) -> Pattern:
        total = sum(w for _, w in _PATTERN_WEIGHTS)
        x = self.rng.randrange(total)
        for name, w in _PATTERN_WEIGHTS:
            if x < w:
                return name
            x -= w
        raise AssertionError("unreachable")

    def add_role(
        self,
        account: str,
        name: str,
        trust: dict[str, Any],
        *,
        path: str = "/",
        inline: Sequence[tuple[str, dict[str, Any]]] = (),
        attached: Sequence[str] = (),
        boundary: str | None = None,
        tags: Mapping[str, str] | None = None,
        instance_profile: bool = False,
    ) -> str:
        arn = role_arn(account, name, path)
        profiles: tuple[str, ...] = ()
        if instance_profile:
            ip = f"arn:aws:iam::{account}:instance-profile/{name}"
            self.instance_profiles.append(InstanceProfile(arn=ip, name=name, account_id=account, role_arns=(arn,)))
            profiles = (ip,)
        self.roles.append(
            Role(
                arn=arn,
                name=name,
                role_id="AROA" + self.token(17),
                account_id=account,
                trust_policy=trust,
                path=path,
                inline_policies=tuple(InlinePolicy(name=n, document=d) for n, d in inline),
                attached_policy_arns=tuple(attached),
                permissions_boundary_arn=boundary,
                tags=dict(tags or {}),
                instance_profile_arns=profiles,
            )
        )
        return arn

    # the organisation ---------------------------------------------------------------------------
    def build(self) -> Snapshot:
        self.org_and_accounts()
        self.build_clusters()
        self.build_services()
        self.build_parameters()
        self.build_secrets()
        self.build_service_roles_and_k8s()
        self.build_extra_service_accounts()
        self.build_filler_roles()
        self.build_rbac()
        self._check_counts()
        return Snapshot(
            created_at=CREATED_AT,
            accounts=self.accounts,
            roles=tuple(self.roles),
            users=tuple(self.users),
            groups=tuple(self.groups),
            managed_policies=tuple(self.policies),
            instance_profiles=tuple(self.instance_profiles),
            oidc_providers=tuple(self.oidc),
            kms_keys=tuple(self.keys),
            ssm_parameters=tuple(self.params),
            secrets=tuple(self.secrets),
            clusters=tuple(self.clusters),
            pod_identity_associations=tuple(self.associations),
            node_groups=tuple(self.node_groups),
            namespaces=tuple(self.namespaces),
            service_accounts=tuple(self.sas),
            workloads=tuple(self.workloads),
            k8s_secrets=tuple(self.k8s_secrets),
            rbac_roles=tuple(self.rbac_roles),
            rbac_bindings=tuple(self.rbac_bindings),
            kes_external_secrets=tuple(self.kes),
            kes_controllers=tuple(self.kes_controllers),
            eso_stores=tuple(self.eso_stores),
            eso_external_secrets=tuple(self.eso_es),
            eso_cluster_external_secrets=tuple(self.eso_ces),
            eso_controllers=tuple(self.eso_controllers),
            secret_provider_classes=tuple(self.spcs),
            coverage=self.coverage(),
        )

    def org_and_accounts(self) -> None:
        full = OrgPolicy(policy_id="p-FullAWSAccess", name="FullAWSAccess", document=_doc(_allow("*", "*")),
                         target_id="r-root")  # fmt: skip
        guard = OrgPolicy(
            policy_id="p-workloadguard",
            name="workload-guardrails",
            target_id="ou-workloads",
            document=_doc(
                {"Effect": "Deny", "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"], "Resource": "*",
                 "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/breakglass-*"}}},
                {"Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*"],
                 "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": [REGION, "eu-west-1"]}}},
            ),
        )  # fmt: skip
        rcp_full = OrgPolicy(policy_id="p-RCPFullAWSAccess", name="RCPFullAWSAccess",
                             document=_doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}),
                             target_id="r-root")  # fmt: skip
        rcp_org = OrgPolicy(
            policy_id="p-orgonly",
            name="secrets-org-only",
            target_id="ou-workloads",
            document=_doc(
                {"Effect": "Deny", "Principal": "*", "Action": ["secretsmanager:*", "kms:*", "sts:AssumeRole"],
                 "Resource": "*",
                 "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                               "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}
            ),
        )  # fmt: skip
        accounts = []
        for i, acct in enumerate(self.plan.accounts):
            mgmt = i == 0
            path = ("r-root", acct) if mgmt else ("r-root", "ou-workloads", acct)
            scps = ((full,), (full,)) if mgmt else ((full,), (full, guard), (full,))
            rcps = ((rcp_full,), ()) if mgmt else ((rcp_full,), (rcp_org,), ())
            accounts.append(
                Account(account_id=acct, alias=f"synth-{i:03d}", organization_id=ORG_ID, management_account=mgmt,
                        ou_path=path, scps=scps, rcps=rcps, regions=(REGION,))
            )  # fmt: skip
            self.managed_keys(acct)
            self.account_roles(acct, i)
        self.accounts = tuple(accounts)

    def managed_keys(self, acct: str) -> None:
        for svc, alias in (("ssm", "aws/ssm"), ("secretsmanager", "aws/secretsmanager")):
            kid = self.uuid()
            policy = _doc(
                {
                    "Sid": "Allow access through the service for all principals in the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                               "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:CallerAccount": acct,
                                                   "kms:ViaService": f"{svc}.{REGION}.amazonaws.com"}},
                },
                {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
                 "Principal": {"AWS": _root(acct)}, "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                 "Resource": "*"},
            )  # fmt: skip
            self.keys.append(
                KMSKey(arn=f"arn:aws:kms:{REGION}:{acct}:key/{kid}", key_id=kid, account_id=acct, region=REGION,
                       manager="AWS", aliases=(f"alias/{alias}",), rotation_enabled=True, policy=policy,
                       description=f"Default key that protects my {svc} data when no other key is defined")
            )  # fmt: skip

    def account_roles(self, acct: str, i: int) -> None:
        tooling = self.plan.accounts[0]
        self.add_role(acct, "admin", _aws_trust(_root(tooling)), attached=[AWS_POLICY + "AdministratorAccess"])
        self.add_role(acct, "readonly", _aws_trust(_root(tooling)), attached=[AWS_POLICY + "ReadOnlyAccess"])
        self.add_role(acct, "poweruser", _aws_trust(_root(acct)), attached=[AWS_POLICY + "PowerUserAccess"])
        self.add_role(
            acct, "kms-admin", _aws_trust(_root(acct)),
            inline=[("key-admin", _doc(_allow(["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*",
                                               "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Get*",
                                               "kms:TagResource", "kms:ScheduleKeyDeletion"], "*")))],
        )  # fmt: skip
        self.add_role(
            acct, f"breakglass-{i:03d}",
            _aws_trust(_root(tooling), Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            attached=[AWS_POLICY + "AdministratorAccess"],
        )  # fmt: skip
        boundary = ManagedPolicy(
            arn=f"arn:aws:iam::{acct}:policy/boundary/workload-boundary",
            name="workload-boundary",
            path="/boundary/",
            default_version_id="v3",
            document=_doc(
                _allow(["ssm:GetParameter*", "ssm:DescribeParameters", "secretsmanager:GetSecretValue",
                        "secretsmanager:DescribeSecret", "kms:Decrypt", "kms:DescribeKey", "sts:AssumeRole",
                        "sts:TagSession", "s3:GetObject", "s3:PutObject", "sqs:*", "dynamodb:*", "logs:*"], "*"),
                {"Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
            ),
        )  # fmt: skip
        self.policies.append(boundary)
        if i == 0:
            group = Group(arn=f"arn:aws:iam::{acct}:group/platform-admins", name="platform-admins",
                          group_id="AGPA" + self.token(17), account_id=acct,
                          attached_policy_arns=(AWS_POLICY + "AdministratorAccess",))  # fmt: skip
            self.groups.append(group)
            self.users.append(
                User(arn=f"arn:aws:iam::{acct}:user/terraform", name="terraform", user_id="AIDA" + self.token(17),
                     account_id=acct, group_names=("platform-admins",))
            )  # fmt: skip
            self.users.append(
                User(arn=f"arn:aws:iam::{acct}:user/legacy-ci", name="legacy-ci", user_id="AIDA" + self.token(17),
                     account_id=acct,
                     inline_policies=(InlinePolicy(name="assume-any", document=_doc(_allow("sts:AssumeRole", "*"))),))
            )  # fmt: skip

    def build_clusters(self) -> None:
        for c, mode in enumerate(self.plan.cluster_modes):
            acct = self.plan.accounts[c % len(self.plan.accounts)]
            name = f"prod-{c:02d}"
            cl = _Cluster(
                name=name,
                account=acct,
                mode=mode,
                oidc_id=self.token(32, string.hexdigits[:16].upper()),
                node_role=role_arn(acct, f"eks-node-{name}"),
                ssm_core_on_nodes=c % 3 == 1,
                index=c,
            )
            self.c.append(cl)
            self.clusters.append(
                EKSCluster(name=name, arn=cl.arn, account_id=acct, region=REGION, version="1.31",
                           oidc_issuer=f"https://{cl.issuer_host}", status="ACTIVE")
            )  # fmt: skip
            self.oidc_provider_in(cl, acct)
            attached = [AWS_POLICY + "AmazonEKSWorkerNodePolicy", AWS_POLICY + "AmazonEKS_CNI_Policy",
                        AWS_POLICY + "AmazonEC2ContainerRegistryReadOnly"]  # fmt: skip
            if cl.ssm_core_on_nodes:
                attached.append(AWS_POLICY + "AmazonSSMManagedInstanceCore")
            self.add_role(acct, f"eks-node-{name}", _service_trust("ec2.amazonaws.com"), attached=attached,
                          instance_profile=True)  # fmt: skip
            for ng, opts in (
                ("system", MetadataOptions(http_tokens="required", hop_limit=1, http_endpoint="enabled")),
                ("general", MetadataOptions(http_tokens="optional", hop_limit=2, http_endpoint="enabled")
                 if c % 2 == 0 else MetadataOptions(http_tokens="required", hop_limit=2, http_endpoint="enabled")),
            ):  # fmt: skip
                self.node_groups.append(
                    NodeGroup(cluster_name=name, name=ng, account_id=acct, region=REGION, node_role_arn=cl.node_role,
                              arn=f"arn:aws:eks:{REGION}:{acct}:nodegroup/{name}/{ng}/{self.uuid()}",
                              metadata_options=opts, metadata_source="launch-template")
                )  # fmt: skip
            self.namespaces.append(Namespace(cluster=name, name="kube-system",
                                             labels={"kubernetes.io/metadata.name": "kube-system"}))  # fmt: skip
            if mode in ("kes", "both"):
                self.kes_controller(cl)
            if mode in ("eso", "both"):
                self.eso_controller(cl)

    def oidc_provider_in(self, cl: _Cluster, account: str) -> str:
        """The cluster's OIDC provider in ``account`` (cross-account IRSA registers the issuer there too)."""
        arn = f"arn:aws:iam::{account}:oidc-provider/{cl.issuer_host}"
        if arn not in self.provider_arns:
            self.provider_arns.add(arn)
            self.oidc.append(OIDCProvider(arn=arn, url=cl.issuer_host, account_id=account,
                                          client_ids=("sts.amazonaws.com",)))  # fmt: skip
        return arn

    def kes_controller(self, cl: _Cluster) -> None:
        ns, sa = "external-secrets", "external-secrets-sa"
        # F04: the controller role itself can read parameters of every service. Both switches follow the
        # cluster index, not the dice, so row counts rise steadily with size and growth ratios measure code.
        wide = cl.index % 2 == 0
        inline: list[tuple[str, dict[str, Any]]] = [
            ("assume-service-roles", _doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/svc/*-service-role")))
        ]
        if wide:
            inline.append(("legacy-direct-read", _doc(_allow(["ssm:GetParameter*", "kms:Decrypt"], "*"))))
        cl.kes_role = self.add_role(
            cl.account, f"external-secrets-role-{cl.name}",
            _irsa_trust(cl.provider_arn, cl.issuer_host, f"system:serviceaccount:{ns}:{sa}"), inline=inline,
        )  # fmt: skip
        self.namespaces.append(Namespace(cluster=cl.name, name=ns, labels={"kubernetes.io/metadata.name": ns}))
        self.sas.append(
            ServiceAccount(cluster=cl.name, namespace=ns, name=sa,
                           annotations={ROLE_ARN_ANNOTATION: cl.kes_role, STS_REGIONAL_ANNOTATION: "true"})
        )  # fmt: skip
        env = {"AWS_REGION": REGION, "POLLER_INTERVAL_MILLISECONDS": "10000"}
        enforce = cl.index % 2 == 1
        if enforce:
            env["ENFORCE_NAMESPACE_ANNOTATIONS"] = "true"
        self.workloads.append(
            Workload(cluster=cl.name, namespace=ns, name="kubernetes-external-secrets", kind="Deployment",
                     service_account=sa, fs_group=65534,
                     containers=(Container(name="kes", image="ghcr.io/external-secrets/kubernetes-external-secrets:8.5.5",
                                           env=env, env_names=tuple(env)),))
        )  # fmt: skip
        self.kes_controllers.append(
            KESController(cluster=cl.name, namespace=ns, name="kubernetes-external-secrets", service_account=sa,
                          aws_region=REGION, enforce_namespace_annotations=enforce)
        )  # fmt: skip
        self.rbac_roles.append(
            RBACRole(cluster=cl.name, name="kubernetes-external-secrets", kind="ClusterRole",
                     rules=(PolicyRule(verbs=("create", "update", "get"), api_groups=("",), resources=("secrets",)),
                            PolicyRule(verbs=("get", "watch", "list"), api_groups=("",), resources=("namespaces",)),
                            PolicyRule(verbs=("get", "watch", "list"), api_groups=("kubernetes-client.io",),
                                       resources=("externalsecrets",))))
        )  # fmt: skip
        self.rbac_bindings.append(
            RBACBinding(cluster=cl.name, name="kubernetes-external-secrets", kind="ClusterRoleBinding",
                        role_kind="ClusterRole", role_name="kubernetes-external-secrets",
                        subjects=(Subject(kind="ServiceAccount", name=sa, namespace=ns),))
        )  # fmt: skip

    def eso_controller(self, cl: _Cluster) -> None:
        ns, sa = "external-secrets-system", "external-secrets"
        cl.eso_role = self.add_role(
            cl.account, f"eso-controller-{cl.name}",
            _irsa_trust(cl.provider_arn, cl.issuer_host, f"system:serviceaccount:{ns}:{sa}"),
            inline=[("assume-service-roles", _doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/svc/*")))],
        )  # fmt: skip
        self.namespaces.append(Namespace(cluster=cl.name, name=ns, labels={"kubernetes.io/metadata.name": ns}))
        self.sas.append(ServiceAccount(cluster=cl.name, namespace=ns, name=sa,
                                       annotations={ROLE_ARN_ANNOTATION: cl.eso_role}))  # fmt: skip
        self.workloads.append(
            Workload(cluster=cl.name, namespace=ns, name="external-secrets", kind="Deployment", service_account=sa,
                     containers=(Container(name="eso", image="ghcr.io/external-secrets/external-secrets:v2.9.0"),))
        )  # fmt: skip
        self.eso_controllers.append(ESOController(cluster=cl.name, namespace=ns, name="external-secrets",
                                                  service_account=sa))  # fmt: skip
        self.rbac_roles.append(
            RBACRole(cluster=cl.name, name="external-secrets-controller", kind="ClusterRole",
                     rules=(PolicyRule(verbs=("get", "list", "watch", "create", "update", "delete", "patch"),
                                       api_groups=("",), resources=("secrets",)),
                            PolicyRule(verbs=("create",), api_groups=("",), resources=("serviceaccounts/token",))))
        )  # fmt: skip
        self.rbac_bindings.append(
            RBACBinding(cluster=cl.name, name="external-secrets-controller", kind="ClusterRoleBinding",
                        role_kind="ClusterRole", role_name="external-secrets-controller",
                        subjects=(Subject(kind="ServiceAccount", name=sa, namespace=ns),))
        )  # fmt: skip

    def build_services(self) -> None:
        n_acct = len(self.plan.accounts)
        for i in range(self.plan.services):
            name = f"{_WORDS[i % len(_WORDS)]}-{i:04d}"
            acct = self.plan.accounts[i % n_acct]
            cl = self.c[i % len(self.c)]
            pattern = self.pattern()
            if pattern in ("kes", "kes-root") and cl.mode == "eso":
                pattern = "eso-controller" if pattern == "kes-root" else "eso-jwt"
            elif pattern in ("eso-jwt", "eso-controller") and cl.mode == "kes":
                pattern = "kes"
            kid = self.uuid()
            svc = _Service(
                index=i, name=name, account=acct, cluster=cl, pattern=pattern,
                role_arn=role_arn(acct, f"{name}-service-role", "/svc/"),
                key_arn=f"arn:aws:kms:{REGION}:{acct}:key/{kid}", key_id=kid, alias=f"alias/{name}",
            )  # fmt: skip
            self.svc.append(svc)
            self.service_key(svc)

    def service_key(self, s: _Service) -> None:
        acct = s.account
        style = self.rng.random()
        admin = {"Sid": "KeyAdministration", "Effect": "Allow", "Principal": {"AWS": role_arn(acct, "kms-admin")},
                 "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                            "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                            "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"], "Resource": "*"}  # fmt: skip
        use = {"Sid": "ServiceDecrypt", "Effect": "Allow", "Principal": {"AWS": s.role_arn},
               "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}  # fmt: skip
        if self.chance(0.5):
            use["Condition"] = {
                "StringEquals": {
                    "kms:ViaService": [f"ssm.{REGION}.amazonaws.com", f"secretsmanager.{REGION}.amazonaws.com"]
                }
            }
        statements: list[dict[str, Any]]
        if style < 0.6:  # scoped: no root delegation
            statements = [admin, use]
        elif style < 0.95:  # the console default: root delegates to IAM (F07 when IAM is broad)
            statements = [{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": _root(acct)},
                           "Action": "kms:*", "Resource": "*"}, use]  # fmt: skip
        else:  # open to the whole account through SSM
            statements = [admin, use, {"Sid": "AccountViaSSM", "Effect": "Allow", "Principal": {"AWS": "*"},
                                       "Action": "kms:Decrypt", "Resource": "*",
                                       "Condition": {"StringEquals": {"kms:CallerAccount": acct,
                                                                      "kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}}]  # fmt: skip
        grants: tuple[Grant, ...] = ()
        if self.chance(0.1):
            grants = (
                Grant(grant_id=self.token(64, "0123456789abcdef"), name=f"{s.name}-batch",
                      grantee_principal=role_arn(acct, f"batch-{s.index:04d}"), operations=("Decrypt",),
                      issuing_account=_root(acct),
                      constraints=GrantConstraints(encryption_context_subset={
                          "PARAMETER_ARN": _param_arn(acct, f"/{s.name}/db/password")}) if self.chance(0.5) else None),
            )  # fmt: skip
        self.keys.append(
            KMSKey(arn=s.key_arn, key_id=s.key_id, account_id=acct, region=REGION, manager="CUSTOMER",
                   aliases=(s.alias,), rotation_enabled=self.chance(0.8), policy=_doc(*statements), grants=grants,
                   description=f"{s.name} secrets")
        )  # fmt: skip

    def build_parameters(self) -> None:
        n = len(self.svc)
        for j in range(self.size.ssm_parameters):
            s = self.svc[j % n]
            round_ = j // n
            leaf = _PARAM_LEAVES[round_ % len(_PARAM_LEAVES)]
            if round_ >= len(_PARAM_LEAVES):
                leaf = f"{leaf}-{round_ // len(_PARAM_LEAVES)}"
            name = f"/{s.name}/{leaf}"
            r = self.rng.random()
            key_id: str | None
            if r < 0.08:
                ptype: Literal["String", "SecureString"] = "String"
                key_id = None
            else:
                ptype = "SecureString"
                k = self.rng.random()
                # DescribeParameters returns KeyId as given at creation: alias, key id or key ARN
                key_id = ("alias/aws/ssm" if k < 0.08 else s.alias if k < 0.4 else s.key_id if k < 0.6
                          else s.key_arn)  # fmt: skip
            tier = "Standard"
            policies: tuple[dict[str, Any], ...] = ()
            if ptype == "SecureString" and key_id != "alias/aws/ssm" and self.chance(0.01):
                other = self.plan.accounts[(self.plan.accounts.index(s.account) + 1) % len(self.plan.accounts)]
                tier = "Advanced"
                policies = (
                    _doc({"Sid": "ShareWithAnalytics", "Effect": "Allow", "Principal": {"AWS": _root(other)},
                          "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                          "Resource": _param_arn(s.account, name)}),
                )  # fmt: skip
            self.params.append(
                SSMParameter(arn=_param_arn(s.account, name), name=name, account_id=s.account, region=REGION,
                             type=ptype, tier=tier, key_id=key_id, resource_policies=policies, version=1 + j % 4,
                             last_modified_user=f"arn:aws:iam::{s.account}:user/terraform")
            )  # fmt: skip
            s.params.append(name)

    def build_secrets(self) -> None:
        n = len(self.svc)
        for j in range(self.size.secrets):
            s = self.svc[j % n]
            round_ = j // n
            leaf = _SECRET_LEAVES[round_ % len(_SECRET_LEAVES)]
            if round_ >= len(_SECRET_LEAVES):
                leaf = f"{leaf}-{round_ // len(_SECRET_LEAVES)}"
            name = f"{s.name}/{leaf}"
            arn = f"arn:aws:secretsmanager:{REGION}:{s.account}:secret:{name}-{self.token(6, string.ascii_letters + string.digits)}"
            kms = None if self.chance(0.15) else (s.key_arn if self.chance(0.7) else s.alias)
            policy = None
            if kms is not None and self.chance(0.05):
                other = self.plan.accounts[(self.plan.accounts.index(s.account) + 2) % len(self.plan.accounts)]
                policy = _doc({"Effect": "Allow", "Principal": {"AWS": role_arn(other, "readonly")},
                               "Action": "secretsmanager:GetSecretValue", "Resource": "*"})  # fmt: skip
            self.secrets.append(
                SecretsManagerSecret(arn=arn, name=name, account_id=s.account, region=REGION, kms_key_id=kms,
                                     resource_policy=policy, tags={"service": s.name})
            )  # fmt: skip
            s.secret_arns.append(arn)
            s.secret_names.append(name)

    def service_identity_policy(self, s: _Service) -> dict[str, Any]:
        acct = s.account
        r = self.rng.random()
        statements: list[dict[str, Any]] = []
        ssm_actions = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
        if r < 0.1:  # exact ARNs
            statements.append(_allow(ssm_actions[:2], [_param_arn(acct, p) for p in s.params[:25]]))
        elif r < 0.15:  # F15: every parameter of every account
            statements.append(_allow("ssm:GetParameter*", "arn:aws:ssm:*:*:parameter/*"))
        elif r < 0.18:  # prefix without a slash over-matches sibling services (billing-0001 vs billing-00010)
            statements.append(_allow(ssm_actions, f"arn:aws:ssm:{REGION}:{acct}:parameter/{s.name}*"))
        else:  # the reference: the service's subtree
            statements.append(_allow(ssm_actions, [f"arn:aws:ssm:{REGION}:{acct}:parameter/{s.name}",
                                                   f"arn:aws:ssm:{REGION}:{acct}:parameter/{s.name}/*"]))  # fmt: skip
        if s.secret_names:
            if self.chance(0.7):
                resources = [f"arn:aws:secretsmanager:{REGION}:{acct}:secret:{n}-??????" for n in s.secret_names[:10]]
            else:  # F17: name-* over-matches
                resources = [f"arn:aws:secretsmanager:{REGION}:{acct}:secret:{s.name}/*"]
            statements.append(_allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources))
        decrypt = _allow("kms:Decrypt", s.key_arn)
        if self.chance(0.7):
            decrypt["Condition"] = {
                "StringEquals": {
                    "kms:ViaService": [f"ssm.{REGION}.amazonaws.com", f"secretsmanager.{REGION}.amazonaws.com"]
                }
            }
        statements.append(decrypt)
        if self.chance(0.1):  # ABAC on shared parameters
            statements.append(
                _allow("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{acct}:parameter/shared/*",
                       Condition={"StringEquals": {"aws:PrincipalTag/team": _WORDS[s.index % len(_WORDS)]}})
            )  # fmt: skip
        if self.chance(0.05):
            statements.append(
                {"Effect": "Deny", "Action": "*", "Resource": "*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                               "Bool": {"aws:ViaAWSService": "false"}}}
            )  # fmt: skip
        if self.chance(0.03):  # F16
            statements.append(_allow("ssm:GetParameterHistory", f"arn:aws:ssm:{REGION}:{acct}:parameter/*"))
        return _doc(*statements)

    def build_service_roles_and_k8s(self) -> None:
        for s in self.svc:
            cl = s.cluster
            ns = s.name
            app_sa = s.name
            boundary = f"arn:aws:iam::{s.account}:policy/boundary/workload-boundary" if self.chance(0.3) else None
            tags = {"service": s.name, "team": _WORDS[s.index % len(_WORDS)]}
            identity = self.service_identity_policy(s)
            sa_annotations: dict[str, str] = {}
            p = s.pattern
            if p == "kes":
                assert cl.kes_role is not None
                trust = _aws_trust(cl.kes_role)
            elif p == "kes-root":
                trust = _aws_trust(_root(cl.account))
            elif p == "eso-controller":
                assert cl.eso_role is not None
                trust = _aws_trust(cl.eso_role)
            elif p == "eso-jwt":
                s.app_role_arn = self.add_role(
                    cl.account, f"{s.name}-eso-auth",
                    _irsa_trust(cl.provider_arn, cl.issuer_host, f"system:serviceaccount:{ns}:{app_sa}",
                                aud=self.chance(0.9)),
                    inline=[("assume", _doc(_allow("sts:AssumeRole", s.role_arn)))],
                )  # fmt: skip
                trust = _aws_trust(s.app_role_arn)
                sa_annotations[ROLE_ARN_ANNOTATION] = s.app_role_arn
            elif p in ("irsa-direct", "irsa-wildcard"):
                sub = "system:serviceaccount:*:*" if p == "irsa-wildcard" else f"system:serviceaccount:{ns}:{app_sa}"
                provider = self.oidc_provider_in(cl, s.account)
                trust = _irsa_trust(provider, cl.issuer_host, sub, aud=self.chance(0.85))
                sa_annotations[ROLE_ARN_ANNOTATION] = s.role_arn
            elif p == "pod-identity":
                if s.account == cl.account:
                    trust = _pod_identity_trust(cl.account if self.chance(0.5) else None)
                    assoc_role, target = s.role_arn, None
                else:
                    hop = self.add_role(cl.account, f"{s.name}-pod-identity", _pod_identity_trust(cl.account),
                                        inline=[("chain", _doc(_allow("sts:AssumeRole", s.role_arn)))])  # fmt: skip
                    ext = self.uuid()
                    trust = _aws_trust(hop, Condition={"StringEquals": {"sts:ExternalId": ext}})
                    assoc_role, target = hop, s.role_arn
                aid = "a-" + self.token(17, string.ascii_lowercase + string.digits)
                self.associations.append(
                    PodIdentityAssociation(
                        association_arn=f"arn:aws:eks:{REGION}:{cl.account}:podidentityassociation/{cl.name}/{aid}",
                        association_id=aid, cluster_name=cl.name, namespace=ns, service_account=app_sa,
                        role_arn=assoc_role, target_role_arn=target, account_id=cl.account, region=REGION,
                        external_id=None if target is None else trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
                    )
                )  # fmt: skip
            else:  # org-star
                trust = _aws_trust("*", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}})
            if self.chance(0.01):  # F19: a dangling principal id left by a deleted role
                trust["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "AROA" + self.token(17)},
                                           "Action": "sts:AssumeRole"})  # fmt: skip
            self.add_role(s.account, f"{s.name}-service-role", trust, path="/svc/",
                          inline=[(f"read-{s.name}", identity)], boundary=boundary, tags=tags)  # fmt: skip
            self.service_k8s(s, sa_annotations)

    def service_k8s(self, s: _Service, sa_annotations: dict[str, str]) -> None:
        cl, ns, app_sa = s.cluster, s.name, s.name
        ann: dict[str, str] = {}
        if cl.mode in ("kes", "both"):
            g = self.rng.random()
            if g < 0.7:
                ann["iam.amazonaws.com/permitted"] = f"^{s.role_arn}$"
            elif g < 0.8:  # unanchored
                ann["iam.amazonaws.com/permitted"] = f"role/svc/{s.name}"
        self.namespaces.append(Namespace(cluster=cl.name, name=ns, annotations=ann,
                                         labels={"kubernetes.io/metadata.name": ns, "team": _WORDS[s.index % len(_WORDS)]}))  # fmt: skip
        self.sas.append(ServiceAccount(cluster=cl.name, namespace=ns, name=app_sa, annotations=sa_annotations,
                                       automount_token=None if self.chance(0.5) else False))  # fmt: skip
        target = f"{s.name}-secrets"
        p = s.pattern
        picked = s.params[: 1 + self.rng.randrange(5)]
        if p in ("kes", "kes-root"):
            data = tuple(KESDataItem(key=name, name=name.rsplit("/", 1)[1]) for name in picked)
            if self.chance(0.2):
                data += (KESDataItem(path=f"/{s.name}/", recursive=True),)
            self.kes.append(KESExternalSecret(cluster=cl.name, namespace=ns, name=target, backend_type="systemManager",
                                              role_arn=s.role_arn, region=REGION, data=data,
                                              has_template=self.chance(0.05)))  # fmt: skip
            if s.secret_names and self.chance(0.3):
                self.kes.append(
                    KESExternalSecret(cluster=cl.name, namespace=ns, name=f"{target}-sm", backend_type="secretsManager",
                                      role_arn=s.role_arn, region=REGION,
                                      data=(KESDataItem(key=s.secret_names[0], name="secret"),))
                )  # fmt: skip
                self.k8s_secrets.append(K8sSecret(cluster=cl.name, namespace=ns, name=f"{target}-sm",
                                                  owner_references=(f"ExternalSecret/{target}-sm",)))  # fmt: skip
        elif p in ("eso-jwt", "eso-controller"):
            store = f"{s.name}-store"
            self.eso_stores.append(
                ESOSecretStore(cluster=cl.name, name=store, kind="SecretStore", api_version="external-secrets.io/v1",
                               namespace=ns, service="ParameterStore", region=REGION, role=s.role_arn,
                               jwt=JWTAuth(service_account=app_sa) if p == "eso-jwt" else None)
            )  # fmt: skip
            data_from: tuple[ESODataFrom, ...] = ()
            if self.chance(0.2):
                data_from = (ESODataFrom(find_path=f"/{s.name}/"),)
            self.eso_es.append(
                ESOExternalSecret(cluster=cl.name, namespace=ns, name=target, api_version="external-secrets.io/v1",
                                  store_ref=StoreRef(name=store), target_name=target,
                                  data=tuple(ESODataItem(secret_key=n.rsplit("/", 1)[1], remote_key=n) for n in picked),
                                  data_from=data_from)
            )  # fmt: skip
        else:
            objects = tuple(CSIObject(object_name=n, object_type="ssmparameter") for n in picked)
            objects += tuple(CSIObject(object_name=n, object_type="secretsmanager") for n in s.secret_names[:1])
            self.spcs.append(
                SecretProviderClass(cluster=cl.name, namespace=ns, name=f"{s.name}-aws", provider="aws", region=REGION,
                                    use_pod_identity=p == "pod-identity", objects=objects, synced_secrets=(target,))
            )  # fmt: skip
        self.k8s_secrets.append(K8sSecret(cluster=cl.name, namespace=ns, name=target, keys=tuple(
            n.rsplit("/", 1)[1] for n in picked), owner_references=(f"ExternalSecret/{target}",)
            if p not in ("irsa-direct", "irsa-wildcard", "pod-identity", "org-star") else ()))  # fmt: skip
        via_env = self.chance(0.2)  # F14
        refs = (SecretKeyRef(secret=target, via="envFrom" if via_env else "volume"),)
        csi: tuple[CSIVolume, ...] = ()
        if p in ("irsa-direct", "irsa-wildcard", "pod-identity", "org-star"):
            csi = (CSIVolume(driver="secrets-store.csi.k8s.io", secret_provider_class=f"{s.name}-aws"),)
        self.workloads.append(
            Workload(cluster=cl.name, namespace=ns, name=s.name, kind="Deployment", service_account=app_sa,
                     host_network=self.chance(0.01), run_as_non_root=True, fs_group=65534,
                     containers=(Container(name="app", image=f"registry.example.com/{s.name}:1.{s.index % 7}",
                                           env_names=("LOG_LEVEL",)),),
                     secret_refs=refs, csi_volumes=csi, owner=None, labels={"app": s.name})
        )  # fmt: skip
        self.rbac_bindings.append(
            RBACBinding(cluster=cl.name, name="team-edit", kind="RoleBinding", namespace=ns, role_kind="ClusterRole",
                        role_name="edit", subjects=(Subject(kind="Group", name=f"team-{s.name}"),))
        )  # fmt: skip

    def build_extra_service_accounts(self) -> None:
        """Batch jobs and helpers: some with IRSA roles of their own (created here, counted as roles)."""
        self.job_roles: list[str] = []
        budget = self.size.roles - len(self.roles) - 1  # roles still to make, less the platform-shared-role
        for j in range(self.plan.extra_service_accounts):
            s = self.svc[j % len(self.svc)]
            cl = s.cluster
            name = f"job-{j:05d}"
            ann: dict[str, str] = {}
            r = self.rng.random()
            if r < 0.4 and len(self.job_roles) < budget // 2:
                arn = self.add_role(
                    cl.account, f"irsa-{cl.name}-{s.name}-{name}",
                    _irsa_trust(cl.provider_arn, cl.issuer_host, f"system:serviceaccount:{s.name}:{name}"),
                    inline=[("work", _doc(_allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{s.name}-data/*"),
                                          _allow("sqs:*", f"arn:aws:sqs:{REGION}:{cl.account}:{s.name}-*")))],
                )  # fmt: skip
                self.job_roles.append(arn)
                ann[ROLE_ARN_ANNOTATION] = arn
            elif r < 0.43:  # F19: annotation naming a role that does not exist
                ann[ROLE_ARN_ANNOTATION] = role_arn(cl.account, f"deleted-{name}")
            self.sas.append(ServiceAccount(cluster=cl.name, namespace=s.name, name=name, annotations=ann))
            if self.chance(0.5):
                self.workloads.append(
                    Workload(cluster=cl.name, namespace=s.name, name=name, kind="CronJob", service_account=name,
                             containers=(Container(name="job", image=f"registry.example.com/{s.name}-jobs:2"),))
                )  # fmt: skip

    def build_filler_roles(self) -> None:
        """CI, Lambda, batch and analytics roles up to the role count, each with a realistic policy."""
        accts = self.plan.accounts
        tooling = accts[0]
        k = 0
        self.add_role(
            tooling, "platform-shared-role", _aws_trust([r for r in (c.eso_role for c in self.c) if r] or _root(tooling)),
            inline=[("shared", _doc(_allow(["ssm:GetParameter", "ssm:GetParametersByPath"],
                                           f"arn:aws:ssm:{REGION}:*:parameter/shared/*")))],
        )  # fmt: skip
        while len(self.roles) < self.size.roles:
            acct = accts[k % len(accts)]
            kind = k % 6
            if kind == 0:  # batch (grantee of some key grants)
                self.add_role(acct, f"batch-{k // 6:04d}", _service_trust("ecs-tasks.amazonaws.com"),
                              inline=[("batch", _doc(_allow(["s3:*", "sqs:*"], "*")))])  # fmt: skip
            elif kind == 1:  # lambda; a few read another service's parameters
                s = self.svc[(k * 7) % len(self.svc)]
                stmts = [_allow(["logs:CreateLogStream", "logs:PutLogEvents"], "*")]
                if self.chance(0.1):
                    stmts.append(_allow(["ssm:GetParameter"], f"arn:aws:ssm:{REGION}:{s.account}:parameter/{s.name}/*"))
                    stmts.append(_allow(["kms:Decrypt"], "*"))
                self.add_role(acct, f"lambda-{k // 6:04d}", _service_trust("lambda.amazonaws.com"),
                              inline=[("fn", _doc(*stmts))], attached=[])  # fmt: skip
            elif kind == 2:  # CI deployers: AssumeRole on * with ExternalId from the tooling account (F08 partner)
                self.add_role(
                    acct, f"ci-deploy-{k // 6:04d}",
                    _aws_trust(_root(tooling), Condition={"StringEquals": {"sts:ExternalId": f"ci-{k}"}}),
                    inline=[("deploy", _doc(_allow("sts:AssumeRole", "*"),
                                            _allow(["ssm:PutParameter", "ssm:AddTagsToResource"], "*",
                                                   Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})))],
                )  # fmt: skip
            elif kind == 3:  # analytics: role-to-role trust naming another role ARN, NotAction identity policy
                self.add_role(
                    acct, f"analytics-{k // 6:04d}", _aws_trust(role_arn(acct, "readonly")),
                    inline=[("analytics", _doc({"Effect": "Allow", "NotAction": ["iam:*", "kms:*", "ssm:*",
                                                                                "secretsmanager:*"],
                                                "Resource": "*"}))],
                    boundary=f"arn:aws:iam::{acct}:policy/boundary/workload-boundary",
                )  # fmt: skip
            elif kind == 4:  # cross-account auditors trusted from the tooling account
                self.add_role(acct, f"audit-{k // 6:04d}", _aws_trust(role_arn(tooling, "readonly")),
                              attached=[AWS_POLICY + "ReadOnlyAccess"])  # fmt: skip
            else:  # data pipelines on EC2 with instance profiles
                self.add_role(
                    acct,
                    f"pipeline-{k // 6:04d}",
                    _service_trust("ec2.amazonaws.com"),
                    attached=[AWS_POLICY + "AmazonSSMManagedInstanceCore"],
                    instance_profile=True,
                )
            k += 1

    def build_rbac(self) -> None:
        for cl in self.c:
            self.rbac_roles.append(
                RBACRole(cluster=cl.name, name="edit", kind="ClusterRole",
                         rules=(PolicyRule(verbs=("get", "list", "watch", "create", "update", "patch", "delete"),
                                           api_groups=("",), resources=("secrets", "configmaps", "pods",
                                                                        "serviceaccounts")),
                                PolicyRule(verbs=("create", "update", "patch", "delete"), api_groups=("apps",),
                                           resources=("deployments", "statefulsets")),
                                PolicyRule(verbs=("create",), api_groups=("",), resources=("pods/exec",)),
                                PolicyRule(verbs=("get", "list", "create", "update", "delete"),
                                           api_groups=("kubernetes-client.io", "external-secrets.io"),
                                           resources=("externalsecrets", "secretstores"))))
            )  # fmt: skip
            self.rbac_roles.append(
                RBACRole(cluster=cl.name, name="secret-reader", kind="ClusterRole",
                         rules=(PolicyRule(verbs=("get", "list", "watch"), api_groups=("",), resources=("secrets",)),))
            )  # fmt: skip
            self.rbac_bindings.append(
                RBACBinding(cluster=cl.name, name="oncall-secret-reader", kind="ClusterRoleBinding",
                            role_kind="ClusterRole", role_name="secret-reader",
                            subjects=(Subject(kind="Group", name="platform-oncall"),))
            )  # fmt: skip
            if cl.mode in ("eso", "both"):  # F10: a ClusterSecretStore every namespace may use
                assert cl.eso_role is not None
                self.eso_stores.append(
                    ESOSecretStore(cluster=cl.name, name="shared-params", kind="ClusterSecretStore",
                                   api_version="external-secrets.io/v1", service="ParameterStore", region=REGION,
                                   role=role_arn(self.plan.accounts[0], "platform-shared-role"),
                                   conditions=(StoreConditions(namespace_regexes=("team-.*",)),)
                                   if cl.name.endswith("1") else ())
                )  # fmt: skip
                tmpl = ESOExternalSecret(cluster=cl.name, namespace="", name="shared-config",
                                         api_version="external-secrets.io/v1",
                                         store_ref=StoreRef(name="shared-params", kind="ClusterSecretStore"),
                                         target_name="shared-config",
                                         data_from=(ESODataFrom(find_path="/shared/"),))  # fmt: skip
                self.eso_ces.append(ESOClusterExternalSecret(cluster=cl.name, name="shared-config",
                                                             api_version="external-secrets.io/v1",
                                                             namespace_selectors=({"team": "billing"},),
                                                             template=tmpl))  # fmt: skip

    def coverage(self) -> tuple[Coverage, ...]:
        out: list[Coverage] = []
        for acct in self.plan.accounts:
            for service, n in (
                ("iam", sum(r.account_id == acct for r in self.roles)),
                ("kms", sum(k.account_id == acct for k in self.keys)),
                ("ssm", sum(p.account_id == acct for p in self.params)),
                ("secretsmanager", sum(s.account_id == acct for s in self.secrets)),
                ("eks", sum(c.account_id == acct for c in self.clusters)),
            ):
                scope = f"{acct}/global" if service == "iam" else f"{acct}/{REGION}"
                out.append(Coverage(source="aws", scope=scope, service=service, status="ok", count=n))
        for cl in self.c:
            out.append(Coverage(source="kubernetes", scope=cl.name, service="serviceaccounts", status="ok",
                                count=sum(sa.cluster == cl.name for sa in self.sas)))  # fmt: skip
        return tuple(out)

    def _check_counts(self) -> None:
        got = {
            "roles": len(self.roles),
            "service_accounts": len(self.sas),
            "ssm_parameters": len(self.params),
            "secrets": len(self.secrets),
            "kms_keys": len(self.keys),
            "clusters": len(self.clusters),
            "accounts": len(self.plan.accounts),
        }
        want = {k: getattr(self.size, k) for k in got}
        if got != want:
            raise ValueError(f"{self.size.name}: generated counts {got} differ from the size {want}")


def size_of(size: str | OrgSize) -> OrgSize:
    """A size by name (``SIZES``) or as given."""
    if isinstance(size, OrgSize):
        return size
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown size {size!r}; known sizes: {', '.join(SIZES)}") from None


def generate(size: str | OrgSize = "small", *, seed: int = 0) -> Snapshot:
    """A synthetic organisation of ``size`` as a snapshot; the same (size, seed) gives the same snapshot."""
    return _Builder(size_of(size), seed).build()


# --- seeding a local AWS endpoint --------------------------------------------------------------------


@dataclass(frozen=True)
class SeedReport:
    """What ``seed_endpoint`` wrote: record counts per kind (the resources a collector should find)."""

    account: str
    counts: Mapping[str, int]
    advanced_parameters: int = 0

    @property
    def resources(self) -> int:
        """Records a collector should return (grants and instance profiles are parts of other records)."""
        return sum(n for kind, n in self.counts.items() if kind not in ("kms_grants", "instance_profiles"))


def _json(doc: Mapping[str, Any]) -> str:
    import json

    return json.dumps(doc, separators=(",", ":"))


def seed_endpoint(endpoint_url: str, size: str | OrgSize = "collect", *, seed: int = 0) -> SeedReport:
    """Write account ``123456789012``'s records of a synthetic organisation into a local AWS endpoint.

    Uses boto3 against ``endpoint_url`` (moto in server mode) with fixed test credentials. AWS managed
    policies are not attached (moto only knows them when started with ``MOTO_IAM_LOAD_MANAGED_POLICIES``)
    and the AWS managed keys are moto's own. KMS key ids, secret ARN suffixes and the OIDC issuer are
    the endpoint's, not the snapshot's. Parameter and secret values written are placeholders.
    """
    import boto3

    snap = generate(size, seed=seed)
    acct = MANAGEMENT_ACCOUNT
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    aws_session_token="testing", region_name=REGION)  # fmt: skip
    iam, kms, ssm, sm, eks = (session.client(svc, endpoint_url=endpoint_url)
                              for svc in ("iam", "kms", "ssm", "secretsmanager", "eks"))  # fmt: skip
    counts: dict[str, int] = {}

    def bump(kind: str) -> None:
        counts[kind] = counts.get(kind, 0) + 1

    for mp in snap.managed_policies:
        if mp.arn.startswith(f"arn:aws:iam::{acct}:"):
            iam.create_policy(PolicyName=mp.name, Path=mp.path, PolicyDocument=_json(mp.document))
            bump("managed_policies")
    for prov in snap.oidc_providers:
        if prov.account_id == acct:
            iam.create_open_id_connect_provider(Url=f"https://{prov.url}", ClientIDList=list(prov.client_ids),
                                                ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])  # fmt: skip
            bump("oidc_providers")
    for role in snap.roles:
        if role.account_id != acct:
            continue
        kwargs: dict[str, Any] = {}
        if role.permissions_boundary_arn:
            kwargs["PermissionsBoundary"] = role.permissions_boundary_arn
        if role.tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in role.tags.items()]
        iam.create_role(RoleName=role.name, Path=role.path, AssumeRolePolicyDocument=_json(role.trust_policy),
                        **kwargs)  # fmt: skip
        for pol in role.inline_policies:
            iam.put_role_policy(RoleName=role.name, PolicyName=pol.name, PolicyDocument=_json(pol.document))
        for arn in role.attached_policy_arns:
            if not arn.startswith(AWS_POLICY):
                iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
        for ip in role.instance_profile_arns:
            name = ip.rsplit("/", 1)[1]
            iam.create_instance_profile(InstanceProfileName=name)
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role.name)
            bump("instance_profiles")
        bump("roles")
    key_ids: dict[str, str] = {}
    key_arns: dict[str, str] = {}
    for key in snap.kms_keys:
        if key.account_id != acct or key.manager != "CUSTOMER":
            continue
        meta = kms.create_key(Policy=_json(key.policy or {}), Description=key.description)["KeyMetadata"]
        key_ids[key.key_id], key_arns[key.arn] = meta["KeyId"], meta["Arn"]
        for alias in key.aliases:
            kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        for grant in key.grants:
            kms.create_grant(KeyId=meta["KeyId"], GranteePrincipal=grant.grantee_principal,
                             Operations=list(grant.operations), Name=grant.name or grant.grant_id[:16])  # fmt: skip
            bump("kms_grants")
        bump("kms_keys")
    for param in snap.ssm_parameters:
        if param.account_id != acct:
            continue
        kwargs = {"Tier": param.tier}
        if param.type == "SecureString" and param.key_id:
            kwargs["KeyId"] = key_ids.get(param.key_id) or key_arns.get(param.key_id) or param.key_id
        ssm.put_parameter(Name=param.name, Value="placeholder", Type=param.type, **kwargs)
        bump("ssm_parameters")
    for secret in snap.secrets:
        if secret.account_id != acct:
            continue
        kwargs = {}
        if secret.kms_key_id:
            kwargs["KmsKeyId"] = key_arns.get(secret.kms_key_id) or secret.kms_key_id
        created = sm.create_secret(Name=secret.name, SecretString="placeholder",
                                   Tags=[{"Key": k, "Value": v} for k, v in secret.tags.items()], **kwargs)  # fmt: skip
        if secret.resource_policy is not None:
            sm.put_resource_policy(SecretId=created["ARN"], ResourcePolicy=_json(secret.resource_policy))
        bump("secrets")
    for cluster in snap.clusters:
        if cluster.account_id != acct:
            continue
        eks.create_cluster(name=cluster.name, roleArn=role_arn(acct, "eks-cluster"), version=cluster.version or "1.31",
                           resourcesVpcConfig={"subnetIds": ["subnet-0001", "subnet-0002"]})  # fmt: skip
        bump("clusters")
        for ng in snap.node_groups:
            if ng.cluster_name == cluster.name and ng.node_role_arn:
                eks.create_nodegroup(clusterName=cluster.name, nodegroupName=ng.name, nodeRole=ng.node_role_arn,
                                     subnets=["subnet-0001"])  # fmt: skip
                bump("node_groups")
    advanced = sum(p.account_id == acct and p.tier == "Advanced" for p in snap.ssm_parameters)
    return SeedReport(account=acct, counts=counts, advanced_parameters=advanced)
