"""``irsa``: a thin command line over the library. Each subcommand lives in its own module.

A subcommand module has ``register(parser)``, which adds the options of its parser and sets ``run``
(a function of the parsed arguments returning the exit status). :data:`COMMANDS` is the index: each
subcommand's module and its one-line help. Only the module of the subcommand being run is imported
(``irsa --help`` imports none), so start-up does not pay for pandas, networkx, papermill or the
onboarding stack that other subcommands need. Errors the library raises on bad input (``IrsaError``)
are printed as one clear line with exit status 2; nothing else is swallowed. Everything printed goes
through :mod:`irsa_lib.terminal` (control characters in the data are shown, not sent to the
terminal), and a reader that closes the pipe early (``irsa ... | head``) ends the command quietly with
status 141, as a process stopped by SIGPIPE reports.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn, TypeVar

from irsa_lib import __version__
from irsa_lib.errors import IrsaError
from irsa_lib.terminal import quiet_broken_pipe, safe_output

T = TypeVar("T")

COMMANDS: dict[str, tuple[str, str]] = {
    "collect": ("collect", "collect AWS accounts and Kubernetes clusters (live or manifests) into one snapshot"),
    "demo": ("demo", "run the embedded demo: seed a local AWS endpoint, collect it and the demo manifests"),
    "snapshot-info": ("snapshot_info", "summarise a snapshot: record counts and collection coverage"),
    "access": ("access", "effective access: which service account can read which secret value"),
    "findings": ("findings", "run the misconfiguration catalogue (F01..F30) over a snapshot"),
    "diff": ("diff", "what changed between two snapshots: findings and access rows added, removed, changed"),
    "whatif": ("whatif", "what a Terraform plan or changed manifests would grant, before they apply (a CI gate)"),
    "fix": ("fix", "every finding with its fix as a patch, verified by analysing the snapshot with it applied"),
    "simulate": ("simulate", "evaluate one request offline: allow, deny or conditional, and why"),
    "onboard": ("onboard", "plan, write and (with --apply) create a new service's secret delegation, then verify it"),
    "graph": ("graph", "draw the trust graph of a snapshot as a self-contained HTML file"),
    "report": ("report", "execute the access report notebook and write an offline HTML report"),
    "lab": ("lab", "open JupyterLab on a working copy of the notebooks, the demo running"),
}
"""Subcommand -> (its module in irsa_lib.cli, its one-line help)."""


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``irsa`` parser. The subcommands named in ``commands`` (every one when None) get their
    options, which imports their modules; the others are listed with their help only."""
    parser = argparse.ArgumentParser(
        prog="irsa",
        description="Which Kubernetes workload can read which AWS secret value, through which chain, and why.",
    )
    parser.add_argument("--version", action="version", version=f"irsa_lib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = set(COMMANDS) if commands is None else set(commands)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_[:1].upper() + help_[1:] + ".")
        if name in wanted:
            importlib.import_module(f"irsa_lib.cli.{module}").register(p)
    return parser


BROKEN_PIPE = 141


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named: the first argument that is not an option (irsa's own options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


QUICK_EXIT = frozenset({"access", "findings", "graph", "diff", "fix", "simulate", "snapshot-info"})
"""Commands whose process ends as soon as what they printed is flushed (:func:`entry`): at interpreter
exit Python frees an analysis's millions of objects one by one (0.3 s after ``irsa access`` at 1,600
roles of the root-trust shape), and these commands start no server, cluster or child process and
leave no file open whose clean-up at exit that would skip."""


class _UntilExit:
    """What :func:`keep_until_exit` keeps: None while it keeps nothing (the default)."""

    kept: list[Any] | None = None


def keep_until_exit(obj: T) -> T:
    """``obj``, kept until the process ends when :func:`entry` runs a :data:`QUICK_EXIT` command.

    The commands keep their analysis so: when a command returns, freeing its graph, evaluator
    answers and rows (millions of objects, one by one) is work nobody waits for, 50 ms of
    ``irsa access`` and 25 ms of ``irsa findings`` at 800 roles of the root-trust shape, and the
    process's end frees them at once. Run any other way (:func:`main` from a notebook or a test),
    nothing is kept."""
    if _UntilExit.kept is not None:
        _UntilExit.kept.append(obj)
    return obj


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command(argv)
    with safe_output():
        args = build_parser([command] if command in COMMANDS else []).parse_args(argv)
        try:
            status: int = args.run(args)
            sys.stdout.flush()
        except BrokenPipeError:
            quiet_broken_pipe()
            return BROKEN_PIPE
        except IrsaError as exc:
            print(f"irsa {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"irsa {args.command}: interrupted", file=sys.stderr)
            return 130
        return status


def entry() -> NoReturn:
    """The ``irsa`` command: :func:`main`, and the process ends (at once after a :data:`QUICK_EXIT`
    command whose output is flushed)."""
    argv = sys.argv[1:]
    quick = _command(argv) in QUICK_EXIT
    if quick:
        _UntilExit.kept = []
    status = main(argv)
    if quick:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # the reader went away, or the disk is full: the normal exit reports it
            sys.exit(status)
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()
