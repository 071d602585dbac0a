"""The report's tables as pandas DataFrames, their styled HTML, and CSV/JSON export.

Frames are plain data (strings and numbers, one row per fact) so they export unchanged; styling
is separate (:func:`style_access_matrix` etc.) and uses only ``Styler.map`` and CSS, no
matplotlib. Each Styler gets a fixed ``set_uuid`` so the HTML is the same on every run.
Every cell and label comes from collected inputs (names, annotations, file names, error texts),
which anyone able to edit a ServiceAccount or a manifest controls: pandas' Styler writes them into
HTML as they are, so each Styler made here is passed through :func:`escaped` first.

Rows and findings are read by attribute or key, so dataclasses and mappings both work.

Example
-------
>>> rows = [{"cluster": "demo", "namespace": "billing", "service_account": "billing",
...          "secret_name": "/billing/db", "secret_kind": "ssm_parameter", "access": "direct",
...          "decision": "allow", "mechanisms": ("irsa", "read"), "path": ("sa", "role", "p"),
...          "secret_arn": "arn:aws:ssm:us-east-1:1:parameter/billing/db"}]
>>> access_matrix(access_frame(rows)).loc["sa demo/billing/billing", "/billing/db"]
'direct · allow'
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any, TextIO, TypeAlias

import pandas as pd
from pandas.io.formats.style import Styler

from irsa_lib.access import ACCESS_KINDS
from irsa_lib.findings import Severity
from irsa_lib.graph.schema import EDGE_DECISIONS
from irsa_lib.render.files import write_output_with
from irsa_lib.subjects import display_row

__all__ = [
    "ACCESS_COLUMNS",
    "COVERAGE_COLUMNS",
    "FINDING_COLUMNS",
    "SEVERITIES",
    "access_columns",
    "access_frame",
    "access_matrix",
    "coverage_frame",
    "escaped",
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
    "subject",
    "cluster",
    "namespace",
    "service_account",
    "subject_kind",
    "secret_name",
    "secret_kind",
    "kms_key_alias",
    "kms_key_arn",
    "kms_key_manager",
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


def escaped(styler: Styler, caption: str | None = None) -> Styler:
    """``styler`` with every cell, row label and column label HTML-escaped, and ``caption`` (escaped) set.

    >>> import pandas as pd
    >>> html = escaped(pd.DataFrame({"<b>": ["<script>x</script>"]}).style, "<i>").to_html()
    >>> "<script>" in html or "<b>" in html or "<i>" in html
    False
    """
    out = styler.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    return out.set_caption(html.escape(caption)) if caption is not None else out


# ---------------------------------------------------------------- effective access


def _all_text(values: Iterable[Any]) -> bool:
    """Every value is a ``str`` (checked in C: tables of hundreds of thousands of cells)."""
    return set(map(type, values)) <= {str}


def access_columns(rows: Iterable[Any]) -> dict[str, list[str]]:
    """The effective-access rows as the table's columns (:data:`ACCESS_COLUMNS`), in the rows' order:
    the subject spelled by :func:`~irsa_lib.subjects.display_row`, sequences joined (paths by " → ")."""
    rows = rows if isinstance(rows, list) else list(rows)
    mapping = bool(rows) and isinstance(rows[0], Mapping)

    def column(name: str) -> list[Any]:
        if mapping:
            return [r.get(name) for r in rows]
        try:
            return list(map(attrgetter(name), rows))
        except AttributeError:  # an older row object
            return [getattr(r, name, None) for r in rows]

    def text(values: list[Any], sep: str) -> list[str]:
        if _all_text(values):
            return values
        if set(map(type, values)) <= {tuple, list}:
            try:
                return list(map(sep.join, values))  # sequences of text, joined in C
            except TypeError:  # an item that is not text
                pass
        return [v if isinstance(v, str) else _text(v, sep) for v in values]

    columns: dict[str, list[str]] = {}
    for c in ACCESS_COLUMNS:
        if c == "subject":
            columns[c] = list(map(display_row, rows))
        else:
            columns[c] = text(column(c), PATH_SEPARATOR if c == "path" else ", ")
    return columns


def access_frame(rows: Iterable[Any]) -> pd.DataFrame:
    """One line per (subject, value): the effective-access rows as a table, paths joined by " → ",
    sorted by cluster, namespace, service account, value and access."""
    frame = pd.DataFrame(access_columns(rows), columns=list(ACCESS_COLUMNS))
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


def access_matrix(frame: pd.DataFrame | Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Subjects (rows, as :func:`irsa_lib.subjects.display` writes them) x values (columns): the strongest access.

    ``frame``: :func:`access_frame`, or :func:`access_columns`. A cell reads ``"<access> · <decision>"``
    (``direct · allow``, ``via-controller · conditional``); empty where no path exists. When one
    service account reaches a secret several ways, the most direct and most certain way is shown
    (``direct`` over ``via-controller`` over ``potential``, then ``allow`` over ``conditional``).
    """
    columns = ("subject", "secret_name", "access", "decision")
    if isinstance(frame, pd.DataFrame):
        if frame.empty:
            return pd.DataFrame()
        subjects, secrets_, accesses, decisions = (frame[c].tolist() for c in columns)
    else:
        subjects, secrets_, accesses, decisions = (frame[c] for c in columns)
    if not subjects:
        return pd.DataFrame()
    best: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}
    kinds = {(a, d): _weakness(str(a), str(d)) for a, d in set(zip(accesses, decisions, strict=True))}
    for sa, secret, access, decision in zip(subjects, secrets_, accesses, decisions, strict=True):
        key = (str(sa), str(secret))
        weakness = kinds[(access, decision)]
        held = best.get(key)
        if held is None or weakness < held[0]:
            best[key] = (weakness, f"{access}{CELL_SEPARATOR}{decision}")
    sas = sorted({k[0] for k in best})
    secrets = sorted({k[1] for k in best})
    row_of = {sa: i for i, sa in enumerate(sas)}
    col_of = {secret: i for i, secret in enumerate(secrets)}
    grid = [[""] * len(secrets) for _ in sas]
    for (sa, secret), (_, cell) in best.items():
        grid[row_of[sa]][col_of[secret]] = cell
    return pd.DataFrame(grid, index=pd.Index(sas, name="subject"), columns=pd.Index(secrets, name="secret"))


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
        escaped(matrix.style.set_uuid(uuid), "Effective access: service account × secret (strongest path shown)")
        .map(_matrix_cell_css)
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
        escaped(frame.style.set_uuid(uuid), "Effective access paths")
        .hide(axis="index")
        .map(lambda d: f"background-color: {DECISION_COLORS.get(str(d), 'transparent')};", subset=["decision"])
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
    styler = escaped(frame.style.set_uuid(uuid), "Findings").hide(axis="index")
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
    return escaped(summary.style.set_uuid(uuid)).hide(axis="index").map(_severity_css, subset=["severity"])


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
    styler = escaped(frame.style.set_uuid(uuid), "Collection coverage").hide(axis="index")
    if "status" in frame.columns:
        styler = styler.map(_status_css, subset=["status"])
    return styler.set_table_styles([{"selector": "td, th", "props": "text-align: left; padding: 1px 6px;"}])


