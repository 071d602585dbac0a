"""Inventory records for the Kubernetes side: identities, workloads, RBAC and external-secrets objects.

Every record carries its ``cluster`` (the EKS cluster name the Kubernetes source is tied to), so a
ServiceAccount can meet that cluster's OIDC issuer. Kubernetes Secrets are metadata only; container
environment values are kept only for controller configuration keys, never for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
AUDIENCE_ANNOTATION = "eks.amazonaws.com/audience"
STS_REGIONAL_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
TOKEN_EXPIRATION_ANNOTATION = "eks.amazonaws.com/token-expiration"
KES_PERMITTED_ANNOTATION = "iam.amazonaws.com/permitted"
KES_NAMING_PERMITTED_ANNOTATION = "externalsecrets.kubernetes-client.io/permitted-key-name"

CONFIG_ENV_NAMES: frozenset[str] = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_INTERMEDIATE_ROLE_ARN",
        "AWS_STS_ENDPOINT_TYPE",
        "AWS_STS_REGIONAL_ENDPOINTS",
        "AWS_ROLE_ARN",
        "ENFORCE_NAMESPACE_ANNOTATIONS",
        "ROLE_PERMITTED_ANNOTATION",
        "NAMING_PERMITTED_ANNOTATION",
        "WATCHED_NAMESPACES",
        "INSTANCE_ID",
    }
)
"""Container environment variables whose *values* are kept: controller and credential configuration.
Every other variable is recorded by name only, because values can be secrets."""


@dataclass(frozen=True, kw_only=True)
class Namespace:
    cluster: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ServiceAccount:
    cluster: str
    namespace: str
    name: str
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    automount_token: bool | None = None
    """``automountServiceAccountToken``; None when unset (Kubernetes then mounts it)."""

    @property
    def role_arn(self) -> str | None:
        """The IRSA role the annotation *claims*; only the role's trust policy decides."""
        return self.annotations.get(ROLE_ARN_ANNOTATION)

    @property
    def audience(self) -> str:
        return self.annotations.get(AUDIENCE_ANNOTATION) or "sts.amazonaws.com"

    @property
    def subject(self) -> str:
        """The ``sub`` claim of this service account's projected token."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@dataclass(frozen=True, kw_only=True)
class SecretKeyRef:
    """A Kubernetes Secret consumed by a container, and how."""

    secret: str
    via: Literal["env", "envFrom", "volume", "projected"]
    key: str | None = None
    optional: bool = False


@dataclass(frozen=True, kw_only=True)
class CSIVolume:
    """A CSI volume; for the Secrets Store CSI driver it names a SecretProviderClass."""

    driver: str
    secret_provider_class: str | None = None


@dataclass(frozen=True, kw_only=True)
class Container:
    name: str
    image: str
    env: Mapping[str, str] = field(default_factory=dict)
    """Values of controller configuration variables only (see ``CONFIG_ENV_NAMES``)."""
    env_names: tuple[str, ...] = ()
    """Names of every environment variable, without values."""
    args: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A pod or pod-owning workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet)."""

    cluster: str
    namespace: str
    name: str
    kind: str
    service_account: str = "default"
    host_network: bool = False
    automount_token: bool | None = None
    run_as_user: int | None = None
    run_as_non_root: bool | None = None
    fs_group: int | None = None
    node_name: str | None = None
    containers: tuple[Container, ...] = ()
    secret_refs: tuple[SecretKeyRef, ...] = ()
    csi_volumes: tuple[CSIVolume, ...] = ()
    owner: str | None = None
    """``Kind/name`` of the controlling owner, if any."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """For a Pod its own labels; for a controller the pod template's (what its pods get)."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """As ``labels``: the pod template's for a controller (e.g. ``eks.amazonaws.com/skip-containers``)."""
    token_audiences: tuple[str, ...] = ()
    """Audiences of projected ``serviceAccountToken`` volume sources declared in the pod spec itself."""


@dataclass(frozen=True, kw_only=True)
class K8sSecret:
    """A Kubernetes Secret's metadata: name, type, key names and owners, never data."""

    cluster: str
    namespace: str
    name: str
    type: str | None = "Opaque"
    """None when unknown: a metadata-only listing does not carry the type (the live collector
    fills it for the types it asks for by field selector)."""
    keys: tuple[str, ...] = ()
    """Names of the data keys when known (manifests); empty from metadata-only listings."""
    owner_references: tuple[str, ...] = ()
    """``Kind/name`` of each owner (e.g. ``ExternalSecret/db``)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    service_account: str | None = None
    """For a service-account token Secret, the ServiceAccount it holds a token of
    (``kubernetes.io/service-account.name``). No other annotation is kept: they can hold the data."""


@dataclass(frozen=True, kw_only=True)
class PolicyRule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RBACRole:
    """A Role (namespaced) or ClusterRole (``namespace`` None)."""

    cluster: str
    name: str
    kind: Literal["Role", "ClusterRole"]
    namespace: str | None = None
    rules: tuple[PolicyRule, ...] = ()
    aggregation_selectors: tuple[Mapping[str, str], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Subject:
    kind: Literal["User", "Group", "ServiceAccount"]
    name: str
    namespace: str | None = None


@dataclass(frozen=True, kw_only=True)
class RBACBinding:
    """A RoleBinding (namespaced) or ClusterRoleBinding (``namespace`` None)."""

    cluster: str
    name: str
    kind: Literal["RoleBinding", "ClusterRoleBinding"]
    role_kind: Literal["Role", "ClusterRole"]
    role_name: str
    namespace: str | None = None
    subjects: tuple[Subject, ...] = ()


# --- kubernetes-external-secrets (kubernetes-client.io/v1) ------------------------------------------


@dataclass(frozen=True, kw_only=True)
class KESDataItem:
    key: str | None = None
    name: str | None = None
    property: str | None = None
    path: str | None = None
    recursive: bool = False
    is_binary: bool = False
    version_stage: str | None = None
    version_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class KESExternalSecret:
    cluster: str
    namespace: str
    name: str
    backend_type: str
    """``systemManager`` or ``secretsManager`` (legacy ``secretManager`` normalised); others kept as given."""
    role_arn: str | None = None
    region: str | None = None
    controller_id: str | None = None
    data: tuple[KESDataItem, ...] = ()
    data_from: tuple[str, ...] = ()
    data_from_with_options: tuple[KESDataItem, ...] = ()
    has_template: bool = False
    legacy_form: bool = False
    """True when read from ``secretDescriptor`` / ``properties`` rather than ``spec.data``."""


@dataclass(frozen=True, kw_only=True)
class KESController:
    """A kubernetes-external-secrets controller deployment and its configuration."""

    cluster: str
    namespace: str
    name: str
    service_account: str
    aws_region: str | None = None
    intermediate_role_arn: str | None = None
    enforce_namespace_annotations: bool = False
    role_permitted_annotation: str = KES_PERMITTED_ANNOTATION
    watched_namespaces: tuple[str, ...] = ()
    """Empty means every namespace."""
    instance_id: str | None = None
    naming_permitted_annotation: str = KES_NAMING_PERMITTED_ANNOTATION
    sts_endpoint_type: str | None = None
    """``AWS_STS_ENDPOINT_TYPE`` (the controller defaults to ``regional``)."""
    static_credentials: bool = False
    """True when the controller has ``AWS_ACCESS_KEY_ID`` in its environment (static keys, not IRSA)."""


# --- External Secrets Operator (external-secrets.io) ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StoreRef:
    name: str
    kind: Literal["SecretStore", "ClusterSecretStore"] = "SecretStore"


@dataclass(frozen=True, kw_only=True)
class JWTAuth:
    service_account: str
    namespace: str | None = None
    audiences: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SecretRefAuth:
    access_key_secret: str
    namespace: str | None = None


@dataclass(frozen=True, kw_only=True)
class StoreConditions:
    """One ``conditions`` entry of a ClusterSecretStore (any entry matching admits a namespace)."""

    namespaces: tuple[str, ...] = ()
    namespace_regexes: tuple[str, ...] = ()
    namespace_selector: Mapping[str, str] | None = None
    """matchLabels of the selector (matchExpressions are recorded as a flag)."""
    has_match_expressions: bool = False


@dataclass(frozen=True, kw_only=True)
class ESOSecretStore:
    cluster: str
    name: str
    kind: Literal["SecretStore", "ClusterSecretStore"]
    api_version: str
    namespace: str | None = None
    provider: str = "aws"
    """The provider key under ``spec.provider``; only ``aws`` stores are analysed."""
    service: str | None = None
    region: str | None = None
    role: str | None = None
    additional_roles: tuple[str, ...] = ()
    external_id: str | None = None
    session_tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    session_tags_policy: str = "None"
    jwt: JWTAuth | None = None
    secret_ref: SecretRefAuth | None = None
    conditions: tuple[StoreConditions, ...] = ()
    prefix: str | None = None
    controller_class: str | None = None


@dataclass(frozen=True, kw_only=True)
class ESODataItem:
    secret_key: str | None
    remote_key: str
    property: str | None = None
    version: str | None = None
    metadata_policy: str = "None"
    store_ref: StoreRef | None = None
    """``sourceRef.storeRef`` when it overrides the ExternalSecret's store."""


