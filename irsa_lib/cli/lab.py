"""``irsa lab``: JupyterLab on a working copy of the notebooks, with the demo environment ready.

The shipped notebooks are copied into a working directory (``reports/lab`` or ``--dir``; a notebook
already there is kept, it holds earlier work), so JupyterLab's autosave never writes outputs into the
shipped copies. The demo's local AWS endpoint is started and seeded, the demo snapshot is written to
the same directory, and JupyterLab runs there with an environment in which the notebooks work
unchanged: ``AWS_ENDPOINT_URL`` and placeholder credentials point every boto3 call at the local
endpoint, and ``IRSA_SNAPSHOT`` names the demo snapshot, which
:func:`irsa_lib.collect.gather.gather_snapshot` uses when a notebook is given no other source. The
endpoint stops when JupyterLab exits.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from irsa_lib.collect.gather import SNAPSHOT_ENV
from irsa_lib.errors import UsageError
from irsa_lib.notebooks import working_copy


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dir",
        default=str(Path("reports") / "lab"),
        help="working directory: the notebooks are copied here (kept when already there) and the demo "
        "snapshot is written here (default: reports/lab)",
    )
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

    if not args.check and importlib.util.find_spec("jupyterlab") is None:
        raise UsageError("JupyterLab is not installed: pip install 'irsa_lib[lab]' (make lab does this)")
    notebook_dir = Path(args.dir)
    copied, kept = working_copy(notebook_dir)
    for path in copied:
        print(f"copied {path.name} to {notebook_dir}", file=sys.stderr)
    for path in kept:
        print(f"kept your working copy {path} (delete it to start again from the shipped one)", file=sys.stderr)
    with local_aws() as aws:
        result = run_demo(notebook_dir, endpoint_url=aws.endpoint_url)
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
