"""Inventory records for the AWS side: IAM, OIDC, KMS, SSM, Secrets Manager, EKS, Organizations.

Records hold what AWS APIs return, normalised but not interpreted: policy documents stay as the
JSON objects AWS returned (parsed from their URL-encoded form), key ids stay as given. Judging
them is the evaluator's job. No record ever holds a secret value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PolicyDocument = Mapping[str, Any]
"""An IAM / key / trust / resource policy document exactly as AWS stores it (decoded JSON)."""


@dataclass(frozen=True, kw_only=True)
class InlinePolicy:
    """A policy embedded in a role, user or group."""

    name: str
    document: PolicyDocument


@dataclass(frozen=True, kw_only=True)
class ManagedPolicy:
    """A managed policy with the document of its default version."""

    arn: str
    name: str
    document: PolicyDocument
    path: str = "/"
    default_version_id: str | None = None
    aws_managed: bool = False


@dataclass(frozen=True, kw_only=True)
class Role:
    """An IAM role: who may assume it (trust policy) and what it may do."""

    arn: str
    name: str
    role_id: str
    """Unique id (AROA...): trust and key policies show it when a named principal was deleted."""
    account_id: str
    trust_policy: PolicyDocument
    path: str = "/"
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    max_session_duration: int = 3600
    instance_profile_arns: tuple[str, ...] = ()
    service_linked: bool = False


@dataclass(frozen=True, kw_only=True)
class User:
    """An IAM user: a long-lived principal that can also appear in trust and key policies."""

    arn: str
    name: str
    user_id: str
    account_id: str
    path: str = "/"
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Group:
    """An IAM group; its policies apply to its member users."""

    arn: str
    name: str
    group_id: str
    account_id: str
    path: str = "/"
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class InstanceProfile:
    """An EC2 instance profile and the role(s) it hands to instances (and, via IMDS, to pods)."""

    arn: str
    name: str
    account_id: str
    role_arns: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OIDCProvider:
    """An IAM OIDC identity provider; for IRSA, one per EKS cluster issuer."""

    arn: str
    url: str
    """Issuer host and path without ``https://``, as IAM returns it; condition keys start with it."""
    account_id: str
    client_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class GrantConstraints:
    """KMS grant constraints on the encryption context of the request."""

    encryption_context_equals: Mapping[str, str] | None = None
    encryption_context_subset: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class Grant:
    """A KMS grant: a principal may use the key for the listed operations."""

    grant_id: str
    grantee_principal: str
    operations: tuple[str, ...]
    name: str | None = None
    retiring_principal: str | None = None
    issuing_account: str | None = None
    constraints: GrantConstraints | None = None


@dataclass(frozen=True, kw_only=True)
class KMSKey:
    """A KMS key with its key policy (the root of trust for the key) and grants."""

    arn: str
    key_id: str
    account_id: str
    region: str
    manager: Literal["AWS", "CUSTOMER"]
    key_state: str = "Enabled"
    key_usage: str = "ENCRYPT_DECRYPT"
    key_spec: str = "SYMMETRIC_DEFAULT"
    aliases: tuple[str, ...] = ()
    """Alias names (``alias/...``) that point at this key."""
    rotation_enabled: bool | None = None
    """None when rotation status could not be read (or does not apply)."""
    policy: PolicyDocument | None = None
    """None when the key policy could not be read: access through this key is then unknown."""
    grants: tuple[Grant, ...] = ()
    description: str = ""
    tags: Mapping[str, str] | None = None
    """ListResourceTags; None when not collected (then ``aws:ResourceTag/*`` on the key is unknown)."""


@dataclass(frozen=True, kw_only=True)
class SSMParameter:
    """An SSM parameter's metadata (DescribeParameters): never its value."""

    arn: str
    name: str
    account_id: str
    region: str
    type: Literal["String", "StringList", "SecureString"]
    tier: str = "Standard"
    key_id: str | None = None
    """KMS key as DescribeParameters returns it (key id, key ARN or ``alias/...``); SecureString only."""
    resource_policies: tuple[PolicyDocument, ...] = ()
    resource_policy_readable: bool = True
    """False when GetResourcePolicies failed: ``resource_policies`` is then unknown, not "none"."""
    version: int | None = None
    last_modified_user: str | None = None
    tags: Mapping[str, str] | None = None
    """ListTagsForResource; None when not collected (then ``aws:ResourceTag/*`` on it is unknown)."""


