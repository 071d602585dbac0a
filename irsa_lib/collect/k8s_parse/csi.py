"""Secrets Store CSI driver SecretProviderClass; for the AWS provider the ``objects`` YAML string is parsed."""

from __future__ import annotations

from typing import Any

import yaml

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.fields import Fields, ObjectError
from irsa_lib.model import CSIObject, SecretProviderClass


def _objects(parameters: Fields) -> tuple[CSIObject, ...]:
    where = parameters.where("objects")
    text = parameters.str("objects")
    if not text:
        return ()
    try:
        loaded: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ObjectError(f"{where}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ObjectError(f"{where}: nested too deeply to read") from None
    if loaded is None:
        return ()
    if not isinstance(loaded, list):
        raise ObjectError(f"{where}: must be a YAML list of objects")
    out = []
    for i, item in enumerate(loaded):
        if not isinstance(item, dict):
            raise ObjectError(f"{where}[{i}]: must be a mapping")
        o = Fields(item, f"{where}[{i}]")
        out.append(
            CSIObject(
                object_name=o.req_str("objectName"),
                object_type=o.str("objectType"),
                object_alias=o.str("objectAlias"),
                object_version=o.str("objectVersion"),
                object_version_label=o.str("objectVersionLabel"),
            )
        )
    return tuple(out)


def parse_secret_provider_class(obj: K8sObject) -> list[SecretProviderClass]:
    spec = obj.spec
    provider = spec.req_str("provider")
    parameters = spec.map("parameters")
    synced = tuple(s.req_str("secretName") for s in spec.maps("secretObjects"))
    if provider != "aws":
        return [
            SecretProviderClass(
                cluster=obj.cluster, namespace=obj.ns, name=obj.name, provider=provider, synced_secrets=synced
            )
        ]
    return [
        SecretProviderClass(
            cluster=obj.cluster,
            namespace=obj.ns,
            name=obj.name,
            provider=provider,
            region=parameters.str("region") or None,
            failover_region=parameters.str("failoverRegion") or None,
            use_pod_identity=(parameters.str("usePodIdentity") or "").strip().lower() == "true",
            objects=_objects(parameters),
            synced_secrets=synced,
        )
    ]
