"""The report's tables as pandas DataFrames, their styled HTML, and CSV/JSON export.

Frames are plain data (strings and numbers, one row per fact) so they export unchanged; styling
is separate (:func:`style_access_matrix` etc.) and uses only ``Styler.map`` and CSS, no
matplotlib. Each Styler gets a fixed ``set_uuid`` so the HTML is the same on every run.

Rows and findings are read by attribute or key, so dataclasses and mappings both work.

Example
-------
>>> rows = [{"cluster": "demo", "namespace": "billing", "service_account": "billing",
...          "secret_name": "/billing/db", "secret_kind": "ssm_parameter", "access": "direct",
...          "decision": "allow", "mechanisms": ("irsa", "read"), "path": ("sa", "role", "p"),
...          "secret_arn": "arn:aws:ssm:us-east-1:1:parameter/billing/db"}]
>>> access_matrix(access_frame(rows)).loc["demo/billing/billing", "/billing/db"]
'direct · allow'
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from irsa_lib.access import ACCESS_KINDS
from irsa_lib.findings import Severity
from irsa_lib.graph.schema import EDGE_DECISIONS
from irsa_lib.render.files import write_output

__all__ = [
    "ACCESS_COLUMNS",
    "COVERAGE_COLUMNS",
    "FINDING_COLUMNS",
    "SEVERITIES",
    "access_frame",
    "access_matrix",
    "coverage_frame",
    "export_frames",
    "findings_frame",
    "findings_summary",
    "style_access_matrix",
    "style_access_rows",
    "style_coverage",
    "style_findings",
    "style_findings_summary",
]

ACCESS_COLUMNS: tuple[str, ...] = (
    "cluster",
    "namespace",
    "service_account",
    "secret_name",
    "secret_kind",
    "access",
    "decision",
    "mechanisms",
    "path",
    "secret_arn",
)
FINDING_COLUMNS: tuple[str, ...] = (
    "severity",
    "rule",
    "slug",
    "title",
    "resource",
    "status",
    "evidence",
    "remediation",
)
COVERAGE_COLUMNS: tuple[str, ...] = ("source", "scope", "service", "status", "count", "resource", "error")
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
"""Severity names, most severe first."""

DECISION_COLORS: Mapping[str, str] = {"allow": "#c7e9c0", "conditional": "#fdd0a2", "potential": "#dadaeb"}
SEVERITY_COLORS: Mapping[str, str] = {
    "critical": "#b10026",
    "high": "#e31a1c",
    "medium": "#fd8d3c",
    "low": "#fed976",
    "info": "#deebf7",
}
PATH_SEPARATOR = " → "
CELL_SEPARATOR = " · "


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _text(value: Any, sep: str = ", ") -> str:
    """A cell value: sequences joined, enums by value, None as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "value") and not dataclasses.is_dataclass(value):
        return str(value.value)
    if isinstance(value, Iterable):
        return sep.join(_text(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- effective access


def access_frame(rows: Iterable[Any]) -> pd.DataFrame:
    """One line per (service account, secret, path): the effective-access rows as a table."""
    records = []
    for r in rows:
        rec = {c: _text(_get(r, c)) for c in ACCESS_COLUMNS if c not in ("path", "mechanisms")}
        rec["mechanisms"] = _text(_get(r, "mechanisms"))
        rec["path"] = _text(_get(r, "path"), PATH_SEPARATOR)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(ACCESS_COLUMNS))
    if frame.empty:
        return frame
    return frame.sort_values(["cluster", "namespace", "service_account", "secret_name", "access"]).reset_index(
        drop=True
    )


def _weakness(access: str, decision: str) -> tuple[int, int]:
    """Where the access kind and the decision stand in their orders (0: most direct, most certain)."""

    def place(order: Sequence[str], value: str) -> int:
        return order.index(value) if value in order else len(order)

    return place(ACCESS_KINDS, access), place(EDGE_DECISIONS, decision)


def access_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Service accounts (rows, ``cluster/namespace/name``) x secrets (columns): the strongest access.

    A cell reads ``"<access> · <decision>"`` (``direct · allow``, ``via-controller · conditional``);
    empty where no path exists. When one service account reaches a secret several ways, the most
    direct and most certain way is shown (``direct`` over ``via-controller`` over ``potential``,
    then ``allow`` over ``conditional``).
    """
    if frame.empty:
        return pd.DataFrame()
    best: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}
    for rec in frame.itertuples(index=False):
        sa = f"{rec.cluster}/{rec.namespace or '*'}/{rec.service_account}"
        key = (sa, str(rec.secret_name))
        weakness = _weakness(str(rec.access), str(rec.decision))
        if key not in best or weakness < best[key][0]:
            best[key] = (weakness, f"{rec.access}{CELL_SEPARATOR}{rec.decision}")
    sas = sorted({k[0] for k in best})
    secrets = sorted({k[1] for k in best})
    matrix = pd.DataFrame("", index=pd.Index(sas, name="service account"), columns=pd.Index(secrets, name="secret"))
    for (sa, secret), (_, cell) in best.items():
        matrix.loc[sa, secret] = cell
    return matrix


def _matrix_cell_css(cell: Any) -> str:
    text = str(cell)
    if not text:
        return "color: #bbb;"
    access, _, decision = text.partition(CELL_SEPARATOR)
    css = f"background-color: {DECISION_COLORS.get(decision, '#eeeeee')};"
    if access == "direct":
        css += " font-weight: bold;"
    elif access == "potential":
        css += " font-style: italic;"
    return css


def style_access_matrix(matrix: pd.DataFrame, *, uuid: str = "access-matrix") -> Styler:
    """The matrix coloured by decision (green allow, orange conditional, purple potential)."""
    return (
        matrix.style.set_uuid(uuid)
        .map(_matrix_cell_css)
        .set_caption("Effective access: service account × secret (strongest path shown)")
        .set_table_styles(
            [
                {"selector": "th.col_heading", "props": "writing-mode: vertical-rl; transform: rotate(180deg);"},
                {"selector": "td", "props": "border: 1px solid #ddd; padding: 2px 6px; white-space: nowrap;"},
            ]
        )
    )


def style_access_rows(frame: pd.DataFrame, *, uuid: str = "access-rows") -> Styler:
    """The access rows with the decision column coloured."""
    return (
        frame.style.set_uuid(uuid)
        .hide(axis="index")
        .map(lambda d: f"background-color: {DECISION_COLORS.get(str(d), 'transparent')};", subset=["decision"])
        .set_caption("Effective access paths")
        .set_table_styles([{"selector": "td, th", "props": "text-align: left; padding: 1px 6px; font-size: 90%;"}])
    )


# ---------------------------------------------------------------- findings


def findings_frame(findings: Iterable[Any]) -> pd.DataFrame:
    """One line per finding, most severe first."""
    records = []
    for f in findings:
        rec = {c: _text(_get(f, c)) for c in FINDING_COLUMNS if c != "evidence"}
        rec["severity"] = rec["severity"].lower()
        rec["evidence"] = _text(_get(f, "evidence"), "; ")
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS))
    if frame.empty:
        return frame
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_order"] = frame["severity"].map(lambda s: order.get(s, len(order)))
    return frame.sort_values(["_order", "rule", "resource"]).drop(columns="_order").reset_index(drop=True)


def findings_summary(findings: Iterable[Any] | pd.DataFrame) -> pd.DataFrame:
    """How many findings per severity (every severity listed, zero included)."""
    frame = findings if isinstance(findings, pd.DataFrame) else findings_frame(findings)
    counts = Counter(frame["severity"]) if not frame.empty else Counter()
    extra = sorted(s for s in counts if s not in SEVERITIES)
    return pd.DataFrame(
        {"severity": list(SEVERITIES) + extra, "findings": [counts.get(s, 0) for s in (*SEVERITIES, *extra)]}
    )


def _severity_css(severity: Any) -> str:
    color = SEVERITY_COLORS.get(str(severity))
    if not color:
        return ""
    text = "#ffffff" if Severity(severity) >= Severity.HIGH else "#000000"
    return f"background-color: {color}; color: {text}; font-weight: bold;"


def style_findings(frame: pd.DataFrame, *, uuid: str = "findings") -> Styler:
    """Findings with the severity column coloured."""
    styler = frame.style.set_uuid(uuid).hide(axis="index").set_caption("Findings")
    if "severity" in frame.columns:
        styler = styler.map(_severity_css, subset=["severity"])
    return styler.set_table_styles(
        [
            {"selector": "td", "props": "vertical-align: top; text-align: left; padding: 2px 6px; font-size: 90%;"},
            {"selector": "th", "props": "text-align: left;"},
            {"selector": "td.col6, td.col7", "props": "min-width: 24em; max-width: 40em;"},
        ]
    )


def style_findings_summary(summary: pd.DataFrame, *, uuid: str = "severities") -> Styler:
    """Counts per severity, the severity cells coloured."""
    return summary.style.set_uuid(uuid).hide(axis="index").map(_severity_css, subset=["severity"])


# ---------------------------------------------------------------- coverage


def coverage_frame(coverage: Any) -> pd.DataFrame:
    """What was collected and what was not: one line per source/scope/service (a Snapshot or its coverage)."""
    entries = coverage if isinstance(coverage, Sequence) else coverage.coverage
    records = [{c: _get(e, c) for c in COVERAGE_COLUMNS} for e in entries]
    frame = pd.DataFrame.from_records(records, columns=list(COVERAGE_COLUMNS))
    frame["count"] = frame["count"].astype("Int64")
    for c in ("resource", "error"):
        frame[c] = frame[c].fillna("")
    if frame.empty:
        return frame
    return frame.sort_values(["source", "scope", "service"]).reset_index(drop=True)


def _status_css(status: Any) -> str:
    if status in ("ok", "absent", "not_found"):
        return "color: #2b7a2b;"
    return "background-color: #fcbba1; font-weight: bold;"


def style_coverage(frame: pd.DataFrame, *, uuid: str = "coverage") -> Styler:
    """Coverage with incomplete sources highlighted: their absence of access is *unknown*."""
    styler = frame.style.set_uuid(uuid).hide(axis="index").set_caption("Collection coverage")
    if "status" in frame.columns:
        styler = styler.map(_status_css, subset=["status"])
    return styler.set_table_styles([{"selector": "td, th", "props": "text-align: left; padding: 1px 6px;"}])


# ---------------------------------------------------------------- export


def export_frames(frames: Mapping[str, pd.DataFrame], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each frame as ``<name>.csv`` and ``<name>.json`` (a list of records) under ``out_dir``.

    Files are written atomically; the index is written only when it carries labels (the matrix).
    """
    out = Path(out_dir)
    written: list[Path] = []
    for name, frame in frames.items():
        keep_index = frame.index.name is not None
        written.append(write_output(out / f"{name}.csv", frame.to_csv(index=keep_index)))
        data = frame.reset_index() if keep_index else frame
        records = json.loads(data.to_json(orient="records", force_ascii=False))
        written.append(write_output(out / f"{name}.json", json.dumps(records, indent=1, ensure_ascii=False) + "\n"))
    return written
