"""ESO PushSecret write edges: PushSecret -> the values ESO overwrites through a store's credentials.

A PushSecret (``external-secrets.io/v1alpha1``) writes a Kubernetes Secret to each store it names,
with that store's credential chain (domain-spec §2.4): ``ssm:PutParameter`` or
``secretsmanager:PutSecretValue`` plus the KMS action that encrypts the new value. Each PushSecret
gets ``eso-push`` edges to the existing values its ``remoteKey`` entries name, and the synthetic
``eso-push:<cluster>/<ns>/*`` node ("any PushSecret someone could create in <ns>") gets edges to
every value a store usable from ``<ns>`` could overwrite. Values a PushSecret would create are not
nodes. Stores picked by ``labelSelector`` cannot be resolved (store labels are not collected): a gap.
"""

from __future__ import annotations

import dataclasses

from irsa_lib.graph.aws import ALL_WRITE_ACTIONS, SecretRecord, account_of
from irsa_lib.graph.chains import add_controller_read
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.eso import admits, lookup_store, remote_value, store_chains, stores_by_key
from irsa_lib.graph.legs import combine
from irsa_lib.graph.schema import CLUSTER, NAME, NAMESPACE, SYNTHETIC, Mechanism, NodeType, push_id
from irsa_lib.model import ESOSecretStore, SSMParameter


def add_push_edges(ctx: BuildContext) -> None:
    stores = stores_by_key(ctx)
    for ps in ctx.snapshot.eso_push_secrets:
        node = _push_node(ctx, ps.cluster, ps.namespace, ps.name)
        if ps.store_selectors:
            ctx.graph.add_gap(
                Gap(
                    what=f"PushSecret {ps.namespace}/{ps.name} picks stores by label; store labels are not "
                    "collected, so what it may overwrite is unknown",
                    cluster=ps.cluster,
                )
            )
        for ref in ps.store_refs:
            store = lookup_store(stores, ps.cluster, ps.namespace, ref)
            if store is not None:
                for chain in _chains(ctx, store, ps.namespace):
                    account = account_of(chain.identity.role_arn) or ""
                    targets = [t for key in ps.remote_keys if (t := remote_value(ctx, store, key, account))]
                    _writes(ctx, node, chain, targets, f"PushSecret {ps.namespace}/{ps.name} via {ref.kind} {ref.name}")
    by_cluster: dict[str, list[ESOSecretStore]] = {}
    for s in stores.values():
        by_cluster.setdefault(s.cluster, []).append(s)
    for cluster, cluster_stores in sorted(by_cluster.items()):
        for ns in ctx.cluster_namespaces(cluster):
            _synthetic(ctx, cluster, ns, cluster_stores)


def _push_node(ctx: BuildContext, cluster: str, namespace: str, name: str = "*") -> str:
    synthetic = name == "*"
    label = f"any PushSecret someone could create in {namespace}" if synthetic else f"PushSecret {namespace}/{name}"
    return ctx.graph.add_node(
        push_id(cluster, namespace, name),
        NodeType.ESO_PUSH_SECRET,
        label,
        **{CLUSTER: cluster, NAMESPACE: namespace, NAME: name, SYNTHETIC: synthetic},
    )


def _chains(ctx: BuildContext, store: ESOSecretStore, namespace: str) -> list[Reach]:
    admitted = admits(ctx, store, namespace)
    if admitted is None:
        return []
    out = []
    for chain in store_chains(ctx, store, namespace):
        leg = combine([chain.leg, admitted])
        if leg is not None:
            out.append(dataclasses.replace(chain, leg=leg))
    return out


def _writes(ctx: BuildContext, node: str, chain: Reach, targets: list[SecretRecord], why: str) -> None:
    for target in targets:
        write = ctx.aws.write(chain.identity, target)
        if write is not None:
            add_controller_read(ctx, node, chain, target, write, Mechanism.ESO_PUSH, evidence=(why,))


def _synthetic(ctx: BuildContext, cluster: str, ns: str, stores: list[ESOSecretStore]) -> None:
    for store in stores:
        if store.service not in ("ParameterStore", "SecretsManager"):
            continue
        ssm = store.service == "ParameterStore"
        for chain in _chains(ctx, store, ns):
            if not ctx.aws.has_role(chain.identity.role_arn):
                continue
            targets = [
                t
                for t in ctx.aws.candidate_targets(chain.identity, ALL_WRITE_ACTIONS)
                if isinstance(t, SSMParameter) == ssm
            ]
            if targets:
                why = f"a PushSecret in {ns} may use {store.kind} {store.name}"
                _writes(ctx, _push_node(ctx, cluster, ns), chain, targets, why)
