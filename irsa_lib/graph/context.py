"""State shared by the edge builders of one ``build_graph`` run: lookups and identity chains.

The builders run in a fixed order (see :mod:`irsa_lib.graph.build`); identity builders (IRSA, Pod
Identity, node IMDS) record what each service account and workload can become, and the controller
builders (KES, ESO, CSI) reuse it to follow a controller's credential chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from irsa_lib import subjects
from irsa_lib.graph.aws import AwsView, Identity, ReadLeg, SecretRecord
from irsa_lib.graph.core import AccessGraph
from irsa_lib.graph.legs import Leg
from irsa_lib.graph.schema import (
    ACCOUNT,
    ARN,
    HOP_ONLY,
    NAME,
    Mechanism,
    NodeType,
    role_id,
    sa_id,
    session_id,
    workload_id,
)
from irsa_lib.graph.targets import TargetIndex
from irsa_lib.model import EKSCluster, Namespace, NodeGroup, Role, ServiceAccount, Workload
from irsa_lib.snapshot import Snapshot


@dataclass(frozen=True, kw_only=True)
class Reach:
    """An AWS identity a Kubernetes object can obtain, and how."""

    node: str
    """The role (or role-session) node."""
    identity: Identity
    leg: Leg
    mechanism: Mechanism
    configured: bool = False
    via: tuple[str, ...] = ()
    """Identity nodes passed through before ``node`` (e.g. the association role before its target)."""

    @property
    def hops(self) -> tuple[str, ...]:
        return (*self.via, self.node)


@dataclass
class BuildContext:
    snapshot: Snapshot
    graph: AccessGraph
    aws: AwsView
    clusters: dict[str, EKSCluster] = field(default_factory=dict)
    namespaces: dict[tuple[str, str], Namespace] = field(default_factory=dict)
    service_accounts: dict[tuple[str, str, str], ServiceAccount] = field(default_factory=dict)
    sas_by_namespace: dict[tuple[str, str], list[ServiceAccount]] = field(default_factory=lambda: defaultdict(list))
    workloads_by_sa: dict[tuple[str, str, str], list[Workload]] = field(default_factory=lambda: defaultdict(list))
    node_groups: dict[str, list[NodeGroup]] = field(default_factory=lambda: defaultdict(list))
    node_role_arns: set[str] = field(default_factory=set)
    sa_reach: dict[str, list[Reach]] = field(default_factory=lambda: defaultdict(list))
    """sa node id -> identities its token obtains (IRSA, Pod Identity)."""
    imds_reach: dict[str, list[Reach]] = field(default_factory=lambda: defaultdict(list))
    """workload node id -> node roles reachable through instance metadata."""
    targets: TargetIndex = field(init=False)
    synthetic_reads: dict[tuple[Identity, str], list[tuple[SecretRecord, ReadLeg]]] = field(default_factory=dict)
    """(identity, consumer) -> [(value, read)]: what an object anyone could create fetches with no
    naming gate; the same in every namespace, so computed once (see chains.add_synthetic_reads)."""
    chain_reads: dict[tuple[int, int, Mechanism], tuple[Reach, list[Any], list[tuple[str, dict[str, Any]]]]] = field(
        default_factory=dict
    )
    """(chain, reads, mechanism) by id -> (chain, reads, their edges' node and attributes): the edges
    of those shared reads behind one chain, added from every namespace's synthetic object."""

    @classmethod
    def create(cls, snapshot: Snapshot, graph: AccessGraph, aws: AwsView) -> BuildContext:
        ctx = cls(snapshot=snapshot, graph=graph, aws=aws)
        ctx.targets = TargetIndex(aws.parameters, aws.secrets)
        ctx.clusters = {c.name: c for c in snapshot.clusters}
        ctx.namespaces = {(n.cluster, n.name): n for n in snapshot.namespaces}
        for sa in snapshot.service_accounts:
            ctx.service_accounts[(sa.cluster, sa.namespace, sa.name)] = sa
            ctx.sas_by_namespace[(sa.cluster, sa.namespace)].append(sa)
        for w in snapshot.workloads:
            ctx.workloads_by_sa[(w.cluster, w.namespace, w.service_account)].append(w)
        for ng in snapshot.node_groups:
            ctx.node_groups[ng.cluster_name].append(ng)
            if ng.node_role_arn:
                ctx.node_role_arns.add(ng.node_role_arn)
        return ctx

    def cluster_namespaces(self, cluster: str) -> list[str]:
        """Every namespace of a cluster the snapshot mentions (Namespace records or objects in it)."""
        names = {ns for (c, ns) in self.namespaces if c == cluster}
        names |= {ns for (c, ns) in self.sas_by_namespace if c == cluster}
        return sorted(names)

    def role_node(self, arn: str) -> str:
        """The node of an IAM role (type node-role when a node group uses it)."""
        role: Role | None = self.aws.roles.get(arn)
        node_type = NodeType.NODE_ROLE if arn in self.node_role_arns else NodeType.IAM_ROLE
        name = role.name if role else arn.rsplit("/", 1)[-1]
        return self.graph.add_node(
            role_id(arn),
            node_type,
            f"role {name}",
            **{ARN: arn, NAME: name, ACCOUNT: role.account_id if role else None, "observed": role is not None},
            identity=Identity(arn),
        )

    def sa_node(self, cluster: str, namespace: str, name: str) -> str:
        """The node of a service account; created (observed=False) when only referenced."""
        sa = self.service_accounts.get((cluster, namespace, name))
        return self.graph.add_node(
            sa_id(cluster, namespace, name),
            NodeType.SERVICE_ACCOUNT,
            subjects.display(subjects.Subject(subjects.SubjectKind.SERVICE_ACCOUNT, cluster, namespace, name)),
            cluster=cluster,
            namespace=namespace,
            name=name,
            observed=sa is not None,
        )

    def session_node(self, identity: Identity, cluster: str, namespace: str, sa: str, *, hop_only: bool = False) -> str:
        """A role session carrying session tags or a session policy (Pod Identity), evaluated with them.

        ``hop_only``: a session whose credentials no subject holds (EKS's own hop to a Pod Identity
        target role); it always gets its own node, and no read or assume edge starts from it.
        """
        if not identity.tags and identity.session_policy is None and not hop_only:
            return self.role_node(identity.role_arn)
        role = self.aws.roles.get(identity.role_arn)
        name = role.name if role else identity.role_arn.rsplit("/", 1)[-1]
        return self.graph.add_node(
            session_id(identity.role_arn, cluster, namespace, sa),
            NodeType.ROLE_SESSION,
            f"session of {name} for {namespace}/{sa}",
            **{ARN: identity.role_arn, NAME: name, ACCOUNT: role.account_id if role else None},
            observed=role is not None,
            identity=identity,
            tags=identity.tag_map,
            session_policy=identity.session_policy.source if identity.session_policy else None,
            origin=(cluster, namespace, sa),
            **{HOP_ONLY: hop_only},
        )

    def identity_node(self, identity: Identity, origin: tuple[str, str, str] | None = None) -> str:
        """Role node, or a session node when the identity carries tags or a session policy
        (origin = cluster, ns, sa)."""
        if (identity.tags or identity.session_policy is not None) and origin is not None:
            return self.session_node(identity, *origin)
        return self.role_node(identity.role_arn)

    def default_chain(self, cluster: str, namespace: str, sa_name: str) -> list[Reach]:
        """What the AWS SDK default chain of a pod running as this SA ends in.

        Web identity (a configured IRSA role) comes first, then the Pod Identity container
        provider, then the node role via instance metadata. Only the first available source is
        used by the SDK; when IRSA is configured but its trust does not match, SDKs differ on
        whether they fall back, so the next sources are kept as well.
        """
        node = sa_id(cluster, namespace, sa_name)
        reach = self.sa_reach.get(node, [])
        configured = [r for r in reach if r.configured and r.mechanism == Mechanism.IRSA]
        if configured:
            return configured
        pod_identity = [r for r in reach if r.mechanism == Mechanism.POD_IDENTITY]
        if pod_identity:
            return pod_identity
        out: list[Reach] = []
        for w in self.workloads_by_sa.get((cluster, namespace, sa_name), []):
            for r in self.imds_reach.get(_workload_key(w), []):
                if all(o.node != r.node for o in out):
                    out.append(r)
        return out


def _workload_key(w: Workload) -> str:
    return workload_id(w.cluster, w.namespace, w.kind, w.name)
