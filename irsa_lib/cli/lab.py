"""``irsa lab``: JupyterLab on the shipped notebooks, with the demo environment ready.

The demo's local AWS endpoint is started and seeded, the demo snapshot is written, and JupyterLab
runs with an environment in which the notebooks work unchanged: ``AWS_ENDPOINT_URL`` and
placeholder credentials point every boto3 call at the local endpoint, and ``IRSA_SNAPSHOT`` names
the demo snapshot, which :func:`irsa_lib.collect.gather.gather_snapshot` uses when a notebook is
given no other source. The endpoint stops when JupyterLab exits.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from irsa_lib.collect.gather import SNAPSHOT_ENV
from irsa_lib.errors import UsageError
from irsa_lib.notebooks import notebooks_dir


def register(sub: Any) -> None:
    p = sub.add_parser("lab", help="open JupyterLab on the notebooks with the demo environment running")
    p.add_argument("--notebook-dir", default=None, help="directory to open (default: the shipped notebooks)")
    p.add_argument("--out", default=str(Path("reports") / "lab"), help="where the demo snapshot is written")
    p.add_argument("--port", type=int, default=None, help="JupyterLab port (default: Jupyter's choice)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--check",
        action="store_true",
        help="prepare the environment, print it as shell exports and stop (do not start JupyterLab)",
    )
    p.set_defaults(run=run)


def lab_command(notebook_dir: Path, *, port: int | None, no_browser: bool, as_root: bool = False) -> list[str]:
    """The JupyterLab command line. As root (containers, CI machines) Jupyter refuses to start unless told."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebook_dir}"]
    if as_root:
        cmd.append("--allow-root")
    if port:
        cmd.append(f"--ServerApp.port={port}")
    if no_browser:
        cmd.append("--no-browser")
    return cmd


def run(args: argparse.Namespace) -> int:
    from irsa_lib.demo import local_aws, local_aws_env, run_demo

    notebook_dir = Path(args.notebook_dir) if args.notebook_dir else notebooks_dir()
    if not args.check and importlib.util.find_spec("jupyterlab") is None:
        raise UsageError("JupyterLab is not installed: pip install 'irsa_lib[lab]' (make lab does this)")
    with local_aws() as aws:
        result = run_demo(args.out, endpoint_url=aws.endpoint_url)
        env = {**local_aws_env(aws.endpoint_url), SNAPSHOT_ENV: str(result.snapshot_path.resolve())}
        for name, value in env.items():
            print(f"export {name}={value}")
        if args.check:
            return 0
        print(f"JupyterLab on {notebook_dir}; the local AWS endpoint stops when it exits (Ctrl-C).")
        cmd = lab_command(notebook_dir, port=args.port, no_browser=args.no_browser, as_root=os.geteuid() == 0)
        try:
            return subprocess.run(cmd, env={**os.environ, **env}, check=False).returncode
        except KeyboardInterrupt:
            return 0
