"""The report's sections, shared by the notebooks and ``irsa report``: one function per section of an analysis.

Notebook cells are one or two calls into this module, so everything a report shows is reachable
from tests: each function takes an :class:`~irsa_lib.analysis.Analysis` and returns something
Jupyter displays (a Styler or :class:`Html`); :func:`write_report_files` writes the tables, the
snapshot and the trust graph beside the report.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from irsa_lib.analysis import Analysis
from irsa_lib.collector import paused
from irsa_lib.diff import diff_analyses
from irsa_lib.render.files import write_output
from irsa_lib.render.graph_html import Focus, render_graph_iframe, render_trust_graph
from irsa_lib.render.report_page import (
    ReportModel,
    app_html,
    assets_html,
    counts,
    placeholder,
    ranked_list,
    write_data,
)
from irsa_lib.render.report_page import model as build_model
from irsa_lib.render.tables import (
    PATH_SEPARATOR,
    SEVERITIES,
    Table,
    access_columns,
    access_frame,
    access_matrix,
    coverage_frame,
    escaped,
    export_frames,
    findings_frame,
    findings_summary,
    style_access_matrix,
    style_access_rows,
    style_coverage,
    style_findings,
    style_findings_summary,
)
from irsa_lib.snapshot import save_snapshot
from irsa_lib.subjects import KIND_LABELS, SubjectKind, display_row, subject_of_row

__all__ = [
    "Html",
    "access_matrix_table",
    "access_rows_table",
    "coverage_table",
    "drift_frame",
    "drift_table",
    "drilldown_section",
    "findings_table",
    "graph_section",
    "interactive",
    "report_model",
    "risk_section",
    "severity_table",
    "summary_frame",
    "summary_table",
    "team_section",
    "trust_graph",
    "write_report_files",
]


class Html(str):
    """A string Jupyter displays as HTML (no IPython import needed, and no IFrame warning)."""

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:  # the notebook's plain-text copy of the output: not the page again
        return f"<HTML: {len(self):,} characters>"


# ---------------------------------------------------------------- sections


def summary_frame(analysis: Analysis) -> pd.DataFrame:
    """The headline numbers: what was looked at, who reaches what, what is wrong, what is unknown."""

    rows = analysis.rows
    mapping = bool(rows) and isinstance(rows[0], Mapping)

    def get(r: Any, name: str) -> Any:
        return r.get(name) if mapping else getattr(r, name, None)

    kinds = Counter(get(r, "access") for r in rows)
    severities = Counter(findings_frame(analysis.findings)["severity"]) if analysis.findings else Counter()
    snap = analysis.snapshot
    secrets = {get(r, "secret_arn") for r in rows}
    raw = {tuple(get(r, k) for k in ("subject_kind", "cluster", "namespace", "service_account")): r for r in rows}
    by_kind = Counter(s.kind for s in {subject_of_row(r) for r in raw.values()})
    metrics: list[tuple[str, object]] = [
        ("snapshot taken", snap.created_at),
        ("clusters", len({c.name for c in snap.clusters} | {s.cluster for s in snap.service_accounts})),
        ("service accounts", len(snap.service_accounts)),
        ("IAM roles", len(snap.roles)),
        ("SSM parameters", len(snap.ssm_parameters)),
        ("Secrets Manager secrets", len(snap.secrets)),
        *((f"subjects reaching a value: {KIND_LABELS[k]}", by_kind.get(k, 0)) for k in SubjectKind),
        ("values (parameters and secrets) some subject can read", len(secrets)),
        ("access paths: direct", kinds.get("direct", 0)),
        ("access paths: via controller", kinds.get("via-controller", 0)),
        ("access paths: potential", kinds.get("potential", 0)),
        ("findings: critical", severities.get("critical", 0)),
        ("findings: high", severities.get("high", 0)),
        ("findings: all", len(analysis.findings)),
        ("sources not fully collected", len(snap.incomplete())),
    ]
    return pd.DataFrame({"": [m for m, _ in metrics], "value": [str(v) for _, v in metrics]})


def summary_table(analysis: Analysis) -> Styler:
    return (
        escaped(summary_frame(analysis).style.set_uuid("summary"))
        .hide(axis="index")
        .hide(axis="columns")
        .set_table_styles([{"selector": "td", "props": "text-align: left; padding: 1px 12px 1px 0;"}])
    )


def severity_table(analysis: Analysis) -> Styler:
    return style_findings_summary(findings_summary(analysis.findings))


def findings_table(analysis: Analysis) -> Styler:
    return style_findings(findings_frame(analysis.findings))


def access_matrix_table(analysis: Analysis) -> Styler:
    return style_access_matrix(access_matrix(access_frame(analysis.rows)))


def access_rows_table(analysis: Analysis, *, limit: int | None = None) -> Styler:
    frame = access_frame(analysis.rows)
    return style_access_rows(frame if limit is None else frame.head(limit))


def coverage_table(analysis: Analysis) -> Styler:
    return style_coverage(coverage_frame(analysis.snapshot))


def trust_graph(analysis: Analysis, *, focus: Focus | None = None, height: int = 820, **options: Any) -> Html:
    """The trust graph of the analysis, embedded for a notebook (``<iframe srcdoc>``)."""
    page = render_trust_graph(analysis.graph, focus=focus, findings=analysis.findings, rows=analysis.rows, **options)
    return Html(render_graph_iframe(page, height=height))


def drift_frame(drift: Any) -> pd.DataFrame:
    """One line per change of an ``irsa_lib.diff.Drift``: what changed, and how it was before and after.

    Access rows: ``before`` and ``after`` give the decision and the path (hops joined by " → "); a new
    row has no ``before``, a removed one no ``after``. Findings: severity and status, and the evidence
    that changed.
    """

    def g(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    def finding(f: Any) -> tuple[str, str]:
        return f"{g(f, 'rule')} {g(f, 'resource')}", f"{_plain(g(f, 'severity'))}: {g(f, 'title')}"

    def row_subject(r: Any) -> str:
        return f"{display_row(r)} reads {g(r, 'secret_name') or g(r, 'secret_arn')} ({g(r, 'access')})"

    def row_state(r: Any) -> str:
        return f"{g(r, 'decision')}: {_plain(g(r, 'path'))}"

    records: list[tuple[str, str, str, str, str]] = []
    for change, items in (("new", drift.findings_added), ("gone", drift.findings_removed)):
        for f in items:
            what, state = finding(f)
            records.append(
                (change, "finding", what, "" if change == "new" else state, state if change == "new" else "")
            )
    for ch in drift.findings_changed:
        what, _ = finding(ch.new)
        before = "; ".join(f"{k}: {_plain(g(ch.old, k))}" for k in ch.fields)
        after = "; ".join(f"{k}: {_plain(g(ch.new, k))}" for k in ch.fields)
        records.append(("changed", "finding", what, before, after))
    for r in drift.access_added:
        records.append(("new", "access", row_subject(r), "", row_state(r)))
    for r in drift.access_removed:
        records.append(("gone", "access", row_subject(r), row_state(r), ""))
    for ch in drift.access_changed:
        records.append(("changed", "access", row_subject(ch.new), row_state(ch.old), row_state(ch.new)))
    return pd.DataFrame.from_records(records, columns=["change", "kind", "what", "before", "after"])


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return PATH_SEPARATOR.join(map(str, value))
    return str(getattr(value, "value", value))


def drift_table(analysis: Analysis, previous: Analysis | None) -> Styler | Html:
    """What changed since the ``previous`` analysis, or a note when there is none."""
    if previous is None:
        return Html("<p>No previous snapshot given: drift is not computed.</p>")
    before = previous.snapshot
    frame = drift_frame(diff_analyses(previous, analysis))
    if frame.empty:
        return Html(f"<p>No change since the previous snapshot ({html.escape(before.created_at)}).</p>")
    colors = {"new": "#fcbba1", "gone": "#c7e9c0", "changed": "#fdd0a2"}
    return (
        escaped(frame.style.set_uuid("drift"), f"Changes since {before.created_at}")
        .hide(axis="index")
        .map(lambda c: f"background-color: {colors.get(str(c), 'transparent')};", subset=["change"])
    )


# ---------------------------------------------------------------- the interactive report


@paused
def report_model(analysis: Analysis) -> ReportModel:
    """The data every drill-down view of the report draws from (every access row, no sampling)."""
    return build_model(analysis.snapshot, analysis.graph, analysis.rows, analysis.findings)


RANKED = 10
"""Entries of each ranked list in the summary (the tables below and the files have all)."""


def risk_section(analysis: Analysis, model: ReportModel) -> Html:
    """What to look at first: findings by severity, values read from outside their namespace, the
    widest readers, and controllers that read values with their own identity."""
    agg = model.aggregates
    severities = Counter(str(getattr(f.severity, "value", f.severity)).lower() for f in analysis.findings)
    worst = sorted(
        analysis.findings,
        key=lambda f: (SEVERITIES.index(str(f.severity.value)) if f.severity.value in SEVERITIES else 9, f.rule),
    )
    parts = [
        f"<p><b>Findings by severity:</b> {counts({k: severities.get(k, 0) for k in SEVERITIES})}</p>",
        ranked_list(
            "Most severe findings",
            ("severity", "rule", "title", "resource"),
            ((f.severity.value, f.rule, f.title, f.resource) for f in worst),
            total=len(worst),
            top=RANKED,
            full="findings.csv and the findings table below",
            empty="No findings.",
        ),
        ranked_list(
            "Values read from outside their owning namespace",
            ("value", "key", "owner namespace", "outside readers allowed outright", "all outside readers", "readers"),
            ((r[1], r[2], r[3], r[7], r[6], r[4]) for r in agg["values"] if r[6]),
            total=sum(1 for r in agg["values"] if r[6]),
            top=RANKED,
            full="the values table below",
            empty="No value is read by a subject outside the namespace named by its path.",
        ),
        ranked_list(
            "Widest readers",
            ("subject", "values", "allowed outright", "outside its namespace"),
            ((r[1], r[3], r[4], r[5]) for r in agg["subjects"]),
            total=len(agg["subjects"]),
            top=RANKED,
            full="the subjects table below",
            empty="No subject reads any value.",
        ),
        ranked_list(
            "Controllers that read values with their own identity",
            ("controller service account", "values read directly"),
            ((r[1], r[2]) for r in agg["controllers"]),
            total=len(agg["controllers"]),
            top=RANKED,
            full="the access table below (filter on the subject)",
            empty="No KES or ESO controller reads a value with its own identity.",
        ),
    ]
    return Html("".join(parts))


def graph_section() -> Html:
    """The focused trust graph: who can read the value picked in a table (at first the value with the
    most readers outside its namespace), drawn left to right, subject to value, its key before it."""
    return Html(
        '<p id="irsa-status"></p><h4 id="irsa-graph-title">focused trust graph</h4>'
        '<div id="irsa-graph"></div>'
        "<p>Click a value, namespace or subject in the tables below to draw its paths. "
        "Solid: allowed; dashed: conditional; dotted: potential. Hover a node or an edge for its evidence; "
        "the edge into a key shows the key policy statement or grant that allows kms:Decrypt.</p>"
    )


def drilldown_section(name: str) -> Html:
    """One of the drill-down tables: ``values``, ``namespaces``, ``subjects``, ``access`` or ``findings``."""
    files = {
        "values": ("irsa-values", "values.csv values.json"),
        "namespaces": ("irsa-namespaces", "namespaces.csv namespaces.json"),
        "subjects": ("irsa-subjects", "subjects.csv subjects.json"),
        "access": ("irsa-access", "access_rows.csv"),
        "findings": ("irsa-findings", "findings.csv findings.json"),
    }
    table_id, full = files[name]
    return Html(placeholder(table_id, full=full))


def team_section() -> Html:
    """A team's own section, filled when a namespace is clicked (or the page is opened at
    ``#team=<cluster>/<namespace>``): its subjects, the values it owns, who outside the namespace reads
    them, and the findings that concern it, each a table searchable like the others."""
    parts = [
        '<p id="irsa-team-hint">Click a namespace above to open its team section here.</p>',
        '<div id="irsa-team" hidden><h3 id="irsa-team-title"></h3><p id="irsa-team-summary"></p>',
        '<p><button type="button" id="irsa-team-owns">graph: who can read the values it owns</button> ',
        '<button type="button" id="irsa-team-reads">graph: what its subjects can read</button></p>',
    ]
    for title, table_id, full in (
        ("Its subjects", "irsa-team-subjects", "subjects.csv subjects.json"),
        ("Values it owns", "irsa-team-values", "values.csv values.json"),
        ("Who outside the namespace reads its values", "irsa-team-outside", "access_rows.csv"),
        ("Findings that concern it", "irsa-team-findings", "findings.csv findings.json"),
    ):
        parts.append(f"<h4>{title}</h4>{placeholder(table_id, full=full)}")
    parts.append("</div>")
    return Html("".join(parts))


def interactive() -> Html:
    """The libraries and the script that draw the tables and graphs from the data file
    (:func:`write_report_files` writes it): the last output of the report."""
    return Html(f'<div id="irsa-app">{assets_html()}{app_html()}</div>')


def aggregate_frames(model: ReportModel) -> dict[str, pd.DataFrame]:
    """The drill-down tables as frames, for the CSV/JSON files beside the report."""
    agg = model.aggregates
    return {
        "values": pd.DataFrame(
            [r[1:] for r in agg["values"]],
            columns=[
                "value",
                "key",
                "owner_namespace",
                "readers",
                "readers_allowed",
                "readers_outside_owner",
                "readers_outside_owner_allowed",
            ],
        ),
        "subjects": pd.DataFrame(
            [r[1:] for r in agg["subjects"]],
            columns=["subject", "kind", "values", "values_allowed", "values_outside_namespace"],
        ),
        "namespaces": pd.DataFrame(
            agg["namespaces"],
            columns=["namespace", "subjects", "values_read", "values_owned", "outside_reads_of_owned"],
        ),
    }


# ---------------------------------------------------------------- files


CSV_ONLY = frozenset({"access_rows", "access_matrix"})
"""The tables a report writes as CSV alone: one line per access row (hundreds of thousands at an
organisation's size) and the subject x value matrix. The same rows as JSON, each path a list of
hops, are what ``irsa access SNAPSHOT --format json`` prints; writing them twice beside every report
doubled its size and the time it takes."""


def report_frames(analysis: Analysis) -> dict[str, Table]:
    """The tables a report exports; the access rows in the analysis's order
    (:func:`irsa_lib.access.row_order`, as ``irsa access`` lists them) and as columns: a table of
    hundreds of thousands of rows is never made a DataFrame only to be written out."""
    rows = access_columns(analysis.rows)
    return {
        "access_rows": rows,
        "access_matrix": access_matrix(rows),
        "findings": findings_frame(analysis.findings),
        "coverage": coverage_frame(analysis.snapshot),
    }


@paused
def write_report_files(
    analysis: Analysis,
    out_dir: str | os.PathLike[str],
    *,
    focus: Focus | None = None,
    extra_frames: Mapping[str, Table] | None = None,
    model: ReportModel | None = None,
) -> list[Path]:
    """Write the snapshot, the tables (CSV and JSON; :data:`CSV_ONLY` as CSV), the report's data file
    and the standalone trust graph under ``out_dir``."""
    out = Path(out_dir)
    model = model if model is not None else report_model(analysis)
    written = [save_snapshot(analysis.snapshot, out / "snapshot.json")]
    frames = report_frames(analysis) | aggregate_frames(model) | dict(extra_frames or {})
    written += export_frames(frames, out, csv_only=CSV_ONLY)
    written.append(write_data(model, out))
    page = render_trust_graph(analysis.graph, focus=focus, findings=analysis.findings, rows=analysis.rows)
    written.append(write_output(out / "trust-graph.html", page))
    return written
