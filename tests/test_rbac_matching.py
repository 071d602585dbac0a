"""One Kubernetes RBAC matcher, read the same way by the access graph and by the findings.

The expected answers come from the Kubernetes RBAC documentation and the PolicyRule API reference:

* ``resources: ["pods/*"]`` is not a wildcard (only ``*`` and ``*/<subresource>`` are): it grants no
  ``pods/exec``; ``*/exec`` grants ``pods/exec``;
* a rule without ``apiGroups`` matches nothing (the API server refuses to store it: "resource rules
  must supply at least one api group"); ``apiGroups: [""]`` is the core group;
* an aggregation selector ``{}`` is an empty label selector, which matches every ClusterRole: the
  aggregating ClusterRole gets their rules.

Each case runs one analysis of one snapshot: the user ``mallory`` is bound, in namespace ``app``, to the
role under test. The service account ``app/web`` reads ``/app/db`` through IRSA, so a user who can run
as ``app/web`` (exec into its pods, create pods as it) potentially reads ``/app/db``. The graph must
have the ``rbac-run-as`` edge and the access row exactly when the findings' F13 names the capability.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from irsa_lib.analysis import Analysis, analyse
from irsa_lib.graph.schema import MECHANISM, Mechanism, rbac_subject_id, sa_id
from irsa_lib.model import PolicyRule, RBACBinding, RBACRole, Subject
from tests.graph import factory as f

MALLORY = rbac_subject_id(f.CLUSTER, "User", None, "mallory")
WEB = sa_id(f.CLUSTER, "app", "web")
BINDING = f"{f.CLUSTER}/app/RoleBinding/mallory"


def cluster_role(name: str, *rules: PolicyRule, labels: Mapping[str, str] | None = None, **kw: object) -> RBACRole:
    return RBACRole(cluster=f.CLUSTER, name=name, kind="ClusterRole", rules=rules, labels=labels or {}, **kw)  # type: ignore[arg-type]


def analysis_with(bound: RBACRole, *other_roles: RBACRole) -> Analysis:
    binding = RBACBinding(
        cluster=f.CLUSTER,
        name="mallory",
        kind="RoleBinding",
        namespace="app",
        role_kind="ClusterRole",
        role_name=bound.name,
        subjects=(Subject(kind="User", name="mallory"),),
    )
    return analyse(
        f.snapshot(
            roles=[
                f.role(
                    "web-role",
                    f.irsa_trust("system:serviceaccount:app:web"),
                    f.doc(f.allow("ssm:GetParameter", f.param_arn("/app/*"))),
                )
            ],
            service_accounts=[f.sa("app", "web", "web-role")],
            kms_keys=[f.kms_key("k-app", "alias/app", f.key_policy_for("web-role"))],
            ssm_parameters=[f.param("/app/db", "alias/app")],
            rbac_roles=[bound, *other_roles],
            rbac_bindings=[binding],
        ),
        rules=["F13"],
    )


def runs_as_web(a: Analysis) -> bool:
    """The graph: an RBAC run-as edge from mallory to app/web."""
    g = a.graph.graph
    return g.has_edge(MALLORY, WEB) and any(d[MECHANISM] == Mechanism.RBAC_RUN_AS for d in g[MALLORY][WEB].values())


def mallory_rows(a: Analysis) -> set[tuple[str, str, str]]:
    return {
        (r.secret_name, r.access, r.decision)
        for r in a.rows
        if r.subject_kind == "User" and r.service_account == "mallory"
    }


def f13_capabilities(a: Analysis) -> str | None:
    """The findings: F13's capability line for mallory's binding (None when F13 does not fail it)."""
    found = [x for x in a.findings if x.resource == BINDING and x.status == "fail"]
    return found[0].evidence[1] if found else None


REACHES_DB = {("/app/db", "potential", "allow")}


# --- pods/* is not a wildcard; */exec is -------------------------------------------------------
def test_pods_slash_star_grants_no_exec() -> None:
    a = analysis_with(cluster_role("execer", PolicyRule(verbs=("create",), api_groups=("",), resources=("pods/*",))))
    assert not runs_as_web(a)
    assert mallory_rows(a) == set()
    assert f13_capabilities(a) is None


def test_star_slash_exec_grants_exec_into_every_pod() -> None:
    a = analysis_with(cluster_role("execer", PolicyRule(verbs=("create",), api_groups=("",), resources=("*/exec",))))
    assert runs_as_web(a)
    assert mallory_rows(a) == REACHES_DB
    assert f13_capabilities(a) == "capabilities: pods/exec"


# --- a rule without apiGroups matches nothing; "" is the core group ---------------------------
@pytest.mark.parametrize(("groups", "grants"), [((), False), (("",), True), (("*",), True), (("apps",), False)])
def test_api_groups_of_a_pod_creating_rule(groups: tuple[str, ...], grants: bool) -> None:
    a = analysis_with(cluster_role("creator", PolicyRule(verbs=("create",), api_groups=groups, resources=("pods",))))
    assert runs_as_web(a) is grants
    assert mallory_rows(a) == (REACHES_DB if grants else set())
    assert f13_capabilities(a) == ("capabilities: create pods" if grants else None)


# --- an empty aggregation selector aggregates every ClusterRole --------------------------------
CREATOR = cluster_role(
    "pod-creator", PolicyRule(verbs=("create",), api_groups=("",), resources=("pods",)), labels={"team": "a"}
)


@pytest.mark.parametrize(("selector", "grants"), [({}, True), ({"team": "a"}, True), ({"team": "b"}, False)])
def test_aggregation_selector(selector: dict[str, str], grants: bool) -> None:
    a = analysis_with(cluster_role("aggregate", aggregation_selectors=(selector,)), CREATOR)
    assert runs_as_web(a) is grants
    assert mallory_rows(a) == (REACHES_DB if grants else set())
    assert f13_capabilities(a) == ("capabilities: create pods" if grants else None)


def test_aggregation_follows_an_aggregated_role() -> None:
    # aggregate selects middle (an aggregating role too), which selects pod-creator: the controller
    # fills middle's rules with pod-creator's, and aggregate's with middle's.
    middle = cluster_role("middle", aggregation_selectors=({"team": "a"},), labels={"tier": "mid"})
    a = analysis_with(cluster_role("aggregate", aggregation_selectors=({"tier": "mid"},)), middle, CREATOR)
    assert runs_as_web(a)
    assert f13_capabilities(a) == "capabilities: create pods"


# --- resourceNames: a create request names no object -------------------------------------------
def test_resource_names_never_allow_create() -> None:
    named = PolicyRule(verbs=("create",), api_groups=("",), resources=("pods",), resource_names=("x",))
    a = analysis_with(cluster_role("named-creator", named))
    assert not runs_as_web(a)
    assert mallory_rows(a) == set()
    assert f13_capabilities(a) is None
