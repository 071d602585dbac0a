"""The shipped notebooks: where they are, running them (papermill, nbconvert), and the explorer of ``explore.ipynb``.

* :func:`notebook_path` finds a shipped notebook; :func:`run_report` executes one with papermill
  into a directory and converts it to one offline HTML report (:func:`execute_notebook`,
  :func:`notebook_to_html`). The kernel is always ``python3`` (papermill's ``kernel_name``), so a
  notebook saved from another environment still runs, and it imports the same ``irsa_lib`` as the
  caller: the package's parent directory is put first on the kernel's ``PYTHONPATH``. A failing cell
  raises :class:`NotebookError` naming the notebook, the cell and the error; the executed notebook is
  kept next to the report for debugging. The HTML is converted without input cells and made
  offline-clean (nbconvert's templates load MathJax and require.js from a CDN; they are dropped).
* The explorer is a thin ipywidgets shell over :func:`selection`, a pure function (tested without a
  kernel) that turns picker values into the rows, focus and findings to show.
* :func:`gather_analysis` is the notebooks' first step: the analysis of their sources, a snapshot file
  through the graph cache as the commands analyse one (:func:`analyse_snapshot_file`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

import irsa_lib
from irsa_lib.analysis import Analysis
from irsa_lib.errors import IrsaError, UsageError
from irsa_lib.render.files import write_output
from irsa_lib.render.graph_html import Focus
from irsa_lib.render.graph_view import locate_findings, prepare, selected_nodes
from irsa_lib.render.offline import offline_clean
from irsa_lib.render.report import trust_graph
from irsa_lib.render.tables import access_frame, findings_frame

__all__ = [
    "NOTEBOOKS",
    "NotebookError",
    "ReportResult",
    "RowIndex",
    "Selection",
    "analyse_snapshot_file",
    "choices",
    "execute_notebook",
    "explorer",
    "gather_analysis",
    "notebook_path",
    "notebook_to_html",
    "notebooks_dir",
    "rows_for",
    "run_report",
    "selection",
    "selection_html",
    "working_copy",
]

NOTEBOOKS: tuple[str, ...] = ("access_report.ipynb", "explore.ipynb", "onboard_service.ipynb")


def gather_analysis(**sources: Any) -> Analysis:
    """The analysis of what :func:`~irsa_lib.collect.gather.gather_snapshot` gathers from ``sources``
    (its keyword arguments, the notebooks' parameters).

    A snapshot file (``snapshot_path``, or ``IRSA_SNAPSHOT`` when no source is given) is analysed as
    ``irsa access`` and the other commands analyse one, through the graph cache
    (:func:`analyse_snapshot_file`): a report on a file a command analysed starts from its graph.
    Collected sources are analysed as collected.
    """
    from irsa_lib.analysis import analyse
    from irsa_lib.collect.gather import gather_snapshot, snapshot_file

    path = snapshot_file(**sources)
    return analyse_snapshot_file(path) if path else analyse(gather_snapshot(**sources), rows_first=True)


def analyse_snapshot_file(path: str | os.PathLike[str]) -> Analysis:
    """The whole analysis of a snapshot file, through the graph cache the environment names
    (:mod:`irsa_lib.cache`: ``IRSA_CACHE``, ``IRSA_CACHE_DIR``); the same answers as without it."""
    from irsa_lib.cache import GraphCache, analyse_file

    return analyse_file(path, cache=GraphCache.from_env(), rows_first=True)  # the notebooks read both


def notebooks_dir() -> Path:
    """Where the shipped notebooks are: the ``notebooks/`` folder of a source checkout (an editable
    install included), else ``irsa_lib/notebook_files/`` of an installed package (the wheel maps the
    folder there; see pyproject.toml)."""
    package = Path(str(resources.files("irsa_lib")))
    checkout = package.parent / "notebooks"
    if (package.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return package / "notebook_files"


def notebook_path(name: str) -> Path:
    """The path of a shipped notebook; a clear error for an unknown name."""
    if not name.endswith(".ipynb"):
        name += ".ipynb"
    path = notebooks_dir() / name
    if name not in NOTEBOOKS or not path.is_file():
        raise UsageError(f"no notebook {name!r} in {notebooks_dir()} (have: {', '.join(NOTEBOOKS)})")
    return path


def working_copy(directory: str | os.PathLike[str]) -> tuple[list[Path], list[Path]]:
    """Copy the shipped notebooks into ``directory`` to work on them there (``irsa lab``), so edits and
    JupyterLab's autosaved outputs never reach the shipped copies. A notebook already in ``directory``
    holds earlier work and is kept as it is. Returns (copied, kept)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for name in NOTEBOOKS:
        dest = target / name
        if dest.exists():
            kept.append(dest)
        else:
            shutil.copyfile(notebook_path(name), dest)
            copied.append(dest)
    return copied, kept


# ---------------------------------------------------------------- running

KERNEL = "python3"
_TEMPLATE = "irsa_report.html.j2"
_NO_MERMAID = (
    '{%- extends "lab/index.html.j2" -%}\n{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n'
)
"""nbconvert's lab template without the block that loads mermaid from a CDN (reports draw no mermaid)."""


class NotebookError(IrsaError):
    """A notebook could not be executed: a cell failed, or no kernel could be started."""


@dataclass(frozen=True)
class ReportResult:
    html: Path
    notebook: Path
    out_dir: Path


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Let the kernel import the ``irsa_lib`` this process runs (a checkout or an installed package)."""
    root = str(Path(irsa_lib.__file__).resolve().parent.parent)
    old = os.environ.get("PYTHONPATH")
    parts = [root, *(old.split(os.pathsep) if old else [])]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def _local_transport() -> dict[str, Any]:
    """Talk to the kernel over Unix sockets where there are any: nothing listens on a TCP port, and
    ipykernel has no reason to warn that its TCP traffic is unencrypted."""
    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Unicode

    class IpcKernelManager(AsyncKernelManager):
        transport = Unicode("ipc")

    return {"kernel_manager_class": IpcKernelManager}


def execute_notebook(
    notebook: str | os.PathLike[str],
    output: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: int = 900,
) -> Path:
    """Execute ``notebook`` (a shipped notebook's name, or a path) into ``output`` with ``parameters``."""
    try:
        import papermill as pm
        from jupyter_client.kernelspec import NoSuchKernel
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise NotebookError(
            f"running notebooks needs papermill and ipykernel: pip install 'irsa_lib[notebooks]' ({exc})"
        ) from exc
    source = (
        Path(notebook)
        if Path(notebook).suffix == ".ipynb" and Path(notebook).exists()
        else notebook_path(str(notebook))
    )
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _kernel_environment():
            pm.execute_notebook(
                str(source),
                str(out),
                parameters=dict(parameters),
                kernel_name=KERNEL,
                cwd=str(cwd) if cwd else None,
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                **_local_transport(),
            )
    except pm.PapermillExecutionError as exc:
        first = next((line for line in exc.source.splitlines() if line.strip()), "")
        raise NotebookError(
            f"{source.name}: cell {exc.cell_index} (execution count {exc.exec_count}) failed: "
            f"{exc.ename}: {exc.evalue}\n  cell starts: {first}\n  executed notebook kept for debugging: {out}"
        ) from None
    except NoSuchKernel:
        raise NotebookError(f"no Jupyter kernel named {KERNEL!r}: install ipykernel in this environment") from None
    return out


def notebook_to_html(notebook: str | os.PathLike[str], html_path: str | os.PathLike[str]) -> Path:
    """Convert an executed notebook to one offline HTML file without input cells or prompts."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    node = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({_TEMPLATE: _NO_MERMAID})])
    exporter.template_file = _TEMPLATE
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(node)
    return write_output(html_path, offline_clean(body))


def run_report(
    out_dir: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    *,
    notebook: str = "access_report.ipynb",
    timeout: int = 900,
) -> ReportResult:
    """Execute ``notebook`` with ``parameters`` into ``out_dir`` and write its HTML report there.

    ``output_dir`` defaults to ``out_dir`` (absolute), so the notebook's files land beside the report.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    params = {"output_dir": str(out), **parameters}
    stem = Path(notebook).stem
    executed = execute_notebook(notebook, out / f"{stem}.ipynb", params, cwd=out, timeout=timeout)
    html = notebook_to_html(executed, out / f"{stem}.html")
    return ReportResult(html=html, notebook=executed, out_dir=out)


# ---------------------------------------------------------------- the explorer


@dataclass(frozen=True)
class Selection:
    """What the explorer shows for one choice of cluster / namespace / service account / secret."""

    rows: pd.DataFrame
    findings: pd.DataFrame
    focus: Focus
    description: str


SHOWN_ROWS = 200
"""Access rows the explorer shows as a table (it says "N of M"; ``Selection.rows`` holds every one)."""


class RowIndex:
    """The access rows of an analysis by value (name and ARN), namespace and service account name,
    built once so that each pick of the explorer reads only its own rows; with the ``graph``, the
    indexes of its focused views too (:func:`irsa_lib.render.graph_view.prepare`)."""

    def __init__(self, rows: Iterable[Any], graph: Any = None) -> None:
        if graph is not None:  # and the graph's indexes for the focused views
            prepare(graph)
        self.rows = list(rows)
        self.by: dict[str, dict[str, list[Any]]] = {"secret": {}, "namespace": {}, "service_account": {}}
        get = _reader(self.rows)
        for r in self.rows:
            for key in {get(r, "secret_name"), get(r, "secret_arn")}:
                self.by["secret"].setdefault(str(key), []).append(r)
            self.by["namespace"].setdefault(str(get(r, "namespace")), []).append(r)
            self.by["service_account"].setdefault(str(get(r, "service_account")), []).append(r)

    def candidates(self, **picked: str | None) -> list[Any]:
        """The rows that can match the picks: those of the most selective pick given, else all."""
        lists = [self.by[k].get(v, []) for k, v in picked.items() if v and k in self.by]
        return min(lists, key=len) if lists else self.rows


def _reader(rows: list[Any]) -> Any:
    """Reads a field of rows like ``rows[0]``: access rows, or their JSON form (mappings)."""
    if rows and isinstance(rows[0], Mapping):
        return lambda r, name: r.get(name)
    return lambda r, name: getattr(r, name, None)


def selection(
    analysis: Analysis,
    *,
    cluster: str | None = None,
    namespace: str | None = None,
    service_account: str | None = None,
    secret: str | None = None,
    index: RowIndex | None = None,
) -> Selection:
    """The access paths, the graph focus and the findings for the picked objects (``None`` = any).

    The findings shown are those about the nodes the focused graph shows (all of them when
    nothing is picked). ``index``: the analysis's rows indexed once (:class:`RowIndex`), for
    repeated picks.
    """
    picked = {"namespace": namespace, "service_account": service_account, "secret": secret}
    candidates = analysis.rows if index is None else index.candidates(**picked)
    rows = rows_for(candidates, cluster=cluster, namespace=namespace, service_account=service_account, secret=secret)
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
        shown = {str(n) for n in selected_nodes(analysis.graph, focus)}
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


def rows_for(
    rows: Iterable[Any],
    *,
    cluster: str | None = None,
    namespace: str | None = None,
    service_account: str | None = None,
    secret: str | None = None,
) -> list[Any]:
    """The access rows matching every given selector (``secret``: name or ARN)."""
    rows = list(rows)
    get = _reader(rows)
    out = []
    for r in rows:
        if cluster and get(r, "cluster") != cluster:
            continue
        if namespace and get(r, "namespace") != namespace:
            continue
        if service_account and get(r, "service_account") != service_account:
            continue
        if secret and secret not in (get(r, "secret_name"), get(r, "secret_arn")):
            continue
        out.append(r)
    return out


def choices(analysis: Analysis) -> dict[str, list[str]]:
    """The values each picker offers, from the access rows (sorted, unique)."""
    rows = list(analysis.rows)
    get = _reader(rows)
    return {
        key: sorted({str(get(r, field)) for r in rows if get(r, field) is not None})
        for key, field in (
            ("cluster", "cluster"),
            ("namespace", "namespace"),
            ("service_account", "service_account"),
            ("secret", "secret_name"),
        )
    }


def selection_html(analysis: Analysis, sel: Selection) -> str:
    """What the explorer shows for a selection, as one HTML fragment (escaped by pandas and the renderer):
    the first :data:`SHOWN_ROWS` access rows and findings (saying how many there are), the focused graph."""
    from html import escape

    from irsa_lib.render.tables import style_access_rows, style_findings

    def part(frame: pd.DataFrame, name: str) -> str:
        total = len(frame)
        return f"{total}" if total <= SHOWN_ROWS else f"the first {SHOWN_ROWS} of {total} (view.{name} holds all)"

    found = part(sel.findings, "findings")
    return "\n".join(
        [
            f"<h4>Access paths: {escape(part(sel.rows, 'rows'))} ({escape(sel.description)})</h4>",
            style_access_rows(sel.rows.head(SHOWN_ROWS), uuid="explore-rows").to_html(),
            str(trust_graph(analysis, focus=sel.focus, height=600)),
            f"<h4>Findings: {escape(found)}</h4>",
            style_findings(sel.findings.head(SHOWN_ROWS), uuid="explore-findings").to_html(),
        ]
    )


def explorer(analysis: Analysis) -> Any:
    """An ipywidgets panel: four pickers, and below them the paths, the graph and the findings.

    The result area is an ``HTML`` widget whose value is replaced on every pick (an ``Output``
    widget would make headless papermill runs wait for a front end that never comes). The rows are
    indexed once (:class:`RowIndex`), so a pick reads only its own rows.
    """
    import ipywidgets as widgets

    options = choices(analysis)
    index = RowIndex(analysis.rows, analysis.graph)
    pickers = {
        key: widgets.Dropdown(options=[("(any)", None), *[(v, v) for v in values]], description=key.replace("_", " "))
        for key, values in options.items()
    }
    result = widgets.HTML()

    def refresh(_: Any = None) -> None:
        picked = {k: w.value for k, w in pickers.items()}
        result.value = selection_html(analysis, selection(analysis, index=index, **picked))

    for w in pickers.values():
        w.observe(refresh, names="value")
    refresh()
    return widgets.VBox([widgets.HBox(list(pickers.values())), result])
