"""Roles, ClusterRoles (with aggregation selectors) and their bindings, kept faithfully."""

from __future__ import annotations

from typing import Literal, cast

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.fields import Fields
from irsa_lib.model import PolicyRule, RBACBinding, RBACRole, Subject

_SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def _rule(r: Fields) -> PolicyRule:
    return PolicyRule(
        verbs=r.strs("verbs"),
        api_groups=r.strs("apiGroups"),
        resources=r.strs("resources"),
        resource_names=r.strs("resourceNames"),
        non_resource_urls=r.strs("nonResourceURLs"),
    )


def parse_role(obj: K8sObject) -> list[RBACRole]:
    selectors = tuple(s.str_map("matchLabels") for s in obj.body.map("aggregationRule").maps("clusterRoleSelectors"))
    return [
        RBACRole(
            cluster=obj.cluster,
            name=obj.name,
            kind=cast(Literal["Role", "ClusterRole"], obj.kind),
            namespace=obj.namespace,
            rules=tuple(_rule(r) for r in obj.body.maps("rules")),
            aggregation_selectors=selectors,
            labels=obj.metadata.str_map("labels"),
        )
    ]


def parse_binding(obj: K8sObject) -> list[RBACBinding]:
    ref = obj.body.map("roleRef")
    role_kind = ref.req_str("kind")
    allowed = ("Role", "ClusterRole") if obj.kind == "RoleBinding" else ("ClusterRole",)
    if role_kind not in allowed:
        raise ref.error("kind", f"a {obj.kind} refers to {' or '.join(allowed)}, got {role_kind!r}")
    subjects = []
    for s in obj.body.maps("subjects"):
        kind = s.req_str("kind")
        if kind not in _SUBJECT_KINDS:
            raise s.error("kind", f"must be one of {', '.join(_SUBJECT_KINDS)}, got {kind!r}")
        namespace = s.str("namespace")
        if kind == "ServiceAccount" and not namespace:
            if obj.namespace is None:
                raise s.error("namespace", "is required for a ServiceAccount subject of a ClusterRoleBinding")
            # The RBAC authorizer resolves an unqualified ServiceAccount to the binding's namespace.
            namespace = obj.namespace
        subjects.append(
            Subject(
                kind=cast(Literal["User", "Group", "ServiceAccount"], kind), name=s.req_str("name"), namespace=namespace
            )
        )
    return [
        RBACBinding(
            cluster=obj.cluster,
            name=obj.name,
            kind=cast(Literal["RoleBinding", "ClusterRoleBinding"], obj.kind),
            role_kind=cast(Literal["Role", "ClusterRole"], role_kind),
            role_name=ref.req_str("name"),
            namespace=obj.namespace,
            subjects=tuple(subjects),
        )
    ]
