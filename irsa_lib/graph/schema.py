"""The access graph's vocabulary: node types, edge mechanisms, attribute names and node ids.

Everything that reads the graph (access rows, findings, reports) names attributes through this
module, never through string literals of its own.

Node ids
--------
Ids are stable across runs of the same snapshot and readable on their own:

=========================  ====================================================================
type                       id
=========================  ====================================================================
service-account            ``sa:<cluster>/<ns>/<name>``
any-service-account        ``any-sa:<cluster>`` or ``any-sa:<cluster>/<ns>`` (an SA someone could create)
workload                   ``workload:<cluster>/<ns>/<Kind>/<name>``
k8s-secret                 ``k8s-secret:<cluster>/<ns>/<name>``
rbac-subject               ``rbac-subject:<cluster>/<User|Group>/<ns or ->/<name>`` (ServiceAccount
                           subjects are the ``sa:`` node itself)
kes-external-secret        ``kes-es:<cluster>/<ns>/<name>``; ``kes-es:<cluster>/<ns>/*`` is the synthetic
                           "any ExternalSecret someone could create in <ns>"
eso-external-secret        ``eso-es:<cluster>/<ns>/<name>``; ``eso-es:<cluster>/<ns>/*`` likewise
eso-store                  ``store:<cluster>/<ns>/SecretStore/<name>``, ``store:<cluster>/-/ClusterSecretStore/<name>``
eso-push-secret            ``eso-push:<cluster>/<ns>/<name>``; ``eso-push:<cluster>/<ns>/*`` is the synthetic
                           "any PushSecret someone could create in <ns>"
kubelet                    ``kubelet:<cluster>/<node>``; ``kubelet:<cluster>/*`` is "the kubelet of whichever
                           node runs the pod" (the node is not known for pod-owning workloads)
secret-provider-class      ``spc:<cluster>/<ns>/<name>``
static-credentials         ``static-creds:<cluster>/<ns>/<secret-name>`` (keys in a Kubernetes Secret)
oidc-provider              ``oidc:<arn>``
iam-role / node-role       ``role:<arn>`` (one node per role; type ``node-role`` when a node group uses it)
role-session               ``session:<role-arn>#<cluster>/<ns>/<sa>`` (Pod Identity session with its tags)
kms-key                    ``key:<arn>``
ssm-parameter              ``param:<arn>`` (SecureString parameters only)
secretsmanager-secret      ``secret:<arn>``
=========================  ====================================================================

Edges
-----
An edge ``u -> v`` means "whoever holds ``u`` can obtain ``v``": a workload holds its service
account's token, a service account can assume a role, a role can read a parameter. The exceptions
are the :data:`WRITE_MECHANISMS`: ``u -> value`` there means "can overwrite", never "can read"
(reading queries skip them, writing queries end with one). Every edge
carries :data:`MECHANISM`, :data:`DECISION`, :data:`EVIDENCE` and :data:`UNRESOLVED_KEYS`; some
carry :data:`CONFIGURED`, :data:`CHAINED`, :data:`ACTIONS` or :data:`VIA` as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

EdgeDecision = Literal["allow", "conditional", "potential"]
"""``potential``: needs a capability the source has but has not exercised (RBAC, wildcard trust)."""
EDGE_DECISIONS: tuple[EdgeDecision, ...] = ("allow", "conditional", "potential")
"""Every edge decision, strongest first: where several edges or paths compete, the first one wins."""


class NodeType(StrEnum):
    SERVICE_ACCOUNT = "service-account"
    ANY_SERVICE_ACCOUNT = "any-service-account"
    WORKLOAD = "workload"
    K8S_SECRET = "k8s-secret"
    RBAC_SUBJECT = "rbac-subject"
    KES_EXTERNAL_SECRET = "kes-external-secret"
    ESO_EXTERNAL_SECRET = "eso-external-secret"
    ESO_STORE = "eso-store"
    SECRET_PROVIDER_CLASS = "secret-provider-class"
    ESO_PUSH_SECRET = "eso-push-secret"
    KUBELET = "kubelet"
    STATIC_CREDENTIALS = "static-credentials"
    OIDC_PROVIDER = "oidc-provider"
    IAM_ROLE = "iam-role"
    NODE_ROLE = "node-role"
    ROLE_SESSION = "role-session"
    KMS_KEY = "kms-key"
    SSM_PARAMETER = "ssm-parameter"
    SECRETSMANAGER_SECRET = "secretsmanager-secret"


SUBJECT_TYPES: frozenset[NodeType] = frozenset(
    {NodeType.SERVICE_ACCOUNT, NodeType.ANY_SERVICE_ACCOUNT, NodeType.RBAC_SUBJECT, NodeType.WORKLOAD, NodeType.KUBELET}
)
"""Node types an access path may start from."""

SECRET_TYPES: frozenset[NodeType] = frozenset({NodeType.SSM_PARAMETER, NodeType.SECRETSMANAGER_SECRET})
"""Node types holding a secret value: the targets of every access path."""

PRINCIPAL_TYPES: frozenset[NodeType] = frozenset({NodeType.IAM_ROLE, NodeType.NODE_ROLE, NodeType.ROLE_SESSION})
"""Node types that are AWS identities (can hold CAN_READ edges)."""


class Mechanism(StrEnum):
    # Kubernetes side
    RUNS_AS = "runs-as"
    """workload -> service-account: the workload's containers hold the SA's token."""
    MOUNTS_SECRET = "mounts-secret"
    """workload -> k8s-secret: env / envFrom / volume reference."""
    MATERIALISED_FROM = "materialised-from"
    """k8s-secret -> kes-es / eso-es / (CSI sync) secret: the Secret holds what that object fetched."""
    RBAC_READ_SECRETS = "rbac-read-secrets"
    """subject -> k8s-secret: get/list/watch on secrets (potential)."""
    RBAC_RUN_AS = "rbac-run-as"
    """subject -> service-account: create pods/workloads, pods/exec, serviceaccounts/token, impersonate (potential)."""
    RBAC_CREATE_EXTERNAL_SECRET = "rbac-create-external-secret"
    """subject -> synthetic ``kes-es``/``eso-es`` node of a namespace (potential)."""
    RBAC_CREATE_PUSH_SECRET = "rbac-create-push-secret"
    """subject -> synthetic ``eso-push`` node of a namespace (potential)."""
    RBAC_NODE_ROLE = "rbac-node-role"
    """subject -> node-role: a pod it creates reaches instance metadata (a ``hostNetwork`` pod even with
    hop limit 1) unless the namespace's Pod Security level forbids host networking (potential)."""
    KUBELET_READ = "kubelet-read"
    """kubelet -> k8s-secret: the node authorizer lets a kubelet read the Secrets its pods reference."""
    RBAC_CREATE_STORE = "rbac-create-store"
    """subject -> role: a SecretStore it writes borrows an annotated SA's IRSA role or the ESO controller's
    identity (potential)."""
    # Identity
    IRSA = "irsa"
    """service-account -> iam-role: the role's trust allows the SA's web-identity token."""
    POD_IDENTITY = "pod-identity"
    """service-account -> iam-role / role-session: an EKS Pod Identity association."""
    POD_IDENTITY_TARGET = "pod-identity-target"
    """role-session -> iam-role: the association's targetRoleArn (chained by EKS)."""
    NODE_IMDS = "node-imds"
    """workload -> node-role: the pod can reach the instance metadata service."""
    ASSUME_ROLE = "assume-role"
    """role -> role: sts:AssumeRole allowed by the destination's trust (and the source's policies)."""
    # Controllers
    KES_READ = "kes-read"
    """kes-es -> parameter/secret: the KES controller fetches it for this ExternalSecret (``via`` = chain)."""
    ESO_READ = "eso-read"
    """eso-es -> parameter/secret: ESO fetches it through the store's credentials (``via`` = chain)."""
    STORE_CREDENTIALS = "store-credentials"
    """eso-store -> iam-role / static-credentials: where the store's credential chain ends (``via`` = chain).
    For display only: no subject reaches a store node, so no access path passes through it."""
    CSI_MOUNT = "csi-mount"
    """workload -> parameter/secret: ASCP mounts it with the pod's own identity (``via`` = [spc, role])."""
    # AWS read
    CAN_READ = "can-read"
    """principal -> parameter/secret: read action allowed AND kms:Decrypt on its key allowed."""
    # AWS write (never part of a reading path)
    CAN_WRITE = "can-write"
    """principal -> parameter/secret: ssm:PutParameter / secretsmanager:PutSecretValue allowed AND the KMS
    action that encrypts the new value (kms:Encrypt or kms:GenerateDataKey)."""
    ESO_PUSH = "eso-push"
    """eso-push -> parameter/secret: ESO writes it through the store's credentials (``via`` = chain)."""


