"""Hand-built snapshot pieces for the findings tests: small, explicit, one fact per helper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from irsa_lib.findings import Finding, run_findings
from irsa_lib.model import (
    EKSCluster,
    InlinePolicy,
    KMSKey,
    MetadataOptions,
    Namespace,
    NodeGroup,
    PolicyRule,
    RBACBinding,
    RBACRole,
    Role,
    SecretsManagerSecret,
    ServiceAccount,
    SSMParameter,
    Subject,
)
from irsa_lib.snapshot import Snapshot

ACCT = "123456789012"
REGION = "us-east-1"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
PROVIDER = f"arn:aws:iam::{ACCT}:oidc-provider/{HOST}"
CLUSTER = "demo"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCT}:role/{name}"


def snap(**records: Any) -> Snapshot:
    records.setdefault("clusters", (cluster(),))
    return Snapshot(created_at="2026-11-29T00:00:00Z", **records)


def cluster(version: str = "1.29") -> EKSCluster:
    return EKSCluster(
        name=CLUSTER,
        arn=f"arn:aws:eks:{REGION}:{ACCT}:cluster/{CLUSTER}",
        account_id=ACCT,
        region=REGION,
        version=version,
        oidc_issuer=f"https://{HOST}",
    )


def doc(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def irsa_trust(conditions: Mapping[str, Any] | None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if conditions is not None:
        st["Condition"] = conditions
    return doc(st)


def scoped_irsa(ns: str, name: str) -> dict[str, Any]:
    return irsa_trust(
        {"StringEquals": {f"{HOST}:sub": f"system:serviceaccount:{ns}:{name}", f"{HOST}:aud": "sts.amazonaws.com"}}
    )


def trust_role(principal: str) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"})


def role(name: str, trust: Mapping[str, Any], *policies: Mapping[str, Any], **kw: Any) -> Role:
    return Role(
        arn=arn(name),
        name=name,
        role_id=f"AROA{name.upper().replace('-', '')[:12]:0<12}",
        account_id=ACCT,
        trust_policy=trust,
        inline_policies=tuple(InlinePolicy(name=f"p{i}", document=p) for i, p in enumerate(policies)),
        **kw,
    )


def allow(action: str | Sequence[str], resource: str | Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | Sequence[str], resource: str | Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def param_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCT}:parameter/{name.lstrip('/')}"


def param(name: str, key_id: str | None = None, type_: str = "SecureString") -> SSMParameter:
    return SSMParameter(arn=param_arn(name), name=name, account_id=ACCT, region=REGION, type=type_, key_id=key_id)  # type: ignore[arg-type]


def secret(name: str, kms_key_id: str | None = None, suffix: str = "AbC123") -> SecretsManagerSecret:
    return SecretsManagerSecret(
        arn=f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{name}-{suffix}",
        name=name,
        account_id=ACCT,
        region=REGION,
        kms_key_id=kms_key_id,
    )


def root_delegation() -> dict[str, Any]:
    return {
        "Sid": "EnableIAM",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def cmk(alias: str, *statements: Mapping[str, Any], policy: bool = True) -> KMSKey:
    kid = f"key-{alias}"
    return KMSKey(
        arn=f"arn:aws:kms:{REGION}:{ACCT}:key/{kid}",
        key_id=kid,
        account_id=ACCT,
        region=REGION,
        manager="CUSTOMER",
        aliases=(f"alias/{alias}",),
        policy=doc(*statements) if policy else None,
    )


def aws_key(alias: str) -> KMSKey:
    return KMSKey(
        arn=f"arn:aws:kms:{REGION}:{ACCT}:key/aws-{alias}",
        key_id=f"aws-{alias}",
        account_id=ACCT,
        region=REGION,
        manager="AWS",
        aliases=(f"alias/aws/{alias}",),
    )


def node_group(tokens: str, hop: int, role_name: str = "node-role") -> NodeGroup:
    """A node group of cluster demo whose instances use ``role_name`` with these IMDS settings."""
    return NodeGroup(
        cluster_name=CLUSTER,
        name="ng",
        account_id=ACCT,
        region=REGION,
        node_role_arn=arn(role_name),
        metadata_options=MetadataOptions(http_tokens=tokens, hop_limit=hop),
    )


def sa(ns: str, name: str, role_arn: str | None = None, **annotations: str) -> ServiceAccount:
    ann = dict(annotations)
    if role_arn:
        ann["eks.amazonaws.com/role-arn"] = role_arn
    return ServiceAccount(cluster=CLUSTER, namespace=ns, name=name, annotations=ann)


def ns(name: str, **annotations: str) -> Namespace:
    return Namespace(cluster=CLUSTER, name=name, annotations=annotations)


def k8s_role(name: str, namespace: str | None, *rules: PolicyRule) -> RBACRole:
    return RBACRole(
        cluster=CLUSTER, name=name, kind="Role" if namespace else "ClusterRole", namespace=namespace, rules=rules
    )


def rule(verbs: Sequence[str], groups: Sequence[str], resources: Sequence[str]) -> PolicyRule:
    return PolicyRule(verbs=tuple(verbs), api_groups=tuple(groups), resources=tuple(resources))


def binding(name: str, role: RBACRole, *subjects: Subject, namespace: str | None = None) -> RBACBinding:
    return RBACBinding(
        cluster=CLUSTER,
        name=name,
        kind="RoleBinding" if namespace else "ClusterRoleBinding",
        role_kind=role.kind,
        role_name=role.name,
        namespace=namespace,
        subjects=subjects,
    )


def user(name: str) -> Subject:
    return Subject(kind="User", name=name)


def sa_subject(namespace: str, name: str) -> Subject:
    return Subject(kind="ServiceAccount", name=name, namespace=namespace)


def fails(snapshot: Snapshot, rule_id: str) -> set[str]:
    """Resources the rule judges failing."""
    return {f.resource for f in run_findings(snapshot, rules=[rule_id]) if f.status == "fail"}


def unknowns(snapshot: Snapshot, rule_id: str) -> set[str]:
    return {f.resource for f in run_findings(snapshot, rules=[rule_id]) if f.status == "unknown"}


def only(snapshot: Snapshot, rule_id: str) -> Finding:
    found = [f for f in run_findings(snapshot, rules=[rule_id]) if f.status == "fail"]
    assert len(found) == 1, found
    return found[0]
