"""The node as a route: kubelets read the Secrets of their pods; pod creators reach the node role."""

from __future__ import annotations

import dataclasses

from irsa_lib.graph import build_graph
from irsa_lib.graph.schema import Mechanism
from irsa_lib.model import MetadataOptions, SecretKeyRef, Workload
from tests.graph.conftest import rows, table
from tests.graph.factory import (
    CLUSTER,
    allow,
    doc,
    namespace,
    param,
    rbac_grant,
    role,
    sa,
    secure_nodes,
    snapshot,
)
from tests.graph.test_kes import scenario

NODE_READS = role(
    "node-role",
    doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
    doc(allow("ssm:GetParameter", "*")),
)


def test_the_kubelet_of_a_pods_node_reads_the_secrets_the_pod_references() -> None:
    pod = Workload(
        cluster=CLUSTER,
        namespace="billing",
        name="api-7d9f",
        kind="Pod",
        service_account="api",
        node_name="ip-10-0-1-5",
        secret_refs=(SecretKeyRef(secret="db-creds", via="volume"),),
    )
    snap = scenario()
    snap = dataclasses.replace(snap, workloads=(*snap.workloads, pod))
    nodes = table(snap, kinds=("Node",))
    # the Pod names its node; the Deployments (billing/api, payments/api, team-x/api) do not
    assert (None, "ip-10-0-1-5", "/billing/db", "via-controller", "allow") in nodes
    assert {r for r in nodes if r[1] == "*"} == {
        (None, "*", "/billing/db", "via-controller", "allow"),
        (None, "*", "/payments/key", "via-controller", "allow"),
    }
    assert {r for r in nodes if r[1] == "ip-10-0-1-5"} == {
        (None, "ip-10-0-1-5", "/billing/db", "via-controller", "allow")
    }
    node_rows = [r for r in rows(snap, kinds=("Node",), secret="/billing/db") if r.service_account == "ip-10-0-1-5"]
    assert [r.mechanisms[0] for r in node_rows] == ["kubelet-read"]


def test_no_pod_references_the_secret_so_no_kubelet_reads_it() -> None:
    snap = scenario()
    unreferenced = dataclasses.replace(snap, workloads=tuple(w for w in snap.workloads if w.namespace != "billing"))
    assert not any(r[2] == "/billing/db" for r in table(unreferenced, kinds=("Node",)))


def _pod_creator(verbs: tuple[str, ...], resource: str, group: str = "") -> dict[str, list[object]]:
    return rbac_grant("app", ("User", "mallory"), verbs, group, resource)


def _host_snapshot(
    options: MetadataOptions, *, psa: str | None = None, rule: dict[str, list[object]] | None = None
) -> object:
    labels = {"pod-security.kubernetes.io/enforce": psa} if psa else {}
    return snapshot(
        roles=[NODE_READS],
        node_groups=[dataclasses.replace(secure_nodes(), metadata_options=options)],
        ssm_parameters=[param("/app/db")],
        namespaces=[namespace("app", labels=labels)],
        service_accounts=[sa("app", "web")],
        **(rule or _pod_creator(("create",), "pods")),
    )


LOCKED = MetadataOptions(http_tokens="required", hop_limit=1, http_endpoint="enabled")
OPEN = MetadataOptions(http_tokens="required", hop_limit=2, http_endpoint="enabled")
MALLORY = {(None, "mallory", "/app/db", "potential", "allow")}


def test_a_pod_creator_reaches_the_node_role_through_a_host_network_pod_despite_hop_limit_one() -> None:
    snap = _host_snapshot(LOCKED)
    assert table(snap, kinds=("User",)) == MALLORY
    [row] = rows(snap, kinds=("User",))
    assert row.mechanisms == ("rbac-node-role", "can-read")
    # the evidence says admission policies beyond Pod Security are not visible
    g = build_graph(snap)  # type: ignore[arg-type]
    [edge] = [d for _, _, _, d in g.edges(mechanism=Mechanism.RBAC_NODE_ROLE)]
    assert any("admission policies are not collected" in e for e in edge["evidence"])


def test_pod_security_forbidding_host_network_closes_it_unless_the_hop_limit_is_open() -> None:
    assert table(_host_snapshot(LOCKED, psa="baseline"), kinds=("User",)) == set()
    assert table(_host_snapshot(LOCKED, psa="restricted"), kinds=("User",)) == set()
    assert table(_host_snapshot(LOCKED, psa="privileged"), kinds=("User",)) == MALLORY
    assert table(_host_snapshot(OPEN, psa="restricted"), kinds=("User",)) == MALLORY
    disabled = MetadataOptions(http_tokens="required", hop_limit=1, http_endpoint="disabled")
    assert table(_host_snapshot(disabled), kinds=("User",)) == set()


def test_only_creating_pods_or_workloads_counts() -> None:
    assert table(_host_snapshot(LOCKED, rule=_pod_creator(("create",), "pods/exec")), kinds=("User",)) == set()
    assert table(_host_snapshot(LOCKED, rule=_pod_creator(("get", "list"), "pods")), kinds=("User",)) == set()
    deployments = _pod_creator(("update",), "deployments", "apps")
    assert table(_host_snapshot(LOCKED, rule=deployments), kinds=("User",)) == MALLORY
