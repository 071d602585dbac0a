"""The trust graph view: what is shown for each focus, what is collapsed, and that the page is offline and escaped."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest

from irsa_lib.render.graph_html import render_graph_iframe, render_trust_graph
from irsa_lib.render.graph_view import Focus, build_view
from irsa_lib.render.offline import external_references, offline_clean
from tests.render_fixtures import (
    BILLING_API,
    BILLING_DB,
    BILLING_ES,
    BILLING_K8S,
    BILLING_ROLE,
    BILLING_SA,
    BILLING_WORKLOAD,
    ES_ROLE,
    ES_SA,
    PAYMENTS_DB,
    PAYMENTS_ROLE,
    PAYMENTS_SA,
    UNUSED_ROLE,
    UNUSED_ROLE_2,
    demo_like_graph,
    finding,
    large_graph,
)

ALL = {
    ES_SA,
    BILLING_SA,
    PAYMENTS_SA,
    ES_ROLE,
    BILLING_ROLE,
    PAYMENTS_ROLE,
    UNUSED_ROLE,
    UNUSED_ROLE_2,
    BILLING_DB,
    BILLING_API,
    PAYMENTS_DB,
    BILLING_WORKLOAD,
    BILLING_K8S,
    BILLING_ES,
}

# URLs that occur only as inert text inside the inlined vis-network bundle: licence notices, the SVG
# XML namespace passed to createElementNS, and an error message. None of them is ever fetched.
INERT_URLS = {
    "https://visjs.github.io/vis-network/",
    "http://almende.com",
    "https://github.com/visjs",
    "http://www.apache.org/licenses/LICENSE-2.0",
    "http://opensource.org/licenses/MIT",
    "https://github.com/zloirock/core-js/blob/v3.21.1/LICENSE",
    "https://github.com/zloirock/core-js",
    "https://github.com/uuidjs/uuid#getrandomvalues-not-supported",
    "http://www.w3.org/2000/svg",
}


def ids(view) -> set[str]:  # type: ignore[no-untyped-def]
    return {n.id for n in view.nodes}


def test_whole_graph_keeps_every_node_and_lays_out_left_to_right() -> None:
    view = build_view(demo_like_graph(), aggregate=False)
    assert ids(view) == ALL
    level = {n.id: n.level for n in view.nodes}
    # the chain SA -> IRSA role -> service role -> parameter, one column per hop
    assert [level[n] for n in (ES_SA, ES_ROLE, BILLING_ROLE, BILLING_DB)] == [0, 1, 2, 3]
    assert [level[n] for n in (BILLING_WORKLOAD, BILLING_K8S, BILLING_ES)] == [0, 1, 2]
    assert view.notices == ()


def test_nodes_without_edges_are_left_out_of_unfocused_views() -> None:
    g = demo_like_graph()
    g.add_node("key:arn:aws:kms:us-east-1:123456789012:key/k", type="kms-key", label="alias/billing")
    view = build_view(g, aggregate=False)
    assert ids(view) == ALL
    assert view.notices == ("Not shown: 1 node(s) with no edge at all (kms-key).",)
    lonely = build_view(g, focus=Focus(secret="/orphan"), aggregate=False)
    assert lonely.notices == ("No secret named /orphan in the graph.",)


def test_focus_namespace_keeps_the_paths_through_that_namespace() -> None:
    view = build_view(demo_like_graph(), focus=Focus(namespace="billing"), aggregate=False)
    # the namespace's workload, its SA, the Secret it mounts, the ExternalSecret filling it and
    # what that fetches; not the controller's chain (reachable from elsewhere, shown in the edge's via)
    assert ids(view) == {BILLING_WORKLOAD, BILLING_SA, BILLING_K8S, BILLING_ES, BILLING_DB}


def test_focus_service_account() -> None:
    view = build_view(demo_like_graph(), focus=Focus(service_account="payments/payments"), aggregate=False)
    assert ids(view) == {PAYMENTS_SA, UNUSED_ROLE, UNUSED_ROLE_2}
    also = build_view(demo_like_graph(), focus=Focus(service_account="demo/payments/payments"), aggregate=False)
    assert ids(also) == ids(view)


@pytest.mark.parametrize("wanted", ["/payments/db", PAYMENTS_DB])
def test_focus_secret_by_name_or_arn_shows_who_reaches_it(wanted: str) -> None:
    view = build_view(demo_like_graph(), focus=Focus(secret=wanted), aggregate=False)
    assert ids(view) == {PAYMENTS_DB, PAYMENTS_ROLE, ES_ROLE, ES_SA}


def test_focus_on_a_kubernetes_secret() -> None:
    view = build_view(demo_like_graph(), focus=Focus(secret="billing/db-creds"), aggregate=False)
    assert ids(view) == {BILLING_K8S, BILLING_WORKLOAD, BILLING_ES, BILLING_DB}


def test_unknown_focus_says_so() -> None:
    view = build_view(demo_like_graph(), focus=Focus(secret="/nope"), aggregate=False)
    assert view.nodes == ()
    assert view.notices == ("No secret named /nope in the graph.",)


def test_secrets_only_drops_dead_ends() -> None:
    view = build_view(demo_like_graph(), focus=Focus(secrets_only=True), aggregate=False)
    # billing's SA itself reaches nothing: its workload reaches the value through the mounted Secret
    assert ids(view) == ALL - {PAYMENTS_SA, UNUSED_ROLE, UNUSED_ROLE_2, BILLING_SA}
    assert view.notices == ("Hidden 4 node(s) that lie on no path to a secret.",)


def test_focus_filters_combine() -> None:
    view = build_view(demo_like_graph(), focus=Focus(namespace="billing", secrets_only=True), aggregate=False)
    assert ids(view) == {BILLING_WORKLOAD, BILLING_K8S, BILLING_ES, BILLING_DB}


def test_parallel_edges_merge_into_the_strongest_decision_with_all_evidence() -> None:
    g = nx.MultiDiGraph()
    g.add_node("a", type="iam-role")
    g.add_node("b", type="iam-role")
    g.add_edge("a", "b", mechanism="assume-role", decision="conditional", evidence=("needs ExternalId",))
    g.add_edge("a", "b", mechanism="kes-role-arn", decision="allow", evidence=("spec.roleArn",))
    (edge,) = build_view(g).edges
    assert edge.decision == "allow"
    assert edge.mechanisms == ("assume-role", "kes-role-arn")
    assert "needs ExternalId" in edge.title and "spec.roleArn" in edge.title


def test_many_parameters_collapse_by_prefix_but_flagged_ones_stay() -> None:
    g = demo_like_graph()
    for i in range(40):
        arn = f"arn:aws:ssm:us-east-1:123456789012:parameter/big/p{i:02d}"
        g.add_node("param:" + arn, type="ssm-parameter", label=f"/big/p{i:02d}", name=f"/big/p{i:02d}", arn=arn)
        g.add_edge(PAYMENTS_ROLE, "param:" + arn, mechanism="can-read", decision="allow", evidence=())
    flagged = "param:arn:aws:ssm:us-east-1:123456789012:parameter/big/p07"
    # a finding may name the resource by ARN rather than by graph node id
    f15 = finding("F15", flagged.removeprefix("param:"))
    view = build_view(g, findings=[f15], max_parameters=30, max_nodes=1000)
    group = next(n for n in view.nodes if n.id == "aggregate:ssm-parameter:/big/")
    assert group.members == 39
    assert group.label == "/big/* (39 SSM parameters)"
    assert flagged in ids(view)
    # /billing/ has two parameters: collapsed too; /payments/ has one: shown as is
    assert "aggregate:ssm-parameter:/billing/" in ids(view) and PAYMENTS_DB in ids(view)
    assert view.notices == (
        "Collapsed 41 SSM parameters into 2 group(s) by path prefix (SSM parameters with findings are shown individually).",
    )
    into_group = [e for e in view.edges if e.target == group.id]
    assert [(e.source, e.mechanisms) for e in into_group] == [(PAYMENTS_ROLE, ("can-read",))]
    billing = [(e.source, e.mechanisms) for e in view.edges if e.target == "aggregate:ssm-parameter:/billing/"]
    assert sorted(billing) == [(BILLING_ES, ("kes-read",)), (BILLING_ROLE, ("can-read",))]


def test_roles_without_a_path_to_a_secret_collapse_when_aggregating() -> None:
    view = build_view(demo_like_graph(), aggregate=True)
    group = next(n for n in view.nodes if n.id == "aggregate:roles-without-secret-path")
    assert group.members == 2
    assert UNUSED_ROLE not in ids(view) and UNUSED_ROLE_2 not in ids(view)
    assert "Collapsed 2 IAM roles that have no path to any secret into one node." in view.notices
    # the two potential IRSA edges into them become one
    assert [(e.source, e.decision) for e in view.edges if e.target == group.id] == [(PAYMENTS_SA, "potential")]


def test_auto_aggregation_only_for_large_graphs() -> None:
    assert build_view(demo_like_graph()).notices == ()
    small_budget = build_view(demo_like_graph(), max_nodes=5, max_parameters=1)
    # each step runs only while the view is still too large
    assert small_budget.notices == (
        "Collapsed 2 SSM parameters into 1 group(s) by path prefix (SSM parameters with findings are shown individually).",
        "Collapsed 2 IAM roles that have no path to any secret into one node.",
        "Collapsed the Kubernetes objects of 1 namespace(s) (4 objects) into one node each.",
        "Collapsed 5 IAM roles into 1 node(s), one per account.",
        "Collapsed 3 parameters and secrets into 1 node(s), one per account and region.",
    )
    assert ids(small_budget) == {
        ES_SA,
        PAYMENTS_SA,
        "aggregate:namespace:demo/billing",
        "aggregate:roles:123456789012",
        "aggregate:secrets:123456789012/us-east-1",
    }
    roles = next(n for n in small_budget.nodes if n.id == "aggregate:roles:123456789012")
    assert (roles.members, roles.label) == (5, "IAM roles of 123456789012 (5)")
    # the edges between groups keep the strongest decision: ES -> roles allowed, roles -> secrets allowed
    pairs = {(e.source, e.target): e.decision for e in small_budget.edges}
    assert pairs == {
        (ES_SA, "aggregate:roles:123456789012"): "allow",
        (PAYMENTS_SA, "aggregate:roles:123456789012"): "potential",
        ("aggregate:roles:123456789012", "aggregate:secrets:123456789012/us-east-1"): "allow",
        ("aggregate:namespace:demo/billing", "aggregate:secrets:123456789012/us-east-1"): "allow",
    }


def test_flagged_nodes_inside_overview_groups_mark_the_group() -> None:
    f = finding("F03", ES_ROLE)
    view = build_view(demo_like_graph(), findings=[f], max_nodes=5, max_parameters=1)
    roles = next(n for n in view.nodes if n.id == "aggregate:roles:123456789012")
    assert roles.findings == ("critical",) and "findings inside" in roles.title


def test_findings_mark_their_nodes() -> None:
    findings = [
        # findings name resources by ARN or by Kubernetes id cluster/namespace/Kind/name; a node's
        # severities are listed most severe first whatever the order of the findings
        finding("F18", ES_ROLE.removeprefix("role:")),
        finding("F03", ES_ROLE),
        finding("F06", ES_ROLE.removeprefix("role:")),
        finding("F14", "demo/billing/Deployment/billing"),
        finding("F28", "demo/billing/ServiceAccount/billing"),
        finding("F02", "arn:aws:iam::1:role/not-in-graph"),
    ]
    view = build_view(demo_like_graph(), findings=findings)
    flagged = {n.id: n for n in view.nodes if n.findings}
    assert set(flagged) == {ES_ROLE, BILLING_WORKLOAD, BILLING_SA}
    assert flagged[ES_ROLE].findings == ("critical", "high", "low")
    assert "<b>finding F03 (critical)</b>: kubernetes-external-secrets without effective" in flagged[ES_ROLE].title
    assert "<b>finding F18 (low)</b>" in flagged[ES_ROLE].title
    assert flagged[BILLING_WORKLOAD].findings == ("medium",)


# ---------------------------------------------------------------- the HTML document


def urls_in(text: str) -> set[str]:
    return set(re.findall(r"""https?://[^\s"'<>)\\]+""", text))


