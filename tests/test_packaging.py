"""What the wheel holds: every package and data file of irsa_lib, and the notebooks from notebooks/.

pyproject.toml lists the packages (it cannot find them: the notebooks come from the top-level
notebooks/ folder through a package-dir mapping), so a package or data directory added later must be
listed there too; this test says which. The installed layout is then rebuilt in a temporary site
directory to check that ``notebook_path`` finds the notebooks in an installed copy, not only in a checkout.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from irsa_lib.notebooks import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
MAPPED = {name: ROOT / path for name, path in SETUPTOOLS.get("package-dir", {}).items()}


def source_dir(package: str) -> Path:
    return MAPPED.get(package, ROOT.joinpath(*package.split(".")))


def test_the_licence_is_an_spdx_expression() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"


def test_every_package_and_data_directory_is_listed() -> None:
    source = ROOT / "irsa_lib"
    python_packages = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in source.rglob("__init__.py") if "__pycache__" not in p.parts
    }
    data_dirs = {
        ".".join(p.relative_to(ROOT).parts)
        for p in source.rglob("*")
        if p.is_dir() and "__pycache__" not in p.parts and not (p / "__init__.py").exists()
        if any(f.is_file() for f in p.iterdir())
    }
    assert set(SETUPTOOLS["packages"]) == python_packages | data_dirs | {"irsa_lib.notebook_files"}
    assert MAPPED == {"irsa_lib.notebook_files": ROOT / "notebooks"}


def test_package_data_patterns_take_every_data_file_and_notebook() -> None:
    patterns = SETUPTOOLS["package-data"]
    shipped = set()
    for package in SETUPTOOLS["packages"]:
        folder = source_dir(package)
        for pattern in patterns.get(package, ()):
            shipped |= {p for p in folder.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern)}
    data = {p for p in (ROOT / "irsa_lib").rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert data <= shipped
    assert {p.name for p in shipped if p.suffix == ".ipynb"} == set(NOTEBOOKS)


def test_an_installed_copy_finds_its_notebooks(tmp_path: Path) -> None:
    # the wheel's layout: the package, and notebooks/ mapped to irsa_lib/notebook_files/
    site = tmp_path / "site"
    shutil.copytree(ROOT / "irsa_lib", site / "irsa_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "notebooks", site / "irsa_lib" / "notebook_files", ignore=shutil.ignore_patterns("*.md"))
    code = "import irsa_lib.notebooks as n; print(n.notebook_path('explore'))"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(run.stdout.strip()) == site / "irsa_lib" / "notebook_files" / "explore.ipynb"
