"""Run a shipped notebook with papermill and turn it into an offline HTML report.

The kernel is always ``python3`` (papermill's ``kernel_name``), so a notebook saved from another
environment still runs, and it imports the same ``irsa_lib`` as the caller: the package's parent
directory is put first on the kernel's ``PYTHONPATH``. A failing cell raises
:class:`NotebookError` naming the notebook, the cell and the error; the executed notebook is kept
next to the report for debugging. The HTML is converted without input cells and made
offline-clean (nbconvert's templates load MathJax and require.js from a CDN; they are dropped, and the
lab template's mermaid loader, a script that would import mermaid from a CDN, is left out altogether).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import irsa_lib
from irsa_lib.errors import IrsaError
from irsa_lib.notebook import notebook_path
from irsa_lib.render.files import write_output
from irsa_lib.render.offline import offline_clean

__all__ = ["NotebookError", "ReportResult", "execute_notebook", "notebook_to_html", "run_report"]

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
