"""The trust graph as one self-contained HTML document that opens offline.

pyvis 0.3.2 (unmaintained since 2023) draws the graph with vis-network inlined
(``cdn_resources="in_line"``); it is used only inside :func:`render_trust_graph`, so it can be
replaced without touching callers. Its output is post-processed: the bootstrap CDN links it still
emits are removed (:func:`irsa_lib.render.offline.offline_clean`), its heading (rendered twice and
unescaped by its template) is dropped in favour of our own escaped header with a legend and the
list of what was collapsed, and hover texts become DOM elements built from escaped HTML (vis-network
9 shows string titles as plain text).

Example
-------
>>> import networkx as nx
>>> g = nx.MultiDiGraph()
>>> g.add_node("sa", type="service-account", label="app/web")
>>> g.add_node("role", type="iam-role", label="web-role")
>>> g.add_edge("sa", "role", mechanism="irsa", decision="allow", evidence=("trust sub matches",))
0
>>> page = render_trust_graph(g)
>>> page.startswith("<!DOCTYPE html>") and "app/web" in page and "cdn.jsdelivr" not in page
True
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from irsa_lib.collector import paused
from irsa_lib.findings import Finding
from irsa_lib.graph.schema import NodeType
from irsa_lib.render.graph_view import Focus, GraphView, ViewEdge, ViewNode, build_view, nx_graph
from irsa_lib.render.offline import offline_clean
from irsa_lib.render.overview import OVERVIEW_ABOVE, overview_view

__all__ = [
    "EDGE_STYLES",
    "NODE_STYLES",
    "Focus",
    "json_for_script",
    "render_graph_iframe",
    "render_trust_graph",
    "render_view",
]


@dataclass(frozen=True)
class NodeStyle:
    shape: str
    color: str
    legend: str


NODE_STYLES: Mapping[str, NodeStyle] = {
    "namespace": NodeStyle("box", "#d9d9d9", "namespace (collapsed Kubernetes objects)"),
    NodeType.RBAC_SUBJECT: NodeStyle("triangle", "#bcbd22", "RBAC subject"),
    NodeType.WORKLOAD: NodeStyle("square", "#9edae5", "workload"),
    NodeType.SERVICE_ACCOUNT: NodeStyle("ellipse", "#6baed6", "service account"),
    NodeType.ANY_SERVICE_ACCOUNT: NodeStyle("ellipse", "#c6dbef", "any service account (could be created)"),
    NodeType.K8S_SECRET: NodeStyle("hexagon", "#9467bd", "Kubernetes Secret"),
    NodeType.KES_EXTERNAL_SECRET: NodeStyle("box", "#aec7e8", "ExternalSecret (KES)"),
    NodeType.ESO_EXTERNAL_SECRET: NodeStyle("box", "#c7e9f1", "ExternalSecret (ESO)"),
    NodeType.ESO_STORE: NodeStyle("box", "#c5b0d5", "SecretStore"),
    NodeType.SECRET_PROVIDER_CLASS: NodeStyle("box", "#dbdb8d", "SecretProviderClass"),
    NodeType.STATIC_CREDENTIALS: NodeStyle("box", "#f7b6d2", "static AWS keys"),
    NodeType.OIDC_PROVIDER: NodeStyle("triangleDown", "#7f7f7f", "OIDC provider"),
    NodeType.IAM_ROLE: NodeStyle("diamond", "#ff7f0e", "IAM role"),
    NodeType.NODE_ROLE: NodeStyle("diamond", "#8c564b", "node instance role"),
    NodeType.ROLE_SESSION: NodeStyle("diamond", "#ffbb78", "role session (Pod Identity)"),
    NodeType.KMS_KEY: NodeStyle("star", "#ffdd33", "KMS key"),
    NodeType.SSM_PARAMETER: NodeStyle("dot", "#2ca02c", "SSM parameter"),
    NodeType.SECRETSMANAGER_SECRET: NodeStyle("dot", "#98df8a", "Secrets Manager secret"),
}
DEFAULT_NODE_STYLE = NodeStyle("dot", "#c7c7c7", "other")


@dataclass(frozen=True)
class EdgeStyle:
    color: str
    dashes: bool | list[int]
    legend: str
    svg_dash: str


EDGE_STYLES: Mapping[str, EdgeStyle] = {
    "allow": EdgeStyle("#2b7a2b", False, "allowed", ""),
    "conditional": EdgeStyle("#d98200", [10, 6], "conditional (depends on request context)", "8,5"),
    "potential": EdgeStyle("#a0309e", [2, 5], "potential (needs an RBAC capability or an unused trust)", "2,4"),
}
FINDING_BORDER = "#d62728"
LARGE_GRAPH = 400
EDGE_LABELS_UP_TO = 60
"""Views with more edges than this name each edge's mechanisms on hover only (the labels would overlap)."""


