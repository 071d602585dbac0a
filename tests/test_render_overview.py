"""The default trust graph at scale: the riskiest chains, every reader of the values drawn, their keys.

The hand-built organisations below are small enough to say the right picture in advance: which value
group is the most exposed, which nodes its chains pass, which subjects it groups.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from benchmarks.synthetic import generate
from irsa_lib.analysis import analyse
from irsa_lib.render.graph_html import render_trust_graph
from irsa_lib.render.graph_view import GraphView
from irsa_lib.render.overview import GROUP_AT, OVERVIEW_ABOVE, overview_view
from irsa_lib.subjects import display, subject_of_row
from tests.render_fixtures import demo_like_graph

ACCT = "arn:aws:iam::1"
OIDC = "oidc:arn:aws:iam::1:oidc-provider/oidc.example/id/X"
K1, K2 = "arn:aws:kms:us-east-1:1:key/k1", "arn:aws:kms:us-east-1:1:key/k2"


def param(g: nx.MultiDiGraph, name: str, key: str) -> str:
    arn = f"arn:aws:ssm:us-east-1:1:parameter{name}"
    node = f"param:{arn}"
    alias = "alias/" + key.rsplit("/", 1)[-1]
    g.add_node(node, type="ssm-parameter", label=f"parameter {name}", name=name, arn=arn, kms_key=key,
               kms_key_alias=alias, kms_key_manager="CUSTOMER")  # fmt: skip
    return node


def sa(g: nx.MultiDiGraph, ns: str, name: str) -> str:
    node = f"sa:c/{ns}/{name}"
    g.add_node(node, type="service-account", label=f"sa c/{ns}/{name}", cluster="c", namespace=ns, name=name)
    return node


def edge(g: nx.MultiDiGraph, a: str, b: str, mechanism: str, **extra: Any) -> None:
    g.add_edge(a, b, key=mechanism, mechanism=mechanism, decision="allow", evidence=(f"{mechanism} evidence",), **extra)


def row(hops: list[str], g: nx.MultiDiGraph, subject: dict[str, Any], access: str = "direct") -> dict[str, Any]:
    value = g.nodes[hops[-1]]
    with_key = [*hops[:-1], f"key:{value['kms_key']}", hops[-1]]
    return {
        **subject,
        "secret_arn": value["arn"],
        "secret_name": value["name"],
        "secret_kind": "ssm-parameter",
        "kms_key_arn": value["kms_key"],
        "access": access,
        "decision": "allow",
        "hop_nodes": tuple(with_key),
        "path": tuple(str(g.nodes[n].get("label", n)) for n in with_key if n in g),
    }


def sa_subject(ns: str, name: str) -> dict[str, Any]:
    return {"subject_kind": "ServiceAccount", "cluster": "c", "namespace": ns, "service_account": name}


def two_teams() -> tuple[nx.MultiDiGraph, list[dict[str, Any]]]:
    """billing's api reads its two values; shop's web reads its own value and, through billing's role
    (whose trust admits any service account), billing's database: billing's values are read from outside."""
    g = nx.MultiDiGraph()
    g.add_node(OIDC, type="oidc-provider", label="OIDC oidc.example/id/X")
    api, web = sa(g, "billing", "api"), sa(g, "shop", "web")
    billing_role, shop_role = f"role:{ACCT}:role/billing-role", f"role:{ACCT}:role/shop-role"
    for node in (billing_role, shop_role):
        g.add_node(node, type="iam-role", label=f"role {node.rsplit('/', 1)[1]}", arn=node.removeprefix("role:"))
    db, other, x = param(g, "/billing/db", K1), param(g, "/billing/other", K1), param(g, "/shop/x", K2)
    for s in (api, web):
        edge(g, s, OIDC, "irsa")
    edge(g, OIDC, billing_role, "web-identity")
    edge(g, OIDC, shop_role, "web-identity")
    for role_, value in ((billing_role, db), (billing_role, other), (shop_role, x)):
        edge(g, role_, value, "can-read", key_evidence=("kms:Decrypt allowed by the key policy (Sid Read)",))
    rows = [
        row([api, OIDC, billing_role, db], g, sa_subject("billing", "api")),
        row([api, OIDC, billing_role, other], g, sa_subject("billing", "api")),
        row([web, OIDC, billing_role, db], g, sa_subject("shop", "web")),
        row([web, OIDC, shop_role, x], g, sa_subject("shop", "web")),
    ]
    return g, rows


def labels(view: GraphView) -> dict[str, str]:
    return {n.label: n.type for n in view.nodes}


def test_the_most_exposed_value_group_is_drawn_with_every_reader_and_its_key() -> None:
    g, rows = two_teams()
    view = overview_view(g, rows, groups=1)
    assert labels(view) == {
        "sa c/billing/api": "service-account",
        "sa c/shop/web": "service-account",
        "OIDC oidc.example/id/X": "oidc-provider",
        "role billing-role": "iam-role",
        "key k1 (customer managed)": "kms-key",
        "2 values of billing": "ssm-parameter",
    }
    group = next(n for n in view.nodes if n.label == "2 values of billing")
    assert "parameter /billing/db" in group.title and "parameter /billing/other" in group.title
    edges = {(e.source, e.target): e for e in view.edges}
    key_edge = edges[(f"role:{ACCT}:role/billing-role", f"key:{K1}")]
    assert "kms:Decrypt allowed by the key policy (Sid Read)" in key_edge.title  # the deciding statement
    assert "1 of 2 groups, of which 1 are read from outside; 2 of the 3 readable values" in view.notices[0]
    # left to right: subject, identity, role, key, values
    level = {n.label: n.level for n in view.nodes}
    assert level["sa c/shop/web"] < level["OIDC oidc.example/id/X"] < level["role billing-role"]
    assert level["role billing-role"] < level["key k1 (customer managed)"] < level["2 values of billing"]

    both = overview_view(g, rows, groups=2)
    assert {"role shop-role", "key k2 (customer managed)", "parameter /shop/x"} <= set(labels(both))


def test_many_subjects_are_grouped_and_equivalent_steps_merged() -> None:
    """Thirty teams, each with a service account (IRSA through a trust that admits any) and an RBAC group
    that may run pods as that service account: one node per kind, and the thirty service accounts the
    groups run as, all between the same two nodes, as one node."""
    g, rows = two_teams()
    billing_role = f"role:{ACCT}:role/billing-role"
    db = next(n for n in g if n.endswith("parameter/billing/db"))
    for i in range(GROUP_AT + 5):
        ns = f"team-{i:02d}"
        account = sa(g, ns, "app")
        grp = f"rbac-subject:c/Group/-/{ns}"
        g.add_node(grp, type="rbac-subject", label=f"group c/{ns}", cluster="c")
        edge(g, account, OIDC, "irsa")
        edge(g, grp, account, "rbac-run-as")
        rows.append(row([account, OIDC, billing_role, db], g, sa_subject(ns, "app")))
        group_subject = {"subject_kind": "Group", "cluster": "c", "namespace": None, "service_account": ns}
        rows.append(row([grp, account, OIDC, billing_role, db], g, group_subject, access="potential"))
    view = overview_view(g, rows, groups=1)
    by_label = {n.label: n for n in view.nodes}
    accounts = by_label[f"{GROUP_AT + 7} service accounts of c"]  # the thirty teams' and billing's and shop's
    assert accounts.members == GROUP_AT + 7 and "sa c/team-07/app" in accounts.title
    assert by_label[f"{GROUP_AT + 5} RBAC groups of c"].members == GROUP_AT + 5
    run_as = by_label[f"{GROUP_AT + 5} service accounts"]  # the ones the groups run pods as
    assert run_as.id.startswith("overview:same:") and run_as.type == "service-account"
    assert any("are drawn as one node per kind" in n for n in view.notices)
    assert len(view.nodes) == 7  # service accounts, RBAC groups, run-as, OIDC, role, key, values


def test_every_reader_of_the_drawn_groups_is_in_the_overview_of_a_synthetic_organisation() -> None:
    a = analyse(generate("tiny", seed=0))
    view = overview_view(a.graph, a.rows, a.findings)
    shown = " ".join(f"{n.label} {n.title}" for n in view.nodes)
    drawn_values = [n for n in view.nodes if n.type in ("ssm-parameter", "secretsmanager-secret")]
    names = {r.secret_name for r in a.rows if any(f"{r.secret_name}<br>" in f"{n.title}<br>" for n in drawn_values)}
    assert names  # the drawn value groups name their values
    readers = {display(subject_of_row(r)) for r in a.rows if r.secret_name in names}
    assert readers and all(reader in shown for reader in readers)
    keys = {r.kms_key_alias.removeprefix("alias/") for r in a.rows if r.secret_name in names and r.kms_key_alias}
    assert all(f"key {k} (" in shown for k in keys)
    assert len(view.nodes) <= 80  # legible


def test_the_default_page_is_the_overview_only_for_a_large_graph() -> None:
    _, rows = two_teams()
    small = render_trust_graph(demo_like_graph(), rows=rows)
    assert "Showing: whole graph." in small
    a = analyse(generate("tiny", seed=0))
    assert sum(1 for _, d in a.graph.graph.degree() if d) > OVERVIEW_ABOVE
    page = render_trust_graph(a.graph, findings=a.findings, rows=a.rows)
    assert "Showing: overview: the riskiest chains." in page
    assert "Showing: whole graph." in render_trust_graph(a.graph, rows=a.rows, aggregate=False)