@dataclass(frozen=True, kw_only=True)
class ESODataFrom:
    extract_key: str | None = None
    find_path: str | None = None
    find_name_regexp: str | None = None
    find_tags: Mapping[str, str] = field(default_factory=dict)
    store_ref: StoreRef | None = None
    generator: str | None = None


@dataclass(frozen=True, kw_only=True)
class ESOExternalSecret:
    cluster: str
    namespace: str
    name: str
    api_version: str
    store_ref: StoreRef | None
    target_name: str
    creation_policy: str = "Owner"
    data: tuple[ESODataItem, ...] = ()
    data_from: tuple[ESODataFrom, ...] = ()
    has_template: bool = False
    target_manifest_kind: str | None = None
    from_cluster_external_secret: str | None = None


@dataclass(frozen=True, kw_only=True)
class ESOClusterExternalSecret:
    cluster: str
    name: str
    api_version: str
    namespaces: tuple[str, ...] = ()
    namespace_selectors: tuple[Mapping[str, str], ...] = ()
    """matchLabels of each selector; an empty mapping selects every namespace."""
    selector_match_expressions: bool = False
    """True when a selector also has matchExpressions (not reduced to labels)."""
    template: ESOExternalSecret | None = None
    """The ExternalSecret spec fanned out (namespace left empty)."""


