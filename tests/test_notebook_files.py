"""The shipped notebooks as files: committed clean, parameterised, and calling only what exists."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from irsa_lib.errors import UsageError
from irsa_lib.notebooks import NOTEBOOKS, notebook_path, notebooks_dir, working_copy

EXPECTED_PARAMETERS = {
    "access_report.ipynb": {
        "snapshot_path",
        "previous_snapshot",
        "whatif_path",
        "aws_profiles",
        "aws_role_arns",
        "aws_regions",
        "endpoint_url",
        "kube_contexts",
        "kubeconfig",
        "manifest_dirs",
        "output_dir",
    },
    "explore.ipynb": {
        "snapshot_path",
        "aws_profiles",
        "aws_role_arns",
        "aws_regions",
        "endpoint_url",
        "kube_contexts",
        "kubeconfig",
        "manifest_dirs",
        "cluster",
        "namespace",
        "service_account",
        "secret",
    },
    "onboard_service.ipynb": {
        "service_name",
        "namespace",
        "cluster",
        "account_id",
        "region",
        "parameter_names",
        "secret_names",
        "value_env",
        "controller",
        "controller_role_arn",
        "controller_service_account",
        "key_admin_arns",
        "root_administers_key",
        "endpoint_url",
        "manifests",
        "snapshot_path",
        "offline",
        "out_dir",
        "apply",
        "overwrite_values",
        "verify_after_apply",
        "stop_after_step",
    },
}
MODULES = {"report": "irsa_lib.render.report"}


def test_every_notebook_is_in_the_notebooks_folder_once() -> None:
    checkout = Path(__file__).resolve().parent.parent
    assert notebooks_dir() == checkout / "notebooks"
    assert sorted(p.name for p in notebooks_dir().glob("*.ipynb")) == sorted(NOTEBOOKS)
    assert sorted(p.name for p in (checkout / "irsa_lib").rglob("*.ipynb")) == []
    assert notebook_path("explore") == notebooks_dir() / "explore.ipynb"
    with pytest.raises(UsageError, match=r"no notebook 'nope\.ipynb'"):
        notebook_path("nope")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_clean_and_parameterised(name: str) -> None:
    nb = nbformat.read(notebook_path(name), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assigned = {t.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign) for t in node.targets}  # type: ignore[attr-defined]
    assert assigned == EXPECTED_PARAMETERS[name]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_cells_are_thin_calls_into_the_library(name: str) -> None:
    """Cells hold no function or class definitions, and every ``report.X`` / imported name exists."""
    nb = nbformat.read(notebook_path(name), as_version=4)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda)) for n in ast.walk(tree)), cell.source
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("irsa_lib"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(f"{node.module}.{alias.name}"), (
                        f"{name}: {node.module}.{alias.name} does not exist"
                    )
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in MODULES:
                module = importlib.import_module(MODULES[node.value.id])
                assert hasattr(module, node.attr), f"{name}: {MODULES[node.value.id]}.{node.attr} does not exist"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_papermill_help_notebook_lists_every_parameter(name: str) -> None:
    """``papermill --help-notebook`` skips a parameter line it cannot parse (two ``=`` on one line, a
    comment included) without failing: every parameter must be listed with its help."""
    run = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(notebook_path(name))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Unable to parse" not in run.stderr + run.stdout
    listed = set(re.findall(r"^  (\w+): ", run.stdout, flags=re.MULTILINE))
    assert listed == EXPECTED_PARAMETERS[name]


def test_working_copy_copies_the_notebooks_and_keeps_earlier_work(tmp_path: Path) -> None:
    copied, kept = working_copy(tmp_path / "lab")
    assert sorted(p.name for p in copied) == sorted(NOTEBOOKS) and kept == []
    assert (tmp_path / "lab" / "explore.ipynb").read_bytes() == notebook_path("explore").read_bytes()
    (tmp_path / "lab" / "explore.ipynb").write_text("my edits", encoding="utf-8")
    (tmp_path / "lab" / "access_report.ipynb").unlink()
    copied, kept = working_copy(tmp_path / "lab")
    assert [p.name for p in copied] == ["access_report.ipynb"]
    assert sorted(p.name for p in kept) == ["explore.ipynb", "onboard_service.ipynb"]
    assert (tmp_path / "lab" / "explore.ipynb").read_text(encoding="utf-8") == "my edits"