def test_page_is_self_contained_and_fetches_nothing() -> None:
    page = render_trust_graph(demo_like_graph())
    assert external_references(page) == []
    assert urls_in(page) <= INERT_URLS
    assert "<script src" not in page and "<link" not in page
    assert page.count("<h1>") == 1  # pyvis's duplicated heading is gone
    assert "vis.Network(" in page  # vis-network is inlined


def test_offline_clean_removes_every_kind_of_remote_reference() -> None:
    dirty = (
        '<link rel="stylesheet"\n href="https://cdn.example/x.css" />'
        '<script src="//cdn.example/y.js"></script>'
        "<style>@import url('http://fonts.example/f.css'); .a { background: url(https://x.example/i.png) }</style>"
        '<img src="data:image/png;base64,AAAA">'
    )
    assert len(external_references(dirty)) == 4
    clean = offline_clean(dirty)
    assert external_references(clean) == []
    assert 'src="data:image/png;base64,AAAA"' in clean


def test_hover_text_and_labels_are_escaped() -> None:
    g = nx.MultiDiGraph()
    evil = '"><img src=x onerror=alert(1)>'
    g.add_node("sa", type="service-account", label="<script>alert(1)</script>")
    g.add_node("r", type="iam-role", label="role")
    g.add_edge("sa", "r", mechanism="irsa", decision="allow", evidence=(evil, "see href"))
    page = render_trust_graph(g, title="<b>title</b>")
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "<b>title</b>" not in page and "&lt;b&gt;title&lt;/b&gt;" in page
    nodes = json.loads(re.search(r"nodes = new vis.DataSet\((\[.*?\])\);", page).group(1))  # type: ignore[union-attr]
    sa = next(n for n in nodes if n["label"] == "<script>alert(1)</script>")  # plain text label, drawn on canvas
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sa["title"]
    edges = json.loads(re.search(r"edges = new vis.DataSet\((\[.*?\])\);", page).group(1))  # type: ignore[union-attr]
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in edges[0]["title"]
    assert "hre&#102;" in edges[0]["title"]  # keeps pyvis off its innerHTML tooltip template
    assert "function showPopup" not in page