@dataclass(frozen=True, kw_only=True)
class ESOPushSecret:
    cluster: str
    namespace: str
    name: str
    api_version: str
    store_refs: tuple[StoreRef, ...] = ()
    store_selectors: tuple[Mapping[str, str], ...] = ()
    """matchLabels of ``secretStoreRefs[].labelSelector`` entries (stores picked by label)."""
    source_secret: str | None = None
    remote_keys: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ESOController:
    """An External Secrets Operator controller deployment."""

    cluster: str
    namespace: str
    name: str
    service_account: str
    controller_class: str | None = None


# --- Secrets Store CSI driver, AWS provider (secrets-store.csi.x-k8s.io/v1) ----------------------------


@dataclass(frozen=True, kw_only=True)
class CSIObject:
    object_name: str
    object_type: str | None = None
    """``ssmparameter`` or ``secretsmanager`` (None when the name is a full ARN)."""
    object_alias: str | None = None
    object_version: str | None = None
    object_version_label: str | None = None


@dataclass(frozen=True, kw_only=True)
class SecretProviderClass:
    cluster: str
    namespace: str
    name: str
    provider: str
    region: str | None = None
    failover_region: str | None = None
    use_pod_identity: bool = False
    objects: tuple[CSIObject, ...] = ()
    synced_secrets: tuple[str, ...] = ()
    """Names of Kubernetes Secrets the driver syncs the objects into (``secretObjects``)."""
