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
from irsa_lib.diff import diff_analyses
from irsa_lib.render.files import write_output
from irsa_lib.render.graph_html import Focus, render_graph_iframe, render_trust_graph
from irsa_lib.render.tables import (
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

__all__ = [
    "Html",
    "access_matrix_table",
    "access_rows_table",
    "coverage_table",
    "drift_frame",
    "drift_table",
    "findings_table",
    "severity_table",
    "summary_frame",
    "summary_table",
    "trust_graph",
    "write_report_files",
]


class Html(str):
    """A string Jupyter displays as HTML (no IPython import needed, and no IFrame warning)."""

    def _repr_html_(self) -> str:
        return str(self)


# ---------------------------------------------------------------- sections


def summary_frame(analysis: Analysis) -> pd.DataFrame:
    """The headline numbers: what was looked at, who reaches what, what is wrong, what is unknown."""
    frame = access_frame(analysis.rows)
    kinds = Counter(frame["access"]) if not frame.empty else Counter()
    severities = Counter(findings_frame(analysis.findings)["severity"]) if analysis.findings else Counter()
    snap = analysis.snapshot
    secrets = {r for r in frame["secret_arn"]} if not frame.empty else set()
    sas = {(r.cluster, r.namespace, r.service_account) for r in frame.itertuples()} if not frame.empty else set()
    metrics: list[tuple[str, object]] = [
        ("snapshot taken", snap.created_at),
        ("clusters", len({c.name for c in snap.clusters} | {s.cluster for s in snap.service_accounts})),
        ("service accounts", len(snap.service_accounts)),
        ("IAM roles", len(snap.roles)),
        ("SSM parameters", len(snap.ssm_parameters)),
        ("Secrets Manager secrets", len(snap.secrets)),
        ("service accounts reaching a secret", len(sas)),
        ("secrets reachable from a service account", len(secrets)),
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
    page = render_trust_graph(analysis.graph, focus=focus, findings=analysis.findings, **options)
    return Html(render_graph_iframe(page, height=height))


def drift_frame(drift: Any) -> pd.DataFrame:
    """One line per change of an ``irsa_lib.diff.Drift``: new / gone / changed findings and access."""

    def g(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    def finding(f: Any) -> tuple[str, str]:
        return f"{g(f, 'rule')} {g(f, 'resource')}", f"{_plain(g(f, 'severity'))}: {g(f, 'title')}"

    def access(r: Any) -> tuple[str, str]:
        who = f"{g(r, 'cluster')}/{g(r, 'namespace')}/{g(r, 'service_account')}"
        return f"{who} → {g(r, 'secret_name') or g(r, 'secret_arn')}", f"{g(r, 'access')} · {g(r, 'decision')}"

    records: list[tuple[str, str, str, str]] = []
    for change, items in (("new", drift.findings_added), ("gone", drift.findings_removed)):
        records += [(change, "finding", *finding(f)) for f in items]
    for ch in drift.findings_changed:
        subject, _ = finding(ch.new)
        detail = "; ".join(f"{k}: {_plain(g(ch.old, k))} → {_plain(g(ch.new, k))}" for k in ch.fields)
        records.append(("changed", "finding", subject, detail))
    for change, items in (("new", drift.access_added), ("gone", drift.access_removed)):
        records += [(change, "access", *access(r)) for r in items]
    for ch in drift.access_changed:
        subject, _ = access(ch.new)
        detail = "; ".join(f"{k}: {_plain(g(ch.old, k))} → {_plain(g(ch.new, k))}" for k in ch.fields)
        records.append(("changed", "access", subject, detail))
    return pd.DataFrame.from_records(records, columns=["change", "kind", "subject", "detail"])


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " → ".join(map(str, value))
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


# ---------------------------------------------------------------- files


def report_frames(analysis: Analysis) -> dict[str, pd.DataFrame]:
    """The tables a report exports as CSV and JSON."""
    rows = access_frame(analysis.rows)
    return {
        "access_rows": rows,
        "access_matrix": access_matrix(rows),
        "findings": findings_frame(analysis.findings),
        "coverage": coverage_frame(analysis.snapshot),
    }


def write_report_files(
    analysis: Analysis,
    out_dir: str | os.PathLike[str],
    *,
    focus: Focus | None = None,
    extra_frames: Mapping[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """Write the snapshot, the tables (CSV + JSON) and the standalone trust graph under ``out_dir``."""
    out = Path(out_dir)
    written = [save_snapshot(analysis.snapshot, out / "snapshot.json")]
    frames = report_frames(analysis) | dict(extra_frames or {})
    written += export_frames(frames, out)
    page = render_trust_graph(analysis.graph, focus=focus, findings=analysis.findings)
    written.append(write_output(out / "trust-graph.html", page))
    return written