def test_styles_by_type_and_decision_and_flagged_nodes() -> None:
    f = finding("F03", ES_ROLE)
    page = render_trust_graph(demo_like_graph(), findings=[f])
    nodes = json.loads(re.search(r"nodes = new vis.DataSet\((\[.*?\])\);", page).group(1))  # type: ignore[union-attr]
    edges = json.loads(re.search(r"edges = new vis.DataSet\((\[.*?\])\);", page).group(1))  # type: ignore[union-attr]
    by_label = {n["label"]: n for n in nodes}
    assert by_label["⚠ external-secrets-role"]["borderWidth"] == 5
    assert by_label["billing-service-role"]["shape"] == "diamond"
    assert by_label["/billing/db"]["shape"] == "dot"
    assert by_label["external-secrets/external-secrets-sa"]["shape"] == "ellipse"
    dashes = {e["label"]: e["dashes"] for e in edges}
    assert dashes["can-read"] is False  # allow: solid
    assert dashes["irsa"] in (False, [2, 5])
    styles = {json.dumps(e["dashes"]) for e in edges}
    assert styles == {"false", "[10, 6]", "[2, 5]"}  # allow, conditional, potential all differ
    summary = json.loads(re.search(r'<script type="application/json" id="irsa-view">(.*?)</script>', page).group(1))  # type: ignore[union-attr]
    assert summary["nodes"] == 14 and summary["flagged"] == [ES_ROLE]


