"""The analysis of a snapshot file as the commands that take one make it (``access``, ``findings``,
``graph``, ``fix``, ``diff``): through the graph cache (:mod:`irsa_lib.cache`) unless ``--no-cache`` or
``IRSA_CACHE=off`` (not a subcommand)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from irsa_lib.analysis import Analysis
from irsa_lib.cache import GraphCache, analyse_file
from irsa_lib.cli import keep_until_exit


def add_cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="build the graph even when the cache holds it for this snapshot, and keep nothing "
        "(the cache: IRSA_CACHE_DIR, else ~/.cache/irsa_lib; IRSA_CACHE=off turns it off)",
    )


def analysis_of(
    args: argparse.Namespace, path: str, *, rules: Iterable[str] | None = None, writes: bool = True
) -> Analysis:
    """The analysis of the snapshot file ``path``; why the cache was not read or written goes to stderr."""
    cache = None if args.no_cache else GraphCache.from_env(warn=lambda m: print(f"irsa: {m}", file=sys.stderr))
    return keep_until_exit(analyse_file(path, rules=rules, writes=writes, cache=cache))