WRITE_MECHANISMS: frozenset[Mechanism] = frozenset({Mechanism.CAN_WRITE, Mechanism.ESO_PUSH})
"""Edges that overwrite a value: reading queries never follow them."""


# Edge attribute names ---------------------------------------------------------------------------
MECHANISM = "mechanism"
DECISION = "decision"
EVIDENCE = "evidence"
"""tuple[str, ...]: statements (source + Sid), annotations, manifest fields that made the edge."""
UNRESOLVED_KEYS = "unresolved_keys"
"""tuple[str, ...]: condition keys a conditional decision depends on."""
CONFIGURED = "configured"
"""bool: the edge is the one configured (SA annotation names the role); others exist by trust alone."""
CHAINED = "chained"
"""bool: role chaining (session capped at one hour)."""
ACTIONS = "actions"
"""tuple[str, ...]: on read edges, the API actions found possible."""
VIA = "via"
"""tuple[str, ...]: node ids of the intermediate identities of a controller / CSI edge, in order."""
MISSING = "missing"
"""tuple[str, ...]: policies that take part in the edge's decision but were not available."""
READ_DECISION = "read_decision"
DECRYPT_DECISION = "decrypt_decision"
WRITE_DECISION = "write_decision"
ENCRYPT_DECISION = "encrypt_decision"

