"""F13, F14, F23, F24, F28: Kubernetes workload and RBAC rules."""

from __future__ import annotations

from irsa_lib.findings import run_findings
from irsa_lib.model import Container, Coverage, ESOController, PolicyRule, SecretKeyRef, Subject, Workload
from tests.findings.builders import (
    arn,
    binding,
    cluster,
    fails,
    k8s_role,
    only,
    rule,
    sa,
    sa_subject,
    snap,
    unknowns,
    user,
)


def wl(ns: str, name: str, sa_name: str = "app", **kw: object) -> Workload:
    return Workload(cluster="demo", namespace=ns, name=name, kind="Deployment", service_account=sa_name, **kw)  # type: ignore[arg-type]


# --- F13 ------------------------------------------------------------------------------------------
def test_f13_cluster_wide_secret_reader_is_high_namespaced_medium() -> None:
    reader = k8s_role("secret-reader", None, rule(["get", "list"], [""], ["secrets"]))
    ns_writer = k8s_role("deployer", "billing", rule(["create"], ["apps"], ["deployments"]))
    viewer = k8s_role("viewer", None, rule(["get"], [""], ["configmaps"]))
    s = snap(
        rbac_roles=(reader, ns_writer, viewer),
        rbac_bindings=(
            binding("alice-secrets", reader, user("alice")),
            binding("ci-deploy", ns_writer, sa_subject("billing", "ci"), namespace="billing"),
            binding("view", viewer, user("bob")),
            binding("system:kcm", reader, user("system:kube-controller-manager")),
            binding("masters", reader, Subject(kind="Group", name="system:masters")),
        ),
    )
    got = {f.resource: f.severity.value for f in run_findings(s, rules=["F13"])}
    assert got == {
        "demo/ClusterRoleBinding/alice-secrets": "high",
        "demo/billing/RoleBinding/ci-deploy": "medium",
    }


def test_f13_everyone_group_counts_and_controller_sa_is_skipped() -> None:
    reader = k8s_role("secret-reader", None, rule(["*"], [""], ["secrets"]))
    s = snap(
        rbac_roles=(reader,),
        rbac_bindings=(
            binding("all-sas", reader, Subject(kind="Group", name="system:serviceaccounts")),
            binding("eso", reader, sa_subject("external-secrets", "eso")),
        ),
        eso_controllers=(
            ESOController(cluster="demo", namespace="external-secrets", name="eso", service_account="eso"),
        ),
    )
    assert fails(s, "F13") == {"demo/ClusterRoleBinding/all-sas"}


def test_f13_resource_names_and_subresources() -> None:
    named = k8s_role(
        "one-secret", None, PolicyRule(verbs=("get",), api_groups=("",), resources=("secrets",), resource_names=("x",))
    )
    execer = k8s_role("exec", None, rule(["create"], [""], ["*/exec"]))
    s = snap(
        rbac_roles=(named, execer), rbac_bindings=(binding("n", named, user("a")), binding("e", execer, user("b")))
    )
    f = only(s, "F13")
    assert f.resource == "demo/ClusterRoleBinding/e" and "pods/exec" in f.evidence[1]


def test_f13_unknown_when_rbac_not_collected() -> None:
    gap = Coverage(source="kubernetes", scope="demo", service="clusterrolebindings", status="denied")
    assert unknowns(snap(coverage=(gap,)), "F13") == {"kubernetes:demo:clusterrolebindings"}


# --- F14 ------------------------------------------------------------------------------------------
def test_f14_env_vs_volume() -> None:
    env = wl("billing", "api", secret_refs=(SecretKeyRef(secret="db", via="env", key="password"),))
    env_from = wl("billing", "worker", secret_refs=(SecretKeyRef(secret="db", via="envFrom"),))
    vol = wl("billing", "batch", secret_refs=(SecretKeyRef(secret="db", via="volume"),))
    assert fails(snap(workloads=(env, env_from, vol)), "F14") == {
        "demo/billing/Deployment/api",
        "demo/billing/Deployment/worker",
    }


# --- F23 ------------------------------------------------------------------------------------------
def test_f23_old_cluster_non_root_without_fsgroup() -> None:
    sas = (sa("billing", "app", arn("r")), sa("billing", "plain"))
    pods = (
        wl("billing", "nonroot", run_as_user=1000),
        wl("billing", "withfs", run_as_user=1000, fs_group=65534),
        wl("billing", "root", run_as_user=0),
        wl("billing", "noirsa", "plain", run_as_non_root=True),
    )
    assert fails(snap(clusters=(cluster("1.18"),), service_accounts=sas, workloads=pods), "F23") == {
        "demo/billing/Deployment/nonroot"
    }
    assert fails(snap(clusters=(cluster("1.19"),), service_accounts=sas, workloads=pods), "F23") == set()


def test_f23_unknown_without_cluster_version() -> None:
    s = snap(
        clusters=(cluster(None),),
        service_accounts=(sa("b", "app", arn("r")),),
        workloads=(wl("b", "p", run_as_user=5),),
    )  # type: ignore[arg-type]
    assert unknowns(s, "F23") == {"demo/b/Deployment/p"}


# --- F24 ------------------------------------------------------------------------------------------
def test_f24_regional_sts() -> None:
    sas = (
        sa("a", "app", arn("r")),
        sa("a", "regional", arn("r"), **{"eks.amazonaws.com/sts-regional-endpoints": "true"}),
        sa("a", "byenv", arn("r")),
    )
    pods = (
        wl("a", "p", "byenv", containers=(Container(name="c", image="i", env_names=("AWS_STS_REGIONAL_ENDPOINTS",)),)),
    )
    old = snap(clusters=(cluster("1.21"),), service_accounts=sas, workloads=pods)
    assert fails(old, "F24") == {"demo/a/ServiceAccount/app"}
    assert fails(snap(clusters=(cluster("1.29"),), service_accounts=sas), "F24") == set()


# --- F28 ------------------------------------------------------------------------------------------
def test_f28_automount_on_irsa_pods() -> None:
    s = snap(
        service_accounts=(sa("a", "app", arn("r")), sa("a", "plain")),
        workloads=(
            wl("a", "default-mount"),
            wl("a", "off", automount_token=False),
            wl("a", "not-aws", "plain"),
        ),
    )
    assert fails(s, "F28") == {"demo/a/Deployment/default-mount"}