@paused
def render_trust_graph(
    graph: Any,
    *,
    focus: Focus | None = None,
    findings: Iterable[Finding] = (),
    rows: Sequence[Any] | None = None,
    title: str = "Trust graph",
    height: str = "780px",
    aggregate: bool | None = None,
    max_nodes: int = 150,
    max_parameters: int = 30,
) -> str:
    """One self-contained HTML document drawing ``graph`` (an ``AccessGraph`` or networkx graph).

    ``focus`` narrows the view (namespace, service account, secret, secrets-only); ``findings``
    (objects with ``resource``, ``rule``, ``severity``, ``title``) highlight the nodes they are about.
    See :func:`irsa_lib.render.graph_view.build_view` for ``aggregate``, ``max_nodes`` and
    ``max_parameters``. With the analysis's access ``rows``, no focus and ``aggregate`` left automatic,
    a graph of more than :data:`~irsa_lib.render.overview.OVERVIEW_ABOVE` connected nodes is drawn as
    the overview of its riskiest chains (:func:`irsa_lib.render.overview.overview_view`).
    """
    whole = focus is None or focus == Focus()
    if rows is not None and whole and aggregate is None:
        g = nx_graph(graph)
        if sum(1 for _, degree in g.degree() if degree) > OVERVIEW_ABOVE:
            return render_view(overview_view(g, rows, findings), title=title, height=height)
    view = build_view(
        graph,
        focus=focus,
        findings=findings,
        aggregate=aggregate,
        max_nodes=max_nodes,
        max_parameters=max_parameters,
    )
    return render_view(view, title=title, height=height)


def render_view(view: GraphView, *, title: str = "Trust graph", height: str = "780px") -> str:
    """Draw an already built :class:`GraphView` as an offline HTML document."""
    from pyvis.network import Network  # imported here: pyvis stays an implementation detail

    ids = {n.id: f"n{i}" for i, n in enumerate(view.nodes)}
    net = Network(height=height, width="100%", directed=True, cdn_resources="in_line", heading="")
    net.nodes = [_vis_node(ids[n.id], n) for n in view.nodes]
    labelled = len(view.edges) <= EDGE_LABELS_UP_TO
    if not labelled:
        view = replace(view, notices=(*view.notices, "Hover an edge for its mechanism and evidence."))
    net.edges = [_vis_edge(ids, e, labelled=labelled) for e in view.edges]
    net.options = _options(len(view.nodes))
    page: str = net.generate_html()
    return _postprocess(page, view, title)


def render_graph_iframe(document: str, *, height: int = 820) -> str:
    """An ``<iframe srcdoc>`` embedding a rendered graph document in a notebook output.

    ``srcdoc`` (not a file link) survives nbconvert and papermill: the report stays one file.
    The sandbox lets the graph's own scripts run but gives it no access to the notebook page.
    """
    return (
        f'<iframe sandbox="allow-scripts" srcdoc="{html.escape(document, quote=True)}" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ddd;"></iframe>'
    )


# ---------------------------------------------------------------- vis-network data


def _safe_title(fragment: str) -> str:
    # pyvis switches to a template that assigns titles with innerHTML when it sees "href" in one;
    # the text is already escaped, so spell the word with an entity and keep the normal template.
    return fragment.replace("href", "hre&#102;")


def _vis_node(vid: str, n: ViewNode) -> dict[str, Any]:
    style = NODE_STYLES.get(n.type, DEFAULT_NODE_STYLE)
    flagged = bool(n.findings)
    label = f"⚠ {n.label}" if flagged else n.label
    return {
        "id": vid,
        "label": label,
        "title": _safe_title(n.title),
        "shape": style.shape,
        "level": n.level,
        "borderWidth": 5 if flagged else 1,
        "color": {
            "background": style.color,
            "border": FINDING_BORDER if flagged else "#444444",
            "highlight": {"background": style.color, "border": "#000000"},
        },
        "size": 18 + min(n.members, 40) // 4,
        "font": {"size": 14, "color": FINDING_BORDER if flagged else "#222222"},
    }


def _vis_edge(ids: Mapping[str, str], e: ViewEdge, *, labelled: bool = True) -> dict[str, Any]:
    style = EDGE_STYLES.get(e.decision, EDGE_STYLES["potential"])
    return {
        "from": ids[e.source],
        "to": ids[e.target],
        "label": " + ".join(e.mechanisms) if labelled else "",
        "title": _safe_title(e.title),
        "color": {"color": style.color, "highlight": "#000000"},
        "dashes": style.dashes,
        "width": 2 if e.decision == "allow" else 1.5,
        "arrows": "to",
    }