@dataclass(frozen=True, kw_only=True)
class SecretsManagerSecret:
    """A Secrets Manager secret's metadata (ListSecrets): never its value."""

    arn: str
    name: str
    account_id: str
    region: str
    kms_key_id: str | None = None
    """None means the AWS managed key ``aws/secretsmanager``."""
    resource_policy: PolicyDocument | None = None
    resource_policy_readable: bool = True
    """False when GetResourcePolicy failed: ``resource_policy`` is then unknown, not "none"."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """As ListSecrets returns them with the secret (always collected with it)."""


@dataclass(frozen=True, kw_only=True)
class EKSCluster:
    """An EKS cluster and the OIDC issuer its service-account tokens are signed by."""

    name: str
    arn: str
    account_id: str
    region: str
    version: str | None = None
    oidc_issuer: str | None = None
    """Full issuer URL (``https://oidc.eks.<region>.amazonaws.com/id/<ID>``)."""
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class PodIdentityAssociation:
    """An EKS Pod Identity association: the SA gets ``role_arn`` (then ``target_role_arn``)."""

    association_arn: str
    association_id: str
    cluster_name: str
    namespace: str
    service_account: str
    role_arn: str
    account_id: str
    region: str
    target_role_arn: str | None = None
    external_id: str | None = None
    disable_session_tags: bool = False
    policy: PolicyDocument | None = None
    """Inline session policy that intersects with the role's permissions."""


@dataclass(frozen=True, kw_only=True)
class MetadataOptions:
    """Instance metadata (IMDS) settings that decide whether pods can reach the node's role."""

    http_tokens: str | None = None
    """``required`` (IMDSv2 only) or ``optional``; None when unknown."""
    hop_limit: int | None = None
    http_endpoint: str | None = None
    """``enabled`` or ``disabled``."""


@dataclass(frozen=True, kw_only=True)
class NodeGroup:
    """Nodes of a cluster sharing one node role and IMDS settings (managed or self-managed)."""

    cluster_name: str
    name: str
    account_id: str
    region: str
    node_role_arn: str | None
    """None: unknown, except for self-managed nodes without an instance profile (``instance_profile_arn``
    None), which have no node role at all."""
    arn: str | None = None
    metadata_options: MetadataOptions | None = None
    """None when the settings could not be determined (then IMDS reachability is unknown)."""
    metadata_source: str | None = None
    """Where the IMDS settings came from: ``launch-template``, ``instances`` or ``eks-default``."""
    kind: Literal["managed", "self-managed", "fargate"] = "managed"
    instance_profile_arn: str | None = None
    """Self-managed nodes: the instance profile their instances run with (``node_role_arn`` is its role)."""


@dataclass(frozen=True, kw_only=True)
class OrgPolicy:
    """A service or resource control policy attached somewhere on the account's OU path."""

    policy_id: str
    name: str
    document: PolicyDocument
    target_id: str
    """The root, OU or account it is attached to."""


@dataclass(frozen=True, kw_only=True)
class Account:
    """An AWS account that was collected, with its position in AWS Organizations."""

    account_id: str
    partition: str = "aws"
    alias: str | None = None
    organization_id: str | None = None
    management_account: bool | None = None
    """True for the organization's management account (SCPs and RCPs do not apply to it)."""
    ou_path: tuple[str, ...] = ()
    """Target ids from the root down to the account itself."""
    scps: tuple[tuple[OrgPolicy, ...], ...] | None = None
    """SCPs per level of ``ou_path``; None when not readable (then unknown, not 'none')."""
    rcps: tuple[tuple[OrgPolicy, ...], ...] | None = None
    regions: tuple[str, ...] = ()
