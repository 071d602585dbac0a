"""RBAC capabilities that reach secret values, as ``potential`` edges from the subjects that hold them.

Roles and bindings are reduced to seven capabilities, each scoped to a namespace (RoleBinding) or
the cluster (ClusterRoleBinding):

* read Secrets (get / list / watch ``secrets``) -> every materialised Kubernetes Secret in scope;
* run as a service account (create pods or pod-owning workloads, update those workloads,
  ``pods/exec`` / ``pods/attach``, ``serviceaccounts/token`` create, ``impersonate``
  serviceaccounts) -> the service accounts in scope;
* create pods (or create / update pod-owning workloads) -> the node roles a new pod reaches through
  instance metadata: a ``hostNetwork`` pod even with hop limit 1, unless the namespace's Pod Security
  level forbids host networking (other admission policies are not collected: the evidence says so);
* create / update ExternalSecrets (KES ``kubernetes-client.io`` or ESO ``external-secrets.io``) ->
  the synthetic "any ExternalSecret in <ns>" node;
* create / update PushSecrets -> the synthetic "any PushSecret in <ns>" node (write paths only);
* create / update SecretStores -> the IRSA role of every annotated service account of the
  namespace whose trust accepts its token for some audience (a store with ``auth.jwt`` makes ESO
  mint that service account's token, for audiences the author picks) and the ESO controller's own
  identity (a store without ``auth``); the store's ``role`` can chain further.

ServiceAccount subjects are the ``sa:`` nodes themselves; users and groups get ``rbac-subject``
nodes. Rules are matched, and ClusterRole aggregation resolved, by :mod:`irsa_lib.graph.rbac_rules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from irsa_lib import subjects
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.eso import store_author_identities
from irsa_lib.graph.imds import new_pod_legs
from irsa_lib.graph.rbac_rules import RoleRules, rule_allows, rule_matches
from irsa_lib.graph.schema import (
    CLUSTER,
    NAME,
    NAMESPACE,
    EdgeData,
    Mechanism,
    NodeType,
    eso_es_id,
    kes_es_id,
    push_id,
    rbac_subject_id,
)
from irsa_lib.model import PolicyRule, RBACBinding, Subject

WORKLOAD_RESOURCES = {
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
}


def _can(rule: PolicyRule, verbs: Iterable[str], group: str, resource: str) -> bool:
    """Whether ``rule`` allows one of ``verbs`` on some object: ``create`` names no object, so a rule
    limited by ``resourceNames`` never allows it; other verbs reach the named objects."""
    return any(
        rule_allows(rule, v, group, resource) if v == "create" else rule_matches(rule, v, group, resource)
        for v in verbs
    )


@dataclass(frozen=True)
class Capability:
    kind: str
    """read-secrets | run-as | create-pod | create-kes-es | create-eso-es | create-store | create-push-secret"""
    names: tuple[str, ...] = ()
    """resourceNames restriction (empty = any)."""


def capabilities(rules: tuple[PolicyRule, ...]) -> list[Capability]:
    out: list[Capability] = []
    for r in rules:
        names = r.resource_names
        if _can(r, ("get", "list", "watch"), "", "secrets"):
            out.append(Capability("read-secrets", names))
        if any(_can(r, ("create", "update", "patch"), g, res) for g, res in WORKLOAD_RESOURCES):
            out.append(Capability("run-as"))
        if _can(r, ("create",), "", "pods") or any(
            _can(r, ("create", "update", "patch"), g, res) for g, res in WORKLOAD_RESOURCES if res != "pods"
        ):
            out.append(Capability("create-pod"))
        if _can(r, ("create", "get"), "", "pods/exec") or _can(r, ("create", "get"), "", "pods/attach"):
            out.append(Capability("run-as"))
        if _can(r, ("create",), "", "serviceaccounts/token") or _can(r, ("impersonate",), "", "serviceaccounts"):
            out.append(Capability("run-as", names))
        if _can(r, ("create", "update", "patch"), "kubernetes-client.io", "externalsecrets"):
            out.append(Capability("create-kes-es"))
        if _can(r, ("create", "update", "patch"), "external-secrets.io", "externalsecrets"):
            out.append(Capability("create-eso-es"))
        if _can(r, ("create", "update", "patch"), "external-secrets.io", "secretstores"):
            out.append(Capability("create-store"))
        if _can(r, ("create", "update", "patch"), "external-secrets.io", "pushsecrets"):
            out.append(Capability("create-push-secret"))
    return out


def _subject_node(ctx: BuildContext, cluster: str, binding: RBACBinding, s: Subject) -> str:
    if s.kind == "ServiceAccount":
        return ctx.sa_node(cluster, s.namespace or binding.namespace or "default", s.name)
    return ctx.graph.add_node(
        rbac_subject_id(cluster, s.kind, s.namespace, s.name),
        NodeType.RBAC_SUBJECT,
        subjects.display(
            subjects.Subject(
                subjects.SubjectKind.RBAC_GROUP if s.kind == "Group" else subjects.SubjectKind.RBAC_USER,
                cluster,
                s.namespace,
                s.name,
            )
        ),
        **{CLUSTER: cluster, NAMESPACE: s.namespace, NAME: s.name},
        kind=s.kind,
    )


def add_rbac_edges(ctx: BuildContext) -> None:
    g = ctx.graph
    secrets_by_ns: dict[tuple[str, str], list[str]] = defaultdict(list)
    for n in g.nodes_of(NodeType.K8S_SECRET):
        attrs = g.node(n)
        if g.has_out_edges(n):
            secrets_by_ns[(attrs[CLUSTER], attrs[NAMESPACE])].append(n)
    roles = RoleRules(ctx.snapshot.rbac_roles)
    for b in ctx.snapshot.rbac_bindings:
        role = roles.role_for(b)
        if role is None:
            continue
        caps = capabilities(roles.rules_of(role))
        if not caps:
            continue
        namespaces = [b.namespace] if b.kind == "RoleBinding" and b.namespace else ctx.cluster_namespaces(b.cluster)
        why = f"{b.kind} {b.namespace + '/' if b.namespace else ''}{b.name} grants {b.role_kind} {b.role_name}"
        for s in b.subjects:
            subject = _subject_node(ctx, b.cluster, b, s)
            for ns in namespaces:
                for cap in caps:
                    for target, mech, via, extra in _targets(ctx, b.cluster, ns, cap, secrets_by_ns):
                        if target == subject:
                            continue
                        g.add_edge(
                            subject,
                            target,
                            EdgeData(
                                mechanism=mech,
                                decision="potential",
                                evidence=(f"{why}: {cap.kind} in {ns}", *extra),
                                via=via,
                            ),
                            key=f"{mech}:{b.kind}/{b.namespace}/{b.name}",
                        )


Target = tuple[str, Mechanism, tuple[str, ...], tuple[str, ...]]
"""(node, mechanism, via, extra evidence) of one capability edge."""


def _targets(
    ctx: BuildContext, cluster: str, ns: str, cap: Capability, secrets_by_ns: dict[tuple[str, str], list[str]]
) -> list[Target]:
    g = ctx.graph
    if cap.kind == "read-secrets":
        return [
            (n, Mechanism.RBAC_READ_SECRETS, (), ())
            for n in secrets_by_ns.get((cluster, ns), [])
            if not cap.names or g.node(n)[NAME] in cap.names
        ]
    if cap.kind == "run-as":
        return [
            (ctx.sa_node(cluster, ns, sa.name), Mechanism.RBAC_RUN_AS, (), ())
            for sa in ctx.sas_by_namespace.get((cluster, ns), [])
            if not cap.names or sa.name in cap.names
        ]
    if cap.kind == "create-pod":
        return [(node, Mechanism.RBAC_NODE_ROLE, (), leg.evidence) for node, leg in new_pod_legs(ctx, cluster, ns)]
    if cap.kind == "create-store":
        return [(node, Mechanism.RBAC_CREATE_STORE, via, ()) for node, via in store_author_identities(ctx, cluster, ns)]
    if cap.kind == "create-push-secret":
        node = push_id(cluster, ns)
        return [(node, Mechanism.RBAC_CREATE_PUSH_SECRET, (), ())] if node in g else []
    node = kes_es_id(cluster, ns) if cap.kind == "create-kes-es" else eso_es_id(cluster, ns)
    return [(node, Mechanism.RBAC_CREATE_EXTERNAL_SECRET, (), ())] if node in g else []
