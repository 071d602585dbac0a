"""``irsa``: a thin command line over the library. Each subcommand lives in its own module.

A subcommand module has ``register(subparsers)``, which adds its parser and sets ``run`` (a
function of the parsed arguments returning the exit status). Errors the library raises on bad input
(``IrsaError``) are printed as one clear line with exit status 2; nothing else is swallowed. Everything
printed goes through :mod:`irsa_lib.terminal` (control characters in the data are shown, not sent to the
terminal), and a reader that closes the pipe early (``irsa ... | head``) ends the command quietly with
status 141, as a process stopped by SIGPIPE reports.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from irsa_lib import __version__
from irsa_lib.cli import (
    access,
    collect,
    demo,
    diff,
    findings,
    graph,
    lab,
    onboard,
    report,
    simulate,
    snapshot_info,
    whatif,
)
from irsa_lib.errors import IrsaError
from irsa_lib.terminal import quiet_broken_pipe, safe_output

COMMANDS = (
    collect,
    demo,
    snapshot_info,
    access,
    findings,
    diff,
    whatif,
    simulate,
    onboard,
    graph,
    report,
    lab,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irsa",
        description="Which Kubernetes workload can read which AWS secret value, through which chain, and why.",
    )
    parser.add_argument("--version", action="version", version=f"irsa_lib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    with safe_output():
        args = build_parser().parse_args(argv)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