# ---------------------------------------------------------------- export


Table: TypeAlias = pd.DataFrame | Mapping[str, Sequence[Any]]
"""A table to export: a frame, or its columns by name (each the same length)."""


def export_frames(
    frames: Mapping[str, Table], out_dir: str | os.PathLike[str], *, csv_only: Collection[str] = ()
) -> list[Path]:
    """Write each table as ``<name>.csv`` and ``<name>.json`` (a list of records, one per line) under
    ``out_dir``; the tables named in ``csv_only`` as CSV alone.

    Files are written atomically, column by column through the standard library's C encoders (no
    row-by-row Python loop: a table of hundreds of thousands of rows is written in seconds); a frame's
    index is written only when it carries labels (the matrix). Missing values (None, NaN, NA) are
    empty cells in CSV and ``null`` in JSON.
    """
    out = Path(out_dir)
    written: list[Path] = []
    for name, table in frames.items():
        columns = _plain_columns(table)
        written.append(write_output_with(out / f"{name}.csv", partial(_csv, columns)))
        if name not in csv_only:
            written.append(write_output_with(out / f"{name}.json", partial(_json_records, columns)))
    return written


def _plain_columns(table: Table) -> dict[str, list[Any]]:
    """The table's columns as lists of plain Python values (str, int, float or None)."""
    if not isinstance(table, pd.DataFrame):
        return {str(k): list(v) for k, v in table.items()}
    frame = table.reset_index() if table.index.name is not None else table
    out: dict[str, list[Any]] = {}
    for name in frame.columns:
        values = frame[name].tolist()
        if frame[name].hasnans:
            values = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v for v in values]
        out[str(name)] = values
    return out


