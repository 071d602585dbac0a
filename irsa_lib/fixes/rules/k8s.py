"""Fixes of Kubernetes objects: KES namespace gating (F03), cluster-wide Secret reading (F13), a Secret in
environment variables (F14), a Kubernetes API token mounted next to an AWS identity (F28)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from irsa_lib.findings import Finding
from irsa_lib.findings.rules.controllers import system_namespaces
from irsa_lib.findings.rules.k8s import binding_id
from irsa_lib.fixes.context import FixContext, manifest_hint
from irsa_lib.fixes.manifests import POD_SPEC_PATH, binding_object
from irsa_lib.fixes.model import Change, Fix, NoFix, ObjectEdit
from irsa_lib.graph.rbac_rules import rule_allows
from irsa_lib.model import RBACBinding
from irsa_lib.onboarding.render import anchored_regex


def _split(resource: str) -> tuple[str, str | None, str, str]:
    """``cluster/namespace/Kind/name`` (or ``cluster/Kind/name``) as (cluster, namespace, kind, name)."""
    parts = resource.split("/")
    if len(parts) >= 4:
        return parts[0], parts[1], parts[2], "/".join(parts[3:])
    return parts[0], None, parts[1] if len(parts) > 1 else "", "/".join(parts[2:])


# --- F03 ----------------------------------------------------------------------------------------------


def permitted_regex(role_arns: list[str]) -> str:
    """An anchored regex admitting exactly ``role_arns`` (none: ``^$``, which no role ARN matches).

    >>> permitted_regex([])
    '^$'
    >>> permitted_regex(["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b.c"])
    '^(?:arn:aws:iam::1:role/a|arn:aws:iam::1:role/b\\\\.c)$'
    """
    if not role_arns:
        return "^$"
    if len(role_arns) == 1:
        return anchored_regex(role_arns[0])
    inner = "|".join(anchored_regex(a)[1:-1] for a in role_arns)
    return f"^(?:{inner})$"


def fix_f03(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F03: the namespace's permitted-role annotation, anchored, admitting the roles its ExternalSecrets name."""
    cluster, _, _, namespace = _split(finding.resource)
    ns = fc.rules.namespaces.get((cluster, namespace))
    controllers = [c for c in fc.snapshot.kes_controllers if c.cluster == cluster]
    if ns is None or not controllers:
        return NoFix(
            finding=finding, reason=f"namespace {namespace} or the KES controller of {cluster} is not in the snapshot"
        )
    objects = [e for e in fc.snapshot.kes_external_secrets if (e.cluster, e.namespace) == (cluster, namespace)]
    roles = sorted({e.role_arn for e in objects if e.role_arn})
    regex = permitted_regex(roles)
    keys = sorted({c.role_permitted_annotation for c in controllers})

    def annotate(doc: dict[str, Any]) -> dict[str, Any]:
        meta = doc.setdefault("metadata", {})
        annotations = dict(meta.get("annotations") or {})
        annotations.update({k: regex for k in keys})
        meta["annotations"] = annotations
        return doc

    edit = fc.object_edit(finding.resource, cluster, annotate, record=ns)
    if edit is None:
        return NoFix(finding=finding, reason="the namespace already carries this annotation")
    notes = []
    if not roles:
        notes.append(
            "no KES ExternalSecret here names a roleArn: the annotation admits no role; list the service role "
            "(anchored, ^...$) when one is needed"
        )
    unnamed = sorted(e.name for e in objects if not e.role_arn)
    if unnamed:
        notes.append(
            f"ExternalSecrets without roleArn ({', '.join(unnamed)}) read with the controller's own identity, which "
            "the annotation does not gate (see F04)"
        )
    notes.append(
        "new namespaces stay ungated until annotated: set ENFORCE_NAMESPACE_ANNOTATIONS on the controller as well"
    )
    return Fix(
        finding=finding,
        summary=f"namespace {namespace}: {', '.join(keys)} = {regex}",
        changes=(edit,),
        notes=tuple(notes),
    )


# --- F13 ----------------------------------------------------------------------------------------------

SECRET_VERBS = ("get", "list", "watch")