# Node attribute names ---------------------------------------------------------------------------
TYPE = "type"
LABEL = "label"
CLUSTER = "cluster"
NAMESPACE = "namespace"
NAME = "name"
ARN = "arn"
ACCOUNT = "account_id"
REGION = "region"
HOP_ONLY = "hop_only"
"""bool: an identity whose credentials no subject holds (EKS's internal Pod Identity session before
``targetRoleArn``); no read, write or assume edge starts from it."""
SYNTHETIC = "synthetic"
"""bool: the node stands for something that does not exist yet but could be created."""


@dataclass(frozen=True, kw_only=True)
class EdgeData:
    """The attributes of one edge, typed. ``attrs()`` gives the dict stored on the graph."""

    mechanism: Mechanism
    decision: EdgeDecision
    evidence: tuple[str, ...] = ()
    unresolved_keys: tuple[str, ...] = ()
    configured: bool | None = None
    chained: bool | None = None
    actions: tuple[str, ...] = ()
    via: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            MECHANISM: self.mechanism,
            DECISION: self.decision,
            EVIDENCE: self.evidence,
            UNRESOLVED_KEYS: self.unresolved_keys,
        }
        if self.configured is not None:
            out[CONFIGURED] = self.configured
        if self.chained is not None:
            out[CHAINED] = self.chained
        if self.actions:
            out[ACTIONS] = self.actions
        if self.via:
            out[VIA] = self.via
        if self.missing:
            out[MISSING] = self.missing
        out.update(self.extra)
        return out


# Node ids ---------------------------------------------------------------------------------------
def sa_id(cluster: str, namespace: str, name: str) -> str:
    return f"sa:{cluster}/{namespace}/{name}"


def any_sa_id(cluster: str, namespace: str | None = None) -> str:
    return f"any-sa:{cluster}" if namespace is None else f"any-sa:{cluster}/{namespace}"


def workload_id(cluster: str, namespace: str, kind: str, name: str) -> str:
    return f"workload:{cluster}/{namespace}/{kind}/{name}"


def k8s_secret_id(cluster: str, namespace: str, name: str) -> str:
    return f"k8s-secret:{cluster}/{namespace}/{name}"


def rbac_subject_id(cluster: str, kind: str, namespace: str | None, name: str) -> str:
    return f"rbac-subject:{cluster}/{kind}/{namespace or '-'}/{name}"


def kes_es_id(cluster: str, namespace: str, name: str = "*") -> str:
    return f"kes-es:{cluster}/{namespace}/{name}"


def eso_es_id(cluster: str, namespace: str, name: str = "*") -> str:
    return f"eso-es:{cluster}/{namespace}/{name}"


def store_id(cluster: str, kind: str, namespace: str | None, name: str) -> str:
    return f"store:{cluster}/{namespace or '-'}/{kind}/{name}"


def push_id(cluster: str, namespace: str, name: str = "*") -> str:
    return f"eso-push:{cluster}/{namespace}/{name}"


def kubelet_id(cluster: str, node: str | None = None) -> str:
    return f"kubelet:{cluster}/{node or '*'}"


def spc_id(cluster: str, namespace: str, name: str) -> str:
    return f"spc:{cluster}/{namespace}/{name}"


def static_creds_id(cluster: str, namespace: str, secret: str) -> str:
    return f"static-creds:{cluster}/{namespace}/{secret}"


def oidc_id(arn: str) -> str:
    return f"oidc:{arn}"


def role_id(arn: str) -> str:
    return f"role:{arn}"


def session_id(role_arn: str, cluster: str, namespace: str, sa: str) -> str:
    return f"session:{role_arn}#{cluster}/{namespace}/{sa}"


def key_id(arn: str) -> str:
    return f"key:{arn}"


def param_id(arn: str) -> str:
    return f"param:{arn}"


def secret_id(arn: str) -> str:
    return f"secret:{arn}"
