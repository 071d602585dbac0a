"""External Secrets Operator (``external-secrets.io``): stores, ExternalSecrets, ClusterExternalSecrets, PushSecrets.

``v1`` and ``v1beta1`` share the AWS provider shape; legacy ``v1alpha1`` stores have a subset of it
and its ExternalSecret ``dataFrom`` is a list of ``{key, property, version}``, read as extracts.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, cast

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.fields import Fields, ObjectError
from irsa_lib.model import (
    ESOClusterExternalSecret,
    ESODataFrom,
    ESODataItem,
    ESOExternalSecret,
    ESOPushSecret,
    ESOSecretStore,
    JWTAuth,
    SecretRefAuth,
    StoreConditions,
    StoreRef,
)

_STORE_KINDS = ("SecretStore", "ClusterSecretStore")
StoreKind = Literal["SecretStore", "ClusterSecretStore"]


def _store_ref(f: Fields) -> StoreRef | None:
    if not f.data:
        return None
    kind = f.str("kind") or "SecretStore"
    if kind not in _STORE_KINDS:
        raise f.error("kind", f"must be SecretStore or ClusterSecretStore, got {kind!r}")
    return StoreRef(name=f.req_str("name"), kind=cast(StoreKind, kind))


# --- stores ---------------------------------------------------------------------------------------


def _conditions(spec: Fields) -> tuple[StoreConditions, ...]:
    out = []
    for c in spec.maps("conditions"):
        selector = c.map("namespaceSelector")
        out.append(
            StoreConditions(
                namespaces=c.strs("namespaces"),
                namespace_regexes=c.strs("namespaceRegexes"),
                namespace_selector=selector.str_map("matchLabels") if c.has("namespaceSelector") else None,
                has_match_expressions=bool(selector.list("matchExpressions")),
            )
        )
    return tuple(out)


def parse_store(obj: K8sObject) -> list[ESOSecretStore]:
    spec = obj.spec
    provider = spec.map("provider")
    configured = [k for k, v in provider.data.items() if v is not None]
    if not configured:
        raise ObjectError(f"{provider.path}: no provider is configured")
    name = str(configured[0])
    base = ESOSecretStore(
        cluster=obj.cluster,
        name=obj.name,
        kind=cast(StoreKind, obj.kind),
        api_version=obj.api_version,
        namespace=obj.namespace,
        provider=name,
        conditions=_conditions(spec),
        controller_class=spec.str("controller") or None,
    )
    if name != "aws":
        return [base]
    aws = provider.map("aws")
    auth = aws.map("auth")
    sa_ref = auth.map("jwt").map("serviceAccountRef")
    jwt = (
        JWTAuth(
            service_account=sa_ref.req_str("name"),
            namespace=sa_ref.str("namespace"),
            audiences=sa_ref.strs("audiences"),
        )
        if sa_ref.data
        else None
    )
    key_ref = auth.map("secretRef").map("accessKeyIDSecretRef")
    secret_ref = (
        SecretRefAuth(access_key_secret=key_ref.req_str("name"), namespace=key_ref.str("namespace"))
        if key_ref.data
        else None
    )
    tags = {}
    for t in aws.maps("sessionTags"):
        tags[t.req_str("key")] = t.str("value") or ""
    return [
        dataclasses.replace(
            base,
            service=aws.str("service"),
            region=aws.str("region"),
            role=aws.str("role") or None,
            additional_roles=aws.strs("additionalRoles"),
            external_id=aws.str("externalID") or None,
            session_tags=tags,
            transitive_tag_keys=aws.strs("transitiveTagKeys"),
            session_tags_policy=aws.str("sessionTagsPolicy") or "None",
            jwt=jwt,
            secret_ref=secret_ref,
            prefix=aws.str("prefix") or None,
        )
    ]


# --- ExternalSecret -------------------------------------------------------------------------------


def _data_item(d: Fields) -> ESODataItem:
    remote = d.map("remoteRef")
    return ESODataItem(
        secret_key=d.str("secretKey"),
        remote_key=remote.req_str("key"),
        property=remote.str("property"),
        version=remote.str("version"),
        metadata_policy=remote.str("metadataPolicy") or "None",
        store_ref=_store_ref(d.map("sourceRef").map("storeRef")),
    )


def _data_from(d: Fields, *, alpha: bool) -> ESODataFrom:
    if alpha:  # v1alpha1: {key, property, version}
        return ESODataFrom(extract_key=d.req_str("key"))
    find = d.map("find")
    source = d.map("sourceRef")
    generator = source.map("generatorRef")
    return ESODataFrom(
        extract_key=d.map("extract").str("key"),
        find_path=find.str("path"),
        find_name_regexp=find.map("name").str("regexp"),
        find_tags=find.str_map("tags"),
        store_ref=_store_ref(source.map("storeRef")),
        generator=f"{generator.req_str('kind')}/{generator.req_str('name')}" if generator.data else None,
    )


def external_secret_from_spec(
    spec: Fields, *, cluster: str, namespace: str, name: str, api_version: str, owner: str | None
) -> ESOExternalSecret:
    """An ExternalSecret from its spec (shared with ClusterExternalSecret's ``externalSecretSpec``)."""
    alpha = api_version.endswith("/v1alpha1")
    target = spec.map("target")
    return ESOExternalSecret(
        cluster=cluster,
        namespace=namespace,
        name=name,
        api_version=api_version,
        store_ref=_store_ref(spec.map("secretStoreRef")),
        target_name=target.str("name") or name,
        creation_policy=target.str("creationPolicy") or "Owner",
        data=tuple(_data_item(d) for d in spec.maps("data")),
        data_from=tuple(_data_from(d, alpha=alpha) for d in spec.maps("dataFrom")),
        has_template=bool(target.raw("template")),
        target_manifest_kind=target.map("manifest").str("kind"),
        from_cluster_external_secret=owner,
    )


def parse_external_secret(obj: K8sObject) -> list[ESOExternalSecret]:
    owner = next((o.split("/", 1)[1] for o in obj.owners() if o.startswith("ClusterExternalSecret/")), None)
    return [
        external_secret_from_spec(
            obj.spec, cluster=obj.cluster, namespace=obj.ns, name=obj.name, api_version=obj.api_version, owner=owner
        )
    ]


def parse_cluster_external_secret(obj: K8sObject) -> list[ESOClusterExternalSecret]:
    spec = obj.spec
    selectors = []
    match_expressions = False
    single = [spec.map("namespaceSelector")] if spec.has("namespaceSelector") else []
    for selector in single + spec.maps("namespaceSelectors"):
        selectors.append(selector.str_map("matchLabels"))
        match_expressions = match_expressions or bool(selector.list("matchExpressions"))
    template = external_secret_from_spec(
        spec.map("externalSecretSpec"),
        cluster=obj.cluster,
        namespace="",
        name=spec.str("externalSecretName") or obj.name,
        api_version=obj.api_version,
        owner=obj.name,
    )
    return [
        ESOClusterExternalSecret(
            cluster=obj.cluster,
            name=obj.name,
            api_version=obj.api_version,
            namespaces=spec.strs("namespaces"),
            namespace_selectors=tuple(selectors),
            selector_match_expressions=match_expressions,
            template=template,
        )
    ]


# --- PushSecret -----------------------------------------------------------------------------------


def parse_push_secret(obj: K8sObject) -> list[ESOPushSecret]:
    spec = obj.spec
    refs, selectors = [], []
    for r in spec.maps("secretStoreRefs"):
        if r.has("labelSelector"):
            selectors.append(r.map("labelSelector").str_map("matchLabels"))
        else:
            ref = _store_ref(r)
            if ref is not None:
                refs.append(ref)
    remote_keys = tuple(d.map("match").map("remoteRef").req_str("remoteKey") for d in spec.maps("data"))
    return [
        ESOPushSecret(
            cluster=obj.cluster,
            namespace=obj.ns,
            name=obj.name,
            api_version=obj.api_version,
            store_refs=tuple(refs),
            store_selectors=tuple(selectors),
            source_secret=spec.map("selector").map("secret").str("name"),
            remote_keys=remote_keys,
        )
    ]