def fix_f13(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F13 on a ClusterRoleBinding that reads Secrets: replaced by RoleBindings of the same role in the
    namespaces whose Secrets hold no value materialised from AWS (system namespaces left out)."""
    binding = next((b for b in fc.snapshot.rbac_bindings if binding_id(b) == finding.resource), None)
    if binding is None:
        return NoFix(finding=finding, reason=f"{finding.resource} is not in the snapshot")
    if binding.kind != "ClusterRoleBinding":
        return NoFix(
            finding=finding,
            reason="a namespaced grant of pods, workloads or external-secrets objects is how a team deploys: "
            "narrowing it needs a decision (see the remediation)",
        )
    role = fc.rbac.role_for(binding)
    rules = fc.rbac.rules_of(role) if role is not None else []
    if not any(rule_allows(r, v, "", "secrets") for r in rules for v in SECRET_VERBS):
        return NoFix(
            finding=finding, reason="the binding grants no Secret reading: its other capabilities need a decision"
        )
    cluster = binding.cluster
    with_values = fc.namespaces_with_values.get(cluster, set())
    system = system_namespaces(fc.rules, cluster)
    holding = {s.namespace for s in fc.snapshot.k8s_secrets if s.cluster == cluster}
    targets = sorted(holding - with_values - system)
    delete = fc.object_edit(finding.resource, cluster, lambda _doc: None, record=binding)
    assert delete is not None
    changes: list[Change] = [delete]
    for ns in targets:
        rb = RBACBinding(
            cluster=cluster,
            name=binding.name,
            kind="RoleBinding",
            role_kind=binding.role_kind,
            role_name=binding.role_name,
            namespace=ns,
            subjects=binding.subjects,
        )
        changes.append(
            ObjectEdit(cluster=cluster, target=binding_id(rb), before=None, after=binding_object(rb), rebuilt=True)
        )
    left_out = sorted(with_values - system)
    notes = [
        f"not bound in {', '.join(left_out)}: Secrets there hold values materialised from AWS"
        if left_out
        else "no namespace holds values materialised from AWS",
        f"bound in {', '.join(targets)} (namespaces holding only other Secrets)"
        if targets
        else "no namespace holds only other Secrets: the binding is removed without replacement",
    ]
    return Fix(
        finding=finding,
        summary=f"ClusterRoleBinding {binding.name} replaced by {len(targets)} RoleBinding(s) of "
        f"{binding.role_kind} {binding.role_name}",
        changes=tuple(changes),
        notes=tuple(notes),
    )


# --- F14 / F28: workloads -----------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^a-z0-9-]+")


def _pod_spec(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    node = doc
    for key in POD_SPEC_PATH[kind]:
        node = node.setdefault(key, {})
    return node


def _workload(fc: FixContext, finding: Finding) -> tuple[str, str, str | None, str] | NoFix:
    cluster, ns, kind, name = _split(finding.resource)
    if kind not in POD_SPEC_PATH:
        return NoFix(finding=finding, reason=f"{kind} is not a workload kind a fix patches")
    if fc.manifests.find(finding.resource) is None:
        return NoFix(finding=finding, reason=manifest_hint(kind, ns, name, cluster))
    return cluster, kind, ns, name


def fix_f14(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F14: each Secret a container takes through env / envFrom is mounted read-only as a volume instead."""
    found = _workload(fc, finding)
    if isinstance(found, NoFix):
        return found
    cluster, kind, _, name = found
    steps: list[str] = []

    def mount(doc: dict[str, Any]) -> dict[str, Any]:
        spec = _pod_spec(doc, kind)
        volumes = spec.setdefault("volumes", [])
        for group in ("initContainers", "containers"):
            for c in spec.get(group) or []:
                for secret, how in _take_env(c):
                    volume = _volume_for(volumes, secret)
                    path = _mount(c, volume, f"/etc/secrets/{secret}")
                    steps.append(f"container {c.get('name')}: read {how} from {path}/ instead of the environment")
        if not volumes:
            spec.pop("volumes")
        return doc

    edit = fc.object_edit(finding.resource, cluster, mount)
    if edit is None:
        return NoFix(finding=finding, reason="no container takes a Secret through env or envFrom")
    return Fix(
        finding=finding,
        summary=f"{kind} {name}: Secrets mounted as read-only volumes instead of environment variables",
        changes=(edit,),
        steps=tuple(dict.fromkeys(steps)),
        notes=("the application must read the files; restart the pods to drop the variables",),
    )


def _take_env(container: dict[str, Any]) -> list[tuple[str, str]]:
    """Remove the container's env entries from Secrets: (Secret, what the application now reads) each."""
    taken: list[tuple[str, str]] = []
    env = []
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef") if isinstance(e, Mapping) else None
        if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
            taken.append((ref["name"], f"{e.get('name')} (key {ref.get('key')}) as the file {ref.get('key')}"))
        else:
            env.append(e)
    env_from = []
    for e in container.get("envFrom") or []:
        ref = e.get("secretRef") if isinstance(e, Mapping) else None
        if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
            taken.append((ref["name"], f"every key of Secret {ref['name']} as a file"))
        else:
            env_from.append(e)
    for key, items in (("env", env), ("envFrom", env_from)):
        if key in container:
            if items:
                container[key] = items
            else:
                del container[key]
    return taken


def _volume_for(volumes: list[dict[str, Any]], secret: str) -> str:
    for v in volumes:
        if isinstance(v, Mapping) and (v.get("secret") or {}).get("secretName") == secret:
            return str(v["name"])
    names = {v.get("name") for v in volumes if isinstance(v, Mapping)}
    base = _UNSAFE.sub("-", f"secret-{secret}".lower()).strip("-")[:63]
    name, n = base, 2
    while name in names:
        name, n = f"{base[:60]}-{n}", n + 1
    volumes.append({"name": name, "secret": {"secretName": secret}})
    return name


def _mount(container: dict[str, Any], volume: str, path: str) -> str:
    mounts = container.setdefault("volumeMounts", [])
    for m in mounts:
        if isinstance(m, Mapping) and m.get("name") == volume:
            return str(m.get("mountPath"))
    mounts.append({"name": volume, "mountPath": path, "readOnly": True})
    return path


def fix_f28(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F28: automountServiceAccountToken false on the pod spec."""
    found = _workload(fc, finding)
    if isinstance(found, NoFix):
        return found
    cluster, kind, _, name = found

    def no_token(doc: dict[str, Any]) -> dict[str, Any]:
        _pod_spec(doc, kind)["automountServiceAccountToken"] = False
        return doc

    edit = fc.object_edit(finding.resource, cluster, no_token)
    if edit is None:
        return NoFix(finding=finding, reason="the pod spec already sets automountServiceAccountToken: false")
    return Fix(
        finding=finding,
        summary=f"{kind} {name}: automountServiceAccountToken: false",
        changes=(edit,),
        notes=("only if the application does not call the Kubernetes API (it then needs the token)",),
    )
