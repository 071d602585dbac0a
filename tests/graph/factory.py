"""Small constructors for snapshots written directly in Python (no collection involved)."""

from __future__ import annotations

from typing import Any

from irsa_lib.model import (
    Account,
    EKSCluster,
    InlinePolicy,
    KMSKey,
    ManagedPolicy,
    MetadataOptions,
    Namespace,
    NodeGroup,
    OIDCProvider,
    PolicyRule,
    RBACBinding,
    RBACRole,
    Role,
    SecretsManagerSecret,
    ServiceAccount,
    SSMParameter,
    Subject,
    Workload,
)
from irsa_lib.snapshot import Snapshot

ACCT = "111122223333"
REGION = "us-east-1"
CLUSTER = "c1"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
PROVIDER_ARN = f"arn:aws:iam::{ACCT}:oidc-provider/{HOST}"
CLUSTER_ARN = f"arn:aws:eks:{REGION}:{ACCT}:cluster/{CLUSTER}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCT}:role/{name}"


def param_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCT}:parameter/{name.lstrip('/')}"


def key_arn(key_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCT}:key/{key_id}"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def irsa_trust(sub: str, *, op: str = "StringEquals", aud: bool = True) -> dict[str, Any]:
    cond: dict[str, Any] = {op: {f"{HOST}:sub": sub}}
    if aud:
        cond.setdefault("StringEquals", {})[f"{HOST}:aud"] = "sts.amazonaws.com"
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": cond,
        }
    )


def trust_roles(*arns: str) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": {"AWS": list(arns)}, "Action": "sts:AssumeRole"})


def role(
    name: str,
    trust: dict[str, Any],
    *policies: dict[str, Any],
    boundary: str | None = None,
    tags: dict[str, str] | None = None,
) -> Role:
    return Role(
        arn=role_arn(name),
        name=name,
        role_id=f"AROA{name.upper().replace('-', '')[:16]:X<16}",
        account_id=ACCT,
        trust_policy=trust,
        inline_policies=tuple(InlinePolicy(name=f"p{i}", document=p) for i, p in enumerate(policies)),
        permissions_boundary_arn=boundary,
        tags=tags or {},
    )


def managed(name: str, document: dict[str, Any]) -> ManagedPolicy:
    return ManagedPolicy(arn=f"arn:aws:iam::{ACCT}:policy/{name}", name=name, document=document)


def key_policy_root(*extra: dict[str, Any]) -> dict[str, Any]:
    return doc(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        *extra,
    )


def key_policy_for(*role_names: str) -> dict[str, Any]:
    """A key policy WITHOUT root delegation: only the named roles may decrypt."""
    return doc(
        {
            "Sid": "AllowServiceRoles",
            "Effect": "Allow",
            "Principal": {"AWS": [role_arn(n) for n in role_names]},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )


def kms_key(key_id: str, alias: str, policy: dict[str, Any] | None, **kw: Any) -> KMSKey:
    return KMSKey(
        arn=key_arn(key_id),
        key_id=key_id,
        account_id=ACCT,
        region=REGION,
        manager="CUSTOMER",
        aliases=(alias,),
        policy=policy,
        **kw,
    )


def param(name: str, key: str | None = None) -> SSMParameter:
    return SSMParameter(arn=param_arn(name), name=name, account_id=ACCT, region=REGION, type="SecureString", key_id=key)


def secret(name: str, suffix: str = "AbCdEf", key: str | None = None) -> SecretsManagerSecret:
    return SecretsManagerSecret(
        arn=f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{name}-{suffix}",
        name=name,
        account_id=ACCT,
        region=REGION,
        kms_key_id=key,
    )


def sa(ns: str, name: str, role: str | None = None) -> ServiceAccount:
    ann = {"eks.amazonaws.com/role-arn": role_arn(role)} if role else {}
    return ServiceAccount(cluster=CLUSTER, namespace=ns, name=name, annotations=ann)


def workload(ns: str, name: str, sa_name: str, **kw: Any) -> Workload:
    return Workload(cluster=CLUSTER, namespace=ns, name=name, kind="Deployment", service_account=sa_name, **kw)


def namespace(name: str, annotations: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> Namespace:
    return Namespace(cluster=CLUSTER, name=name, annotations=annotations or {}, labels=labels or {})


def rbac_grant(
    ns: str, subject: tuple[str, str], verbs: tuple[str, ...], group: str, resource: str
) -> dict[str, list[object]]:
    """Records giving ``subject`` (kind, name) ``verbs`` on ``group/resource`` in ``ns`` (Role + RoleBinding)."""
    kind, name = subject
    rule = PolicyRule(verbs=verbs, api_groups=(group,), resources=(resource,))
    role_ = RBACRole(cluster=CLUSTER, name=f"{name}-role", kind="Role", namespace=ns, rules=(rule,))
    binding = RBACBinding(
        cluster=CLUSTER,
        name=f"{name}-binding",
        kind="RoleBinding",
        namespace=ns,
        role_kind="Role",
        role_name=role_.name,
        subjects=(Subject(kind=kind, name=name),),  # type: ignore[arg-type]
    )
    return {"rbac_roles": [role_], "rbac_bindings": [binding]}


def secure_nodes(role_name: str = "node-role") -> NodeGroup:
    """A node group whose pods cannot reach IMDS (IMDSv2 only, hop limit 1)."""
    return NodeGroup(
        cluster_name=CLUSTER,
        name="ng",
        account_id=ACCT,
        region=REGION,
        node_role_arn=role_arn(role_name),
        metadata_options=MetadataOptions(http_tokens="required", hop_limit=1, http_endpoint="enabled"),
    )


NODE_ROLE = role(
    "node-role", doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
)


def snapshot(**records: Any) -> Snapshot:
    """A snapshot of one account and one cluster (its OIDC provider and a locked-down node group included)."""
    base: dict[str, Any] = {
        "accounts": (Account(account_id=ACCT),),
        "clusters": (
            EKSCluster(
                name=CLUSTER,
                arn=CLUSTER_ARN,
                account_id=ACCT,
                region=REGION,
                oidc_issuer=f"https://{HOST}",
            ),
        ),
        "oidc_providers": (
            OIDCProvider(arn=PROVIDER_ARN, url=HOST, account_id=ACCT, client_ids=("sts.amazonaws.com",)),
        ),
        "node_groups": (secure_nodes(),),
    }
    for k, v in records.items():
        base[k] = tuple(v)
    if "roles" in records and not any(r.name == "node-role" for r in base["roles"]):
        base["roles"] = (*base["roles"], NODE_ROLE)
    return Snapshot(created_at="2026-11-29T00:00:00Z", **base)
