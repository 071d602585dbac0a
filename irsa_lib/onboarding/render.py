"""Outputs people use: Kubernetes manifests, Terraform for the AWS side, JSON policy documents.

All pure functions of :class:`~irsa_lib.onboarding.params.OnboardingParams`. No value ever
appears: Terraform takes each value from a ``sensitive`` variable, manifests only name keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from irsa_lib.model import KES_PERMITTED_ANNOTATION, ROLE_ARN_ANNOTATION, STS_REGIONAL_ANNOTATION
from irsa_lib.onboarding import policies
from irsa_lib.onboarding.params import OnboardingParams, SecretSpec

KES_API = "kubernetes-client.io/v1"
ESO_API = "external-secrets.io/v1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "irsa-onboard"}
_JS_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}])")


def anchored_regex(value: str) -> str:
    """``^value$`` with regex metacharacters escaped (KES tests the annotation with JS ``RegExp``).

    >>> anchored_regex("arn:aws:iam::123456789012:role/a.b-service-role")
    '^arn:aws:iam::123456789012:role/a\\\\.b-service-role$'
    """
    return "^" + _JS_REGEX_SPECIAL.sub(r"\\\1", value) + "$"


# --- Kubernetes -------------------------------------------------------------------------------------


def secret_object_name(p: OnboardingParams, kind: str) -> str:
    """Name of the ExternalSecret (and of the Kubernetes Secret it fills) for one backend."""
    return f"{p.service}-parameters" if kind == "ssm" else f"{p.service}-secrets"


def manifests(p: OnboardingParams) -> list[dict[str, Any]]:
    """The Kubernetes objects of the onboarding, in apply order."""
    ns_meta: dict[str, Any] = {
        "name": p.namespace,
        "labels": {"kubernetes.io/metadata.name": p.namespace, **MANAGED_BY},
    }
    if p.controller == "kes":
        # KES tests RegExp(annotation).test(roleArn): unanchored, so anchor it (domain-spec §1.5).
        ns_meta["annotations"] = {KES_PERMITTED_ANNOTATION: anchored_regex(p.service_role_arn)}
    objs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": ns_meta}]
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": p.workload, "namespace": p.namespace, "labels": dict(MANAGED_BY)},
            "automountServiceAccountToken": False,
        }
    )
    if p.eso_uses_jwt:
        # The SecretStore authenticates as this service account (IRSA to the controller role), then
        # assumes the service role. The controller role's trust must list its subject (checked in preflight).
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    **_meta(p, p.controller_sa_name),
                    "annotations": {ROLE_ARN_ANNOTATION: p.controller_role_arn, STS_REGIONAL_ANNOTATION: "true"},
                },
                "automountServiceAccountToken": False,
            }
        )
    groups = [(kind, specs) for kind, specs in (("ssm", p.parameters), ("secretsmanager", p.sm_secrets)) if specs]
    for kind, specs in groups:
        objs.extend(_kes_objects(p, kind, specs) if p.controller == "kes" else _eso_objects(p, kind, specs))
    objs.append(_workload(p, [secret_object_name(p, kind) for kind, _ in groups]))
    return objs


def _meta(p: OnboardingParams, name: str) -> dict[str, Any]:
    return {"name": name, "namespace": p.namespace, "labels": dict(MANAGED_BY)}


def _kes_objects(p: OnboardingParams, kind: str, specs: tuple[SecretSpec, ...]) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": KES_API,
            "kind": "ExternalSecret",
            "metadata": _meta(p, secret_object_name(p, kind)),
            "spec": {
                "backendType": "systemManager" if kind == "ssm" else "secretsManager",
                "region": p.region,
                "roleArn": p.service_role_arn,
                "data": [{"key": s.name, "name": s.leaf} for s in specs],
            },
        }
    ]


def _eso_objects(p: OnboardingParams, kind: str, specs: tuple[SecretSpec, ...]) -> list[dict[str, Any]]:
    store_name = f"{p.service}-parameter-store" if kind == "ssm" else f"{p.service}-secrets-manager"
    aws: dict[str, Any] = {
        "service": "ParameterStore" if kind == "ssm" else "SecretsManager",
        "region": p.region,
        "role": p.service_role_arn,
    }
    if p.eso_uses_jwt:
        # Referent auth: the store authenticates as this namespace's service account (IRSA).
        aws["auth"] = {"jwt": {"serviceAccountRef": {"name": p.controller_sa_name}}}
    if p.eso_session_tags:
        aws["sessionTagsPolicy"] = "Simple"
    target = secret_object_name(p, kind)
    return [
        {
            "apiVersion": ESO_API,
            "kind": "SecretStore",
            "metadata": _meta(p, store_name),
            "spec": {"provider": {"aws": aws}},
        },
        {
            "apiVersion": ESO_API,
            "kind": "ExternalSecret",
            "metadata": _meta(p, target),
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"name": store_name, "kind": "SecretStore"},
                "target": {"name": target, "creationPolicy": "Owner"},
                "data": [{"secretKey": s.leaf, "remoteRef": {"key": s.name}} for s in specs],
            },
        },
    ]


def _workload(p: OnboardingParams, secret_names: list[str]) -> dict[str, Any]:
    """An example Deployment: the Secrets arrive as read-only files, never as environment variables."""
    labels = {"app": p.workload}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": p.workload, "namespace": p.namespace, "labels": {**labels, **MANAGED_BY}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": p.workload,
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [
                        {
                            "name": "app",
                            "image": f"registry.example.com/{p.service}/app:REPLACE-ME",
                            "volumeMounts": [
                                {"name": name, "mountPath": f"/etc/{p.service}/{name}", "readOnly": True}
                                for name in secret_names
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": name, "secret": {"secretName": name, "defaultMode": 0o440}} for name in secret_names
                    ],
                },
            },
        },
    }


def manifests_yaml(p: OnboardingParams) -> str:
    """The manifests as one multi-document YAML file."""
    head = (
        f"# Kubernetes objects for service {p.service} (namespace {p.namespace}, cluster {p.cluster}).\n"
        "# Generated by `irsa onboard`; values never appear here: the controller fills the Secrets.\n"
    )
    return head + yaml.dump_all(
        manifests(p), Dumper=_NoAliasDumper, sort_keys=False, default_flow_style=False, explicit_start=True
    )


class _NoAliasDumper(yaml.SafeDumper):
    """Plain YAML without ``&id001`` anchors (shared dicts are written out each time)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# --- JSON policy documents ---------------------------------------------------------------------------


