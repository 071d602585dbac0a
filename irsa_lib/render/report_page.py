"""The interactive parts of the HTML report: kept libraries inlined, the data beside the page.

The report page holds its summary as plain HTML (written here, every text escaped) and placeholders
for the drill-down tables and the focused trust graph. One script (``irsa_lib/data/report/report.js``)
fills them from ``report_data.js``, written beside the page: every access row is there, so a table
search finds any row, however large the organisation. The libraries are inlined from their Python
packages, so the page loads nothing from the network: DataTables from itables' offline bundle
(loaded as a module from a ``blob:`` URL, as itables does offline) and vis-network from pyvis.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from irsa_lib.render.graph_html import EDGE_STYLES, NODE_STYLES, json_for_script
from irsa_lib.render.overview import SUBJECT_NODE_TYPES, TYPE_PLURAL
from irsa_lib.render.report_data import aggregates, report_data, to_script
from irsa_lib.subjects import KIND_LABELS, Subject, SubjectKind, display

__all__ = ["DATA_FILE", "ReportModel", "app_html", "assets_html", "model", "placeholder", "ranked_list"]

DATA_FILE = "report_data.js"
GRAPH_ROWS = 5000
"""Access rows drawn at most in one focused graph (the caption says "N of M"; the table has all)."""
GROUP_AT = 25
"""More distinct subjects than this in a focused graph: those of one kind taking the same first hop are
drawn as one node with their count."""
NODE_BUDGET = 120
"""More nodes than this in a focused graph's chains: the nodes of one type at one distance from the value,
when more than :data:`CLASS_AT`, are drawn as one node with their count."""
CLASS_AT = 8


@dataclass(frozen=True)
class ReportModel:
    """The report's data (:func:`irsa_lib.render.report_data.report_data`) and its aggregates."""

    data: dict[str, Any]
    aggregates: dict[str, Any]


def model(snapshot: Any, graph: Any, rows: Sequence[Any], findings: Sequence[Any]) -> ReportModel:
    """The report's data and aggregates for one analysed snapshot."""
    namespaces = {n.name for n in snapshot.namespaces} | {sa.namespace for sa in snapshot.service_accounts}
    data = report_data(graph, rows, findings, namespaces)
    return ReportModel(data=data, aggregates=aggregates(data, controller_subjects(snapshot)))


def controller_subjects(snapshot: Any) -> set[str]:
    """Displays of the KES and ESO controllers' own service accounts (from the collected controllers)."""
    return {
        display(Subject(SubjectKind.SERVICE_ACCOUNT, c.cluster, c.namespace, c.service_account))
        for c in (*snapshot.kes_controllers, *snapshot.eso_controllers)
    }


def write_data(report: ReportModel, out_dir: str | Path) -> Path:
    from irsa_lib.render.files import write_output

    data = dict(report.data, aggregates=report.aggregates)
    return write_output(Path(out_dir) / DATA_FILE, to_script("IRSA_REPORT_DATA", data))


def _asset(package: str, *parts: str) -> str:
    return resources.files(package).joinpath(*parts).read_text(encoding="utf-8")


def _no_close(script: str) -> str:
    # inlined library text must not end its <script> element early
    return script.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def assets_html() -> str:
    """The libraries, once per page: DataTables' CSS and module source, vis-network, the report's CSS."""
    dt_css = _asset("itables", "html", "dt_bundle.css")
    dt_js = _asset("itables", "html", "dt_bundle.js")
    vis_js = _asset("pyvis", "lib", "vis-9.1.2", "vis-network.min.js")
    css = _asset("irsa_lib", "data", "report", "report.css")
    return (
        f"<style>{dt_css}</style><style>{css}</style>"
        f'<script type="text/plain" id="irsa-datatables-src">{_no_close(dt_js)}</script>'
        f"<script>{_no_close(vis_js)}</script>"
    )


def app_html() -> str:
    """The script that fills the placeholders; it goes after them, at the end of the page."""
    styles = {k: [s.shape, s.color] for k, s in NODE_STYLES.items()} | {"": ["dot", "#c7c7c7"]}
    config = {
        "data_file": DATA_FILE,
        "graph_rows": GRAPH_ROWS,
        "styles": styles,
        "edge_colors": {k: s.color for k, s in EDGE_STYLES.items()},
        "kinds": SUBJECT_NODE_TYPES,
        "plural": {k.value: v for k, v in KIND_LABELS.items()},
        "group_at": GROUP_AT,
        "node_budget": NODE_BUDGET,
        "class_at": CLASS_AT,
        "type_plural": dict(TYPE_PLURAL),
    }
    return (
        f'<script type="application/json" id="irsa-config">{json_for_script(config)}</script>'
        f"<script>{_no_close(_asset('irsa_lib', 'data', 'report', 'report.js'))}</script>"
    )


def placeholder(table_id: str, *, full: str, caption: str = "") -> str:
    """An empty table the script fills, with the files that hold the same rows."""
    links = " · ".join(f'<a href="{html.escape(f)}">{html.escape(f)}</a>' for f in full.split())
    return (
        f'<div class="irsa-table">{f"<p>{html.escape(caption)}</p>" if caption else ""}'
        f'<table id="{html.escape(table_id)}" class="display compact stripe" style="width:100%"></table>'
        f'<p class="irsa-files">All rows as files: {links}</p></div>'
    )


def ranked_list(
    title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, total: int, top: int, full: str, empty: str
) -> str:
    """A short ranked table: the first ``top`` of ``total`` rows, saying so, and where all of them are."""
    shown = list(rows)[:top]
    if not shown:
        return f"<h4>{html.escape(title)}</h4><p>{html.escape(empty)}</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in shown)
    part = f"top {len(shown)} of {total}" if len(shown) < total else f"all {total}"
    return (
        f'<h4>{html.escape(title)} <span class="irsa-part">({part}; every one in {html.escape(full)})</span></h4>'
        f'<table class="irsa-ranked"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def metrics_table(metrics: Sequence[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in metrics)
    return f'<table class="irsa-metrics">{rows}</table>'


def counts(items: Mapping[str, int]) -> str:
    return ", ".join(f"{html.escape(k)}: {v:,}" for k, v in items.items())