_QUOTED = '",\r\n'
_NEEDS_QUOTES = re.compile(f"[{_QUOTED}]").search
"""A cell the CSV dialect must quote: it holds the delimiter, the quote or a line break."""


def _csv_cells(values: Sequence[Any]) -> list[str]:
    """A column's cells as the standard ``csv`` writer (minimal quoting) writes them: None empty,
    other values by ``str``, a cell holding ``,``, ``"`` or a line break quoted, its quotes doubled."""
    cells = values if _all_text(values) else ["" if v is None else str(v) for v in values]
    column = "".join(cells)
    if not any(c in column for c in _QUOTED):  # a few fast scans of the column: most need no quotes
        return list(cells)
    return ['"' + c.replace('"', '""') + '"' if _NEEDS_QUOTES(c) else c for c in cells]


def _csv(columns: Mapping[str, list[Any]], fh: TextIO) -> None:
    """The table as CSV, one column at a time: the standard writer's output (a test compares them),
    several times faster on hundreds of thousands of rows, whose cells it reads one character at a
    time; a cell holding a carriage return is quoted too (the standard writer of Python 3.11 leaves
    it bare when lines end in a newline, and its own reader then splits the line)."""
    cells = [_csv_cells(values) for values in columns.values()]
    header = _csv_cells(list(columns))
    if len(cells) == 1:  # a line of one empty cell is written "" (an empty line would read as no cell)
        header, cells = [c or '""' for c in header], [[c or '""' for c in cells[0]]]
    fh.write(",".join(header) + "\n")
    records = zip(*cells, strict=True)
    while chunk := list(itertools.islice(records, EXPORT_CHUNK)):
        fh.write("\n".join(map(",".join, chunk)) + "\n")


_JSON_STRING: Callable[[str], str] = json.encoder.encode_basestring
"""A string as a JSON string literal, non-ASCII kept (the C encoder ``json.dumps`` uses)."""


def _json_value(value: Any) -> str:
    if type(value) is str:
        return _JSON_STRING(value)
    return json.dumps(value, ensure_ascii=False)


def _json_records(columns: Mapping[str, list[Any]], fh: TextIO) -> None:
    """The table as a JSON array of records, one record per line: each column encoded by the C
    string encoder in one pass, each record one format of its encoded cells."""
    if not columns or not next(iter(columns.values())):
        fh.write("[]\n")
        return
    names = (_JSON_STRING(str(c)).replace("%", "%%") for c in columns)  # a name is text, never a format
    template = "{" + ",".join(f"{n}:%s" for n in names) + "}"
    encoded = [
        list(map(_JSON_STRING, values)) if _all_text(values) else list(map(_json_value, values))
        for values in columns.values()
    ]
    fh.write("[")
    first = True
    records = zip(*encoded, strict=True)
    while chunk := list(itertools.islice(records, EXPORT_CHUNK)):
        fh.write(("" if first else ",\n") + ",\n".join(map(template.__mod__, chunk)))
        first = False
    fh.write("]\n")


EXPORT_CHUNK = 20_000
