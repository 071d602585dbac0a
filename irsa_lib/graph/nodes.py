"""Nodes from snapshot records: service accounts, workloads, Kubernetes Secrets, secret values, keys.

Roles, sessions and synthetic nodes are added by the edge builders when an edge needs them, so
the graph holds only the AWS identities some Kubernetes object can reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from irsa_lib import subjects
from irsa_lib.graph.aws import is_plaintext
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.schema import (
    ACCOUNT,
    ARN,
    CLUSTER,
    KMS_KEY_ALIAS,
    KMS_KEY_ARN,
    KMS_KEY_MANAGER,
    NAME,
    NAMESPACE,
    PARAMETER_TYPE,
    REGION,
    SYNTHETIC,
    NodeType,
    eso_es_id,
    k8s_secret_id,
    kes_es_id,
    key_id,
    param_id,
    secret_id,
    workload_id,
)
from irsa_lib.model import KMSKey


def add_nodes(ctx: BuildContext) -> None:
    g = ctx.graph
    for sa in ctx.snapshot.service_accounts:
        ctx.sa_node(sa.cluster, sa.namespace, sa.name)
        g.node(ctx.sa_node(sa.cluster, sa.namespace, sa.name))["role_annotation"] = sa.role_arn
    for w in ctx.snapshot.workloads:
        g.add_node(
            workload_id(w.cluster, w.namespace, w.kind, w.name),
            NodeType.WORKLOAD,
            subjects.display(
                subjects.Subject(subjects.SubjectKind.WORKLOAD, w.cluster, w.namespace, f"{w.kind}/{w.name}")
            ),
            **{CLUSTER: w.cluster, NAMESPACE: w.namespace, NAME: w.name},
            kind=w.kind,
            service_account=w.service_account,
            host_network=w.host_network,
        )
    for k8s in ctx.snapshot.k8s_secrets:
        g.add_node(
            k8s_secret_id(k8s.cluster, k8s.namespace, k8s.name),
            NodeType.K8S_SECRET,
            f"Secret {k8s.namespace}/{k8s.name}",
            **{CLUSTER: k8s.cluster, NAMESPACE: k8s.namespace, NAME: k8s.name},
            observed=True,
        )
    for k in ctx.snapshot.kms_keys:
        g.add_node(
            key_id(k.arn),
            NodeType.KMS_KEY,
            key_label(k.aliases[0] if k.aliases else "", k.arn, k.manager),
            **{ARN: k.arn, ACCOUNT: k.account_id, REGION: k.region},
            manager=k.manager,
        )
    for p in ctx.aws.parameters:
        plaintext = is_plaintext(p)
        key, key_arn, managed = (None, "", None) if plaintext else ctx.aws.key_for(p)
        g.add_node(
            param_id(p.arn),
            NodeType.SSM_PARAMETER,
            f"parameter {p.name}",
            **{ARN: p.arn, NAME: p.name, ACCOUNT: p.account_id, REGION: p.region, PARAMETER_TYPE: p.type},
            **({} if plaintext else key_facts(key, key_arn, managed)),
            kms_key_known=key is not None,
        )
    for s in ctx.aws.secrets:
        key, key_arn, managed = ctx.aws.key_for(s)
        g.add_node(
            secret_id(s.arn),
            NodeType.SECRETSMANAGER_SECRET,
            f"secret {s.name}",
            **{ARN: s.arn, NAME: s.name, ACCOUNT: s.account_id, REGION: s.region},
            **key_facts(key, key_arn, managed),
            kms_key_known=key is not None,
        )


def key_facts(key: KMSKey | None, key_arn: str, managed_service: str | None) -> dict[str, str]:
    """A value's key as value-node attributes: its ARN, alias (``alias/...``, or empty) and manager
    (``AWS``, ``CUSTOMER``, or ``unknown`` when the key record is not in the snapshot)."""
    manager: str
    if key is not None:
        alias, manager = (key.aliases[0] if key.aliases else ""), key.manager
    elif managed_service is not None:
        alias, manager = f"alias/aws/{managed_service}", "AWS"
    else:
        tail = key_arn.rsplit(":", 1)[-1]
        alias, manager = (tail if tail.startswith("alias/") else ""), "unknown"
    return {KMS_KEY_ARN: key_arn, KMS_KEY_ALIAS: alias, KMS_KEY_MANAGER: manager}


def key_label(alias: str, key_arn: str, manager: str) -> str:
    """How a key is written in paths and views: ``key billing (customer managed)``, ``key aws/ssm (AWS
    managed)``, the key id when it has no alias, ``(not in snapshot)`` when its record is missing."""
    name = alias.removeprefix("alias/") if alias else key_arn.rsplit(":", 1)[-1].removeprefix("key/")
    how = {"AWS": "AWS managed", "CUSTOMER": "customer managed"}.get(manager, "not in snapshot")
    return f"key {name} ({how})"


def k8s_secret_node(ctx: BuildContext, cluster: str, namespace: str, name: str) -> str:
    """A Kubernetes Secret node; created (observed=False) when only referenced or to be materialised."""
    node = k8s_secret_id(cluster, namespace, name)
    if node not in ctx.graph:
        ctx.graph.add_node(
            node,
            NodeType.K8S_SECRET,
            f"Secret {namespace}/{name}",
            **{CLUSTER: cluster, NAMESPACE: namespace, NAME: name},
            observed=False,
        )
    return node


def external_secret_node(
    ctx: BuildContext, flavour: Literal["KES", "ESO"], cluster: str, namespace: str, name: str, synthetic: bool = False
) -> str:
    """The node of a KES or ESO ExternalSecret, or (``synthetic``) of any one someone could create in ``namespace``."""
    ident, node_type = (
        (kes_es_id, NodeType.KES_EXTERNAL_SECRET) if flavour == "KES" else (eso_es_id, NodeType.ESO_EXTERNAL_SECRET)
    )
    label = (
        f"any {flavour} ExternalSecret someone could create in {namespace}"
        if synthetic
        else f"{flavour} ExternalSecret {namespace}/{name}"
    )
    return ctx.graph.add_node(
        ident(cluster, namespace, name),
        node_type,
        label,
        **{CLUSTER: cluster, NAMESPACE: namespace, NAME: name, SYNTHETIC: synthetic},
    )


def key_label_of(value_attrs: Mapping[str, Any]) -> str:
    """:func:`key_label` of a value node's key (from its attributes)."""
    return key_label(
        str(value_attrs.get(KMS_KEY_ALIAS) or ""),
        str(value_attrs.get(KMS_KEY_ARN) or ""),
        str(value_attrs.get(KMS_KEY_MANAGER) or ""),
    )
