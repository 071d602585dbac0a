"""Namespaces, ServiceAccounts and Secrets (metadata only)."""

from __future__ import annotations

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.fields import kept_annotations
from irsa_lib.model import K8sSecret, Namespace, ServiceAccount

SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"


def parse_namespace(obj: K8sObject) -> list[Namespace]:
    meta = obj.metadata
    return [
        Namespace(cluster=obj.cluster, name=obj.name, labels=meta.str_map("labels"), annotations=kept_annotations(meta))
    ]


def parse_service_account(obj: K8sObject) -> list[ServiceAccount]:
    meta = obj.metadata
    return [
        ServiceAccount(
            cluster=obj.cluster,
            namespace=obj.ns,
            name=obj.name,
            annotations=kept_annotations(meta),
            labels=meta.str_map("labels"),
            automount_token=obj.body.bool("automountServiceAccountToken"),
        )
    ]


def parse_secret(obj: K8sObject) -> list[K8sSecret]:
    """Name, type, key *names*, owners and labels. Values and annotations are never read.

    A manifest may carry ``data``/``stringData``: only their keys are taken. A live listing is
    metadata-only, so the keys are unknown there, and the type is whatever the collector put in
    ``type`` (None when it could not tell).
    """
    body = obj.body
    keys = sorted({str(k) for k in body.map("data").data} | {str(k) for k in body.map("stringData").data})
    secret_type = body.str("type") if "type" in body.data else "Opaque"
    # One annotation is read, by name, for service-account token Secrets; the rest are dropped unread.
    sa_name = obj.metadata.map("annotations").str(SA_NAME_ANNOTATION)
    return [
        K8sSecret(
            cluster=obj.cluster,
            namespace=obj.ns,
            name=obj.name,
            type=secret_type,
            keys=tuple(keys),
            owner_references=obj.owners(),
            labels=obj.metadata.str_map("labels"),
            service_account=sa_name,
        )
    ]
