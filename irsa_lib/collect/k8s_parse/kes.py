"""kubernetes-external-secrets ``kubernetes-client.io/v1`` ExternalSecret, legacy forms included.

The controller still accepts forms its CRD no longer validates (``lib/poller.js``, ``kv-backend.js``):
``secretDescriptor`` instead of ``spec``, ``spec.properties`` instead of ``spec.data``, and the
``secretManager`` backend name for ``secretsManager``. They are read the same way and flagged.
"""

from __future__ import annotations

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.fields import Fields, ObjectError
from irsa_lib.model import KESDataItem, KESExternalSecret

_BACKEND_ALIASES = {"secretManager": "secretsManager"}


def _item(d: Fields, *, needs_name: bool) -> KESDataItem:
    key, path = d.str("key"), d.str("path")
    if not key and not path:
        raise ObjectError(f"{d.path}: needs a key (with a name) or a path")
    if needs_name and key and not path and not d.str("name"):
        raise d.error("name", "is required with key (the Kubernetes Secret key to write)")
    return KESDataItem(
        key=key,
        name=d.str("name"),
        property=d.str("property"),
        path=path,
        recursive=bool(d.bool("recursive")),
        is_binary=bool(d.bool("isBinary")),
        version_stage=d.str("versionStage"),
        version_id=d.str("versionId"),
    )


def parse_kes_external_secret(obj: K8sObject) -> list[KESExternalSecret]:
    legacy = False
    if obj.body.has("spec"):
        spec = obj.body.map("spec")
    elif obj.body.has("secretDescriptor"):
        spec, legacy = obj.body.map("secretDescriptor"), True
    else:
        raise ObjectError("spec: is required (or the legacy secretDescriptor)")
    backend = spec.req_str("backendType")
    if backend in _BACKEND_ALIASES:
        backend, legacy = _BACKEND_ALIASES[backend], True
    if spec.has("data"):
        data = [_item(d, needs_name=True) for d in spec.maps("data")]
    else:
        data = [_item(d, needs_name=True) for d in spec.maps("properties")]
        legacy = legacy or spec.has("properties")
    with_options = []
    for d in spec.maps("dataFromWithOptions"):
        d.req_str("key")
        with_options.append(_item(d, needs_name=False))
    template = spec.raw("template")
    return [
        KESExternalSecret(
            cluster=obj.cluster,
            namespace=obj.ns,
            name=obj.name,
            backend_type=backend,
            role_arn=spec.str("roleArn") or None,
            region=spec.str("region") or None,
            controller_id=spec.str("controllerId") or None,
            data=tuple(data),
            data_from=spec.strs("dataFrom"),
            data_from_with_options=tuple(with_options),
            has_template=bool(template),
            legacy_form=legacy,
        )
    ]