def _options(n_nodes: int) -> dict[str, Any]:
    large = n_nodes > LARGE_GRAPH
    return {
        "layout": {
            "hierarchical": {
                "enabled": True,
                "direction": "LR",
                "levelSeparation": 300,
                "nodeSpacing": 45 if large else 70,
                "treeSpacing": 80,
                "blockShifting": not large,
                "edgeMinimization": not large,
                "parentCentralization": not large,
            }
        },
        "physics": {"enabled": False},
        "interaction": {"hover": True, "tooltipDelay": 120, "multiselect": True},
        "edges": {
            "font": {"size": 11, "align": "middle", "color": "#333333"},
            "smooth": False if large else {"type": "cubicBezier", "forceDirection": "horizontal", "roundness": 0.4},
        },
    }


# ---------------------------------------------------------------- HTML post-processing

_HEADING = re.compile(r"\s*<center>\s*<h1>.*?</h1>\s*</center>", re.DOTALL)
_COMMENTED_LINKS = re.compile(r"<!--\s*<link.*?-->", re.DOTALL)
_NETWORK_NEW = "network = new vis.Network(container, data, options);"

_CSS = """
<style>
  body { font-family: system-ui, sans-serif; margin: 8px; color: #222; }
  .irsa-header h1 { font-size: 20px; margin: 4px 0; }
  .irsa-header { font-size: 13px; margin-bottom: 6px; }
  .irsa-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0; }
  .irsa-legend span { white-space: nowrap; }
  .irsa-swatch { display: inline-block; width: 11px; height: 11px; border: 1px solid #444;
                 vertical-align: middle; margin-right: 4px; }
  .irsa-notice { background: #fff6d6; border: 1px solid #e0c66c; padding: 4px 8px; margin: 4px 0; }
  .irsa-tip { font-family: monospace; font-size: 12px; white-space: nowrap; }
  #mynetwork { float: none !important; }
</style>
"""

_TITLES_JS = """
                  // hover texts are escaped HTML fragments: show them as elements, not as raw text
                  [nodes, edges].forEach(function (ds) {
                      ds.forEach(function (item) {
                          if (typeof item.title === "string") {
                              var el = document.createElement("div");
                              el.className = "irsa-tip";
                              el.innerHTML = item.title;
                              ds.update({id: item.id, title: el});
                          }
                      });
                  });
                  """


def _postprocess(page: str, view: GraphView, title: str) -> str:
    page = offline_clean(page)
    page = _HEADING.sub("", page)
    page = _COMMENTED_LINKS.sub("", page)
    page = page.replace("<html>", '<!DOCTYPE html>\n<html lang="en">', 1)
    page = page.replace(
        '<meta charset="utf-8">', f'<meta charset="utf-8">\n<title>{html.escape(title)}</title>{_CSS}', 1
    )
    page = page.replace("<body>", "<body>\n" + _header(view, title), 1)
    if _NETWORK_NEW not in page:  # pragma: no cover - guards a pyvis template change
        raise RuntimeError("unexpected pyvis template: cannot install hover texts")
    page = page.replace(_NETWORK_NEW, _TITLES_JS + _NETWORK_NEW, 1)
    return page


def _header(view: GraphView, title: str) -> str:
    e = html.escape
    n_flagged = sum(1 for n in view.nodes if n.findings)
    parts = [
        '<div class="irsa-header">',
        f"<h1>{e(title)}</h1>",
        f"<div>Showing: {e(view.focus)}. {len(view.nodes)} nodes, {len(view.edges)} edges"
        + (f", {n_flagged} with findings (red border, ⚠)." if n_flagged else ".")
        + "</div>",
        '<div class="irsa-legend">',
    ]
    for t in view.node_types:
        style = NODE_STYLES.get(t, DEFAULT_NODE_STYLE)
        name = style.legend if t in NODE_STYLES else t
        parts.append(f'<span><i class="irsa-swatch" style="background:{style.color}"></i>{e(name)}</span>')
    for decision in ("allow", "conditional", "potential"):
        es = EDGE_STYLES[decision]
        dash = f' stroke-dasharray="{es.svg_dash}"' if es.svg_dash else ""
        parts.append(
            f'<span><svg width="34" height="10"><line x1="1" y1="5" x2="33" y2="5" stroke="{es.color}" '
            f'stroke-width="2"{dash}/></svg> {e(es.legend)}</span>'
        )
    parts.append("</div>")
    parts.extend(f'<div class="irsa-notice">{e(note)}</div>' for note in view.notices)
    parts.append("</div>")
    parts.append(f'<script type="application/json" id="irsa-view">{json_for_script(_summary(view))}</script>')
    return "\n".join(parts) + "\n"


def _summary(view: GraphView) -> dict[str, Any]:
    """A machine-readable summary of what is drawn (read by tests and by anyone scripting the page)."""
    return {
        "focus": view.focus,
        "nodes": len(view.nodes),
        "edges": len(view.edges),
        "notices": list(view.notices),
        "flagged": sorted(n.id for n in view.nodes if n.findings),
    }


def json_for_script(data: Any) -> str:
    """``data`` as JSON that can stand inside an HTML ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(data, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
