"""Kubernetes RBAC as the API server's authorizer reads it: the one rule matcher, and role resolution.

The access graph (:mod:`irsa_lib.graph.rbac`) and the findings (:mod:`irsa_lib.findings.rbac`) both
ask these functions, so they cannot disagree. The rules, from the Kubernetes RBAC documentation
("Referring to resources", "Aggregated ClusterRoles") and the ``PolicyRule`` API reference:

* ``verbs``: ``*`` or the exact verb.
* ``apiGroups``: ``*`` or the exact group (``""`` is the core group). A rule without ``apiGroups``
  matches nothing: the API server refuses to store one ("resource rules must supply at least one
  api group").
* ``resources``: ``*`` (every resource and subresource), the exact ``resource`` or
  ``resource/subresource``, or ``*/subresource`` (that subresource of every resource). ``pods/*`` is
  not a wildcard: it names no resource, so it grants nothing.
* ``resourceNames``: when present, only requests for one of those names. A request that names no
  object (``create``, or ``list``/``watch`` of every object) is never allowed by such a rule.
* ``aggregationRule.clusterRoleSelectors``: a ClusterRole also holds the rules of every other
  ClusterRole of its cluster whose labels match one selector. An empty selector (``{}``) matches every
  ClusterRole. The aggregation controller keeps aggregated roles up to date, so an aggregated role
  that is itself selected passes on what it aggregates.

>>> from irsa_lib.model import PolicyRule
>>> exec_any = PolicyRule(verbs=("create",), api_groups=("",), resources=("*/exec",))
>>> rule_allows(exec_any, "create", "", "pods/exec"), rule_allows(exec_any, "create", "", "pods")
(True, False)
>>> rule_allows(PolicyRule(verbs=("create",), api_groups=("",), resources=("pods/*",)), "create", "", "pods/exec")
False
>>> rule_allows(PolicyRule(verbs=("get",), resources=("secrets",)), "get", "", "secrets")
False
>>> named = PolicyRule(verbs=("get", "create"), api_groups=("",), resources=("secrets",), resource_names=("db",))
>>> rule_allows(named, "get", "", "secrets", "db"), rule_allows(named, "get", "", "secrets"), rule_allows(named, "create", "", "secrets")
(True, False, False)
"""

from __future__ import annotations

from collections.abc import Iterable

from irsa_lib.model import PolicyRule, RBACBinding, RBACRole

__all__ = ["RoleKey", "RoleRules", "rule_allows", "rule_matches"]

RoleKey = tuple[str, str, str | None, str]
"""(cluster, kind, namespace of a Role or None for a ClusterRole, name)."""


def _resource_matches(resources: Iterable[str], wanted: str) -> bool:
    _, slash, sub = wanted.partition("/")
    return any(r == "*" or r == wanted or (slash and r == f"*/{sub}") for r in resources)


def rule_matches(rule: PolicyRule, verb: str, group: str, resource: str) -> bool:
    """Whether ``rule`` covers ``verb`` on ``group``/``resource`` (``resource/subresource``), names aside."""
    return (
        any(v in ("*", verb) for v in rule.verbs)
        and any(g in ("*", group) for g in rule.api_groups)
        and _resource_matches(rule.resources, resource)
    )


def rule_allows(rule: PolicyRule, verb: str, group: str, resource: str, name: str | None = None) -> bool:
    """Whether ``rule`` allows the request: ``verb`` on ``group``/``resource``, for the object ``name``
    (``None``: a request that names no object, such as ``create``, or any object)."""
    names_ok = not rule.resource_names or (name is not None and name in rule.resource_names)
    return names_ok and rule_matches(rule, verb, group, resource)


def role_key(role: RBACRole) -> RoleKey:
    return role.cluster, role.kind, role.namespace if role.kind == "Role" else None, role.name


class RoleRules:
    """The roles of a snapshot by key, and the rules each one holds once aggregation is resolved."""

    def __init__(self, roles: Iterable[RBACRole]) -> None:
        self.roles: dict[RoleKey, RBACRole] = {role_key(r): r for r in roles}
        self._rules: dict[RoleKey, tuple[PolicyRule, ...]] = {}

    def role_for(self, binding: RBACBinding) -> RBACRole | None:
        """The Role or ClusterRole a binding refers to (None when it is not in the snapshot)."""
        ns = binding.namespace if binding.role_kind == "Role" else None
        return self.roles.get((binding.cluster, binding.role_kind, ns, binding.role_name))

    def rules_of(self, role: RBACRole) -> tuple[PolicyRule, ...]:
        """The role's own rules, then those of every ClusterRole its selectors aggregate."""
        key = role_key(role)
        if key not in self._rules:
            self._rules[key] = tuple(self._collect(role, {key}))
        return self._rules[key]

    def _collect(self, role: RBACRole, seen: set[RoleKey]) -> list[PolicyRule]:
        rules = list(role.rules)
        for selector in role.aggregation_selectors:
            for key, other in self.roles.items():
                if (
                    key not in seen
                    and other.kind == "ClusterRole"
                    and other.cluster == role.cluster
                    and all(other.labels.get(k) == v for k, v in selector.items())
                ):
                    seen.add(key)
                    rules.extend(self._collect(other, seen))
        return rules
