"""Notebook helpers: where the shipped notebooks are, and the interactive explorer of ``explore.ipynb``.

The explorer is a thin ipywidgets shell over :func:`selection`, a pure function (tested without a
kernel) that turns picker values into the rows, focus and findings to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from irsa_lib.analysis import Analysis
from irsa_lib.errors import UsageError
from irsa_lib.render.graph_html import Focus
from irsa_lib.render.graph_view import build_view, locate_findings
from irsa_lib.render.report import rows_for, trust_graph
from irsa_lib.render.tables import access_frame, findings_frame

__all__ = [
    "NOTEBOOKS",
    "Selection",
    "choices",
    "explorer",
    "notebook_path",
    "notebooks_dir",
    "selection",
    "selection_html",
]

NOTEBOOKS: tuple[str, ...] = ("access_report.ipynb", "explore.ipynb", "onboard_service.ipynb")


def notebooks_dir() -> Path:
    """The directory of the notebooks shipped with the package (``irsa_lib/data/notebooks``)."""
    return Path(str(resources.files("irsa_lib").joinpath("data", "notebooks")))


def notebook_path(name: str) -> Path:
    """The path of a shipped notebook; a clear error for an unknown name."""
    if not name.endswith(".ipynb"):
        name += ".ipynb"
    path = notebooks_dir() / name
    if name not in NOTEBOOKS or not path.is_file():
        raise UsageError(f"no notebook {name!r} in {notebooks_dir()} (have: {', '.join(NOTEBOOKS)})")
    return path


@dataclass(frozen=True)
class Selection:
    """What the explorer shows for one choice of cluster / namespace / service account / secret."""

    rows: pd.DataFrame
    findings: pd.DataFrame
    focus: Focus
    description: str


def selection(
    analysis: Analysis,
    *,
    cluster: str | None = None,
    namespace: str | None = None,
    service_account: str | None = None,
    secret: str | None = None,
) -> Selection:
    """The access paths, the graph focus and the findings for the picked objects (``None`` = any).

    The findings shown are those about the nodes the focused graph shows (all of them when
    nothing is picked).
    """
    rows = rows_for(analysis.rows, cluster=cluster, namespace=namespace, service_account=service_account, secret=secret)
    frame = access_frame(rows)
    if service_account:
        sa = "/".join(p for p in (cluster, namespace, service_account) if p) if namespace else service_account
        focus = Focus(service_account=sa)
    elif secret:
        focus = Focus(secret=secret)
    elif namespace:
        focus = Focus(namespace=namespace)
    else:
        focus = Focus()
    if focus == Focus():
        chosen = list(analysis.findings)
    else:
        shown = {n.id for n in build_view(analysis.graph, focus=focus, aggregate=False).nodes}
        located = locate_findings(analysis.graph, analysis.findings)
        chosen = [f for node, found in located.items() if str(node) in shown for f in found]
    described = ", ".join(
        f"{k} {v}"
        for k, v in (
            ("cluster", cluster),
            ("namespace", namespace),
            ("service account", service_account),
            ("secret", secret),
        )
        if v
    )
    return Selection(rows=frame, findings=findings_frame(chosen), focus=focus, description=described or "everything")


def choices(analysis: Analysis) -> dict[str, list[str]]:
    """The values each picker offers, from the access rows (sorted, unique)."""
    frame = access_frame(analysis.rows)
    if frame.empty:
        return {"cluster": [], "namespace": [], "service_account": [], "secret": []}
    return {
        "cluster": sorted(set(frame["cluster"])),
        "namespace": sorted(set(frame["namespace"])),
        "service_account": sorted(set(frame["service_account"])),
        "secret": sorted(set(frame["secret_name"])),
    }


def selection_html(analysis: Analysis, sel: Selection) -> str:
    """What the explorer shows for a selection, as one HTML fragment (escaped by pandas and the renderer)."""
    from html import escape

    from irsa_lib.render.tables import style_access_rows, style_findings

    return "\n".join(
        [
            f"<h4>Access paths: {len(sel.rows)} ({escape(sel.description)})</h4>",
            style_access_rows(sel.rows, uuid="explore-rows").to_html(),
            str(trust_graph(analysis, focus=sel.focus, height=600)),
            f"<h4>Findings: {len(sel.findings)}</h4>",
            style_findings(sel.findings, uuid="explore-findings").to_html(),
        ]
    )


def explorer(analysis: Analysis) -> Any:
    """An ipywidgets panel: four pickers, and below them the paths, the graph and the findings.

    The result area is an ``HTML`` widget whose value is replaced on every pick (an ``Output``
    widget would make headless papermill runs wait for a front end that never comes).
    """
    import ipywidgets as widgets

    options = choices(analysis)
    pickers = {
        key: widgets.Dropdown(options=[("(any)", None), *[(v, v) for v in values]], description=key.replace("_", " "))
        for key, values in options.items()
    }
    result = widgets.HTML()

    def refresh(_: Any = None) -> None:
        picked = {k: w.value for k, w in pickers.items()}
        result.value = selection_html(analysis, selection(analysis, **picked))

    for w in pickers.values():
        w.observe(refresh, names="value")
    refresh()
    return widgets.VBox([widgets.HBox(list(pickers.values())), result])