def policy_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


# --- Terraform ---------------------------------------------------------------------------------------


class Expr(str):
    """A raw HCL expression (a reference such as ``aws_kms_key.orders.arn``), emitted unquoted."""

    __slots__ = ()


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def tf_name(text: str) -> str:
    """A Terraform identifier from a name: ``/orders/db-password`` -> ``orders_db_password``."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    return out if out and not out[0].isdigit() else f"_{out}"


def hcl_string(text: str) -> str:
    """A quoted HCL string; ``${`` and ``%{`` are escaped so nothing is interpolated."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def hcl_value(value: Any, indent: int = 0) -> str:
    """An HCL expression for a JSON-like value (objects with ``=``, lists, strings, numbers, bools)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return hcl_string(value)
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        lines = [
            f"{inner}{k if _IDENT.match(k) else hcl_string(k)} = {hcl_value(v, indent + 1)}" for k, v in value.items()
        ]
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        if all(isinstance(v, str) for v in value) and sum(len(v) for v in value) < 80:
            return "[" + ", ".join(hcl_value(v) for v in value) + "]"
        return "[\n" + ",\n".join(f"{inner}{hcl_value(v, indent + 1)}" for v in value) + f",\n{pad}]"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _substitute(value: Any, refs: Mapping[str, Expr]) -> Any:
    if isinstance(value, str) and not isinstance(value, Expr):
        return refs.get(value, value)
    if isinstance(value, Mapping):
        return {k: _substitute(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, refs) for v in value]
    return value


def hcl_block(header: str, body: Mapping[str, Any]) -> str:
    """One HCL block: ``header { key = value ... }``."""
    lines = [f"  {k} = {hcl_value(v, 1)}" for k, v in body.items()]
    return f"{header} {{\n" + "\n".join(lines) + "\n}\n"


def terraform(p: OnboardingParams) -> str:
    """Terraform (HCL) for the AWS side, in the shape of the seed article.

    Policies are ``jsonencode(...)`` of HCL objects; the role and key ARNs are references, so
    Terraform orders the resources itself. Values come from ``sensitive`` variables
    (``TF_VAR_<name>``), never literals.
    """
    svc = tf_name(p.service)
    role, key = f"{svc}_service", svc
    refs = {p.service_role_arn: Expr(f"aws_iam_role.{role}.arn")}
    key_ref = Expr(f"aws_kms_key.{key}.arn")
    parts: list[str] = [
        f"# AWS side of onboarding service {p.service}: generated by `irsa onboard`.\n"
        "# Values are never written here: supply each with TF_VAR_<variable> at apply time. Terraform keeps\n"
        "# them in its state, so protect the state (or create the values outside Terraform).\n"
    ]
    for spec in p.secrets:
        parts.append(
            hcl_block(
                f'variable "{tf_name(spec.name)}"',
                {
                    "description": f"value of {spec.name} (sensitive; never commit it)",
                    "type": Expr("string"),
                    "sensitive": True,
                },
            )
        )
    parts.append(
        hcl_block(
            f'resource "aws_iam_role" "{role}"',
            {
                "name": p.service_role_name,
                "description": f"{p.service}: reads /{p.service}/* on behalf of the secrets controller",
                "assume_role_policy": Expr("jsonencode(" + hcl_value(policies.trust_policy(p), 1) + ")"),
            },
        )
    )
    parts.append(
        hcl_block(
            f'resource "aws_kms_key" "{key}"',
            {
                "description": f"secrets of service {p.service}",
                "enable_key_rotation": True,
                "policy": Expr("jsonencode(" + hcl_value(_substitute(policies.key_policy(p), refs), 1) + ")"),
                "tags": {"service": p.service},
            },
        )
    )
    parts.append(
        hcl_block(
            f'resource "aws_kms_alias" "{key}"',
            {"name": p.key_alias, "target_key_id": Expr(f"aws_kms_key.{key}.key_id")},
        )
    )
    read = _substitute(policies.read_policy(p, "__KEY__"), {"__KEY__": key_ref})
    parts.append(
        hcl_block(
            f'resource "aws_iam_role_policy" "{role}_read"',
            {
                "name": p.read_policy_name,
                "role": Expr(f"aws_iam_role.{role}.id"),
                "policy": Expr("jsonencode(" + hcl_value(read, 1) + ")"),
            },
        )
    )
    assume = _substitute(policies.controller_assume_policy(p), refs)
    parts.append(
        hcl_block(
            f'resource "aws_iam_role_policy" "{tf_name(p.controller_role_name)}_assume_{svc}"',
            {
                "name": p.controller_policy_name,
                "role": p.controller_role_name,
                "policy": Expr("jsonencode(" + hcl_value(assume, 1) + ")"),
            },
        )
    )
    for spec in p.parameters:
        parts.append(
            hcl_block(
                f'resource "aws_ssm_parameter" "{tf_name(spec.name)}"',
                {
                    "name": spec.name,
                    "type": "SecureString",
                    "key_id": key_ref,
                    "value": Expr(f"var.{tf_name(spec.name)}"),
                },
            )
        )
    for spec in p.sm_secrets:
        name = tf_name(spec.name)
        parts.append(
            hcl_block(f'resource "aws_secretsmanager_secret" "{name}"', {"name": spec.name, "kms_key_id": key_ref})
        )
        parts.append(
            hcl_block(
                f'resource "aws_secretsmanager_secret_version" "{name}"',
                {"secret_id": Expr(f"aws_secretsmanager_secret.{name}.id"), "secret_string": Expr(f"var.{name}")},
            )
        )
    return "\n".join(parts)
