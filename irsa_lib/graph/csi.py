"""Secrets Store CSI driver, AWS provider (ASCP): workload -> value with the pod's own identity.

The provider uses the mounting pod's service account: its IRSA role (the SA annotation, whose
trust must accept the SA), or its Pod Identity association when ``usePodIdentity`` is "true". SSM
values are fetched with ``ssm:GetParameters`` (not GetParameter), Secrets Manager values with
``secretsmanager:GetSecretValue``. Objects synced into Kubernetes Secrets (``secretObjects``)
make those Secrets hold the value too.
"""

from __future__ import annotations

from irsa_lib.graph.aws import SecretRecord, account_of, consumer_actions
from irsa_lib.graph.chains import add_controller_read, rebase
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.nodes import k8s_secret_node
from irsa_lib.graph.read import target_node
from irsa_lib.graph.schema import CLUSTER, NAME, NAMESPACE, EdgeData, Mechanism, NodeType, sa_id, spc_id, workload_id
from irsa_lib.model import CSIObject, SecretProviderClass, Workload

DRIVER = "secrets-store.csi.k8s.io"


def pod_identities(ctx: BuildContext, w: Workload, spc: SecretProviderClass) -> list[Reach]:
    reach = ctx.sa_reach.get(sa_id(w.cluster, w.namespace, w.service_account), [])
    if spc.use_pod_identity:
        return [r for r in reach if r.mechanism == Mechanism.POD_IDENTITY]
    sa = ctx.service_accounts.get((w.cluster, w.namespace, w.service_account))
    role_arn = sa.role_arn if sa else None
    return [r for r in reach if r.mechanism == Mechanism.IRSA and r.identity.role_arn == role_arn]


def resolve_object(ctx: BuildContext, obj: CSIObject, account: str, region: str) -> SecretRecord | None:
    name = obj.object_name
    if name.startswith("arn:"):
        return ctx.targets.by_arn(name) or ctx.targets.secret(name, account, region)
    if obj.object_type == "ssmparameter":
        return ctx.targets.parameter(name, account, region)
    if obj.object_type == "secretsmanager":
        return ctx.targets.secret(name, account, region)
    return None


def add_csi_edges(ctx: BuildContext) -> None:
    spcs = {(s.cluster, s.namespace, s.name): s for s in ctx.snapshot.secret_provider_classes}
    for w in ctx.snapshot.workloads:
        for vol in w.csi_volumes:
            if vol.driver != DRIVER or not vol.secret_provider_class:
                continue
            spc = spcs.get((w.cluster, w.namespace, vol.secret_provider_class))
            if spc is None:
                ctx.graph.add_gap(
                    Gap(
                        what=f"{w.kind} {w.namespace}/{w.name} mounts SecretProviderClass "
                        f"{vol.secret_provider_class}, not in the snapshot",
                        cluster=w.cluster,
                    )
                )
                continue
            if spc.provider == "aws":
                _mount(ctx, w, spc)


def _mount(ctx: BuildContext, w: Workload, spc: SecretProviderClass) -> None:
    g = ctx.graph
    wnode = workload_id(w.cluster, w.namespace, w.kind, w.name)
    snode = g.add_node(
        spc_id(spc.cluster, spc.namespace, spc.name),
        NodeType.SECRET_PROVIDER_CLASS,
        f"SecretProviderClass {spc.namespace}/{spc.name}",
        **{CLUSTER: spc.cluster, NAMESPACE: spc.namespace, NAME: spc.name},
    )
    eks = ctx.clusters.get(w.cluster)
    region = spc.region or (eks.region if eks else "")
    for chain in pod_identities(ctx, w, spc):
        chain = rebase(snode, chain)
        account = account_of(chain.identity.role_arn) or ""
        for obj in spc.objects:
            target = resolve_object(ctx, obj, account, region)
            if target is None:
                continue
            read = ctx.aws.read(chain.identity, target, consumer_actions("csi", target))
            if read is None:
                continue
            evidence = (f"{w.kind} {w.namespace}/{w.name} mounts {obj.object_name} via SecretProviderClass {spc.name}",)
            add_controller_read(ctx, wnode, chain, target, read, Mechanism.CSI_MOUNT, evidence=evidence)
            for synced in spc.synced_secrets:
                k8s = k8s_secret_node(ctx, w.cluster, w.namespace, synced)
                edge = g.edge(wnode, target_node(target), f"{Mechanism.CSI_MOUNT}:{chain.node}")
                g.add_edge(
                    k8s,
                    target_node(target),
                    EdgeData(
                        mechanism=Mechanism.MATERIALISED_FROM,
                        decision=edge["decision"],
                        evidence=(
                            f"SecretProviderClass {spc.name} secretObjects syncs mounted values into Secret {synced}",
                            *edge["evidence"],
                        ),
                        unresolved_keys=edge["unresolved_keys"],
                        missing=edge.get("missing", ()),
                        via=(wnode, *chain.hops),
                    ),
                    key=f"{Mechanism.MATERIALISED_FROM}:{wnode}",
                )