def test_notices_are_shown_in_the_page() -> None:
    page = render_trust_graph(demo_like_graph(), aggregate=True)
    assert "Collapsed 2 IAM roles that have no path to any secret into one node." in page


def test_iframe_embeds_the_document_escaped() -> None:
    page = render_trust_graph(demo_like_graph())
    frame = render_graph_iframe(page, height=500)
    assert frame.startswith('<iframe sandbox="allow-scripts" srcdoc="')
    srcdoc = frame.split('srcdoc="', 1)[1].rsplit('" style=', 1)[0]
    assert "<" not in srcdoc and '"' not in srcdoc
    assert "height: 500px" in frame


def test_default_view_of_a_large_organisation_stays_small() -> None:
    """5,000 roles, 2,000 service accounts, 20,000 parameters: the default view is an overview."""
    g = large_graph()
    view = build_view(g)
    assert len(view.nodes) <= 150
    # every node and edge of the graph is accounted for by some view node
    assert sum(n.members for n in view.nodes) == g.number_of_nodes()
    assert view.notices[0].startswith("Collapsed 20000 SSM parameters into 5000 group(s) by path prefix")
    page = render_trust_graph(g)
    assert len(page.encode()) < 5_000_000
    focused = build_view(g, focus=Focus(service_account="c1/ns001/app00001"))
    assert len(focused.nodes) == 6  # SA -> role -> 4 parameters, nothing collapsed
    assert focused.notices == ()


def test_merged_edge_hover_text_is_bounded() -> None:
    g = nx.MultiDiGraph()
    g.add_node("a", type="iam-role")
    g.add_node("b", type="iam-role")
    for i in range(50):
        g.add_edge("a", "b", mechanism="assume-role", decision="allow", evidence=(f"statement {i}",))
    (edge,) = build_view(g).edges
    assert "<b>50 edges</b> between the collapsed groups" in edge.title
    assert "50 × assume-role: allow" in edge.title
    assert "statement 7" in edge.title and "statement 8" not in edge.title


def test_findings_of_an_analysis_show_their_severity_most_severe_first() -> None:
    # A role trusting system:serviceaccount:*:* without aud: F01 (critical) and F18 (low), as the rules
    # report them, on the role's node of the same analysis's graph (app/web assumes it).
    from irsa_lib.analysis import analyse
    from tests.graph import factory as f

    wild = f.irsa_trust("system:serviceaccount:*:*", op="StringLike", aud=False)
    a = analyse(f.snapshot(roles=[f.role("open", wild)], service_accounts=[f.sa("app", "web", "open")]))
    assert {(x.rule, x.severity.value) for x in a.findings if x.resource == f.role_arn("open")} == {
        ("F01", "critical"),
        ("F18", "low"),
    }
    view = build_view(a.graph, findings=a.findings)
    [node] = [n for n in view.nodes if n.id == f"role:{f.role_arn('open')}"]
    assert node.findings == ("critical", "low")
    assert "<b>finding F01 (critical)</b>" in node.title and "<b>finding F18 (low)</b>" in node.title
    assert "Severity." not in node.title
