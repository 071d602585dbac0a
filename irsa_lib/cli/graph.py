"""``irsa graph SNAPSHOT -o FILE.html``: the trust graph of a snapshot as one offline HTML file."""

from __future__ import annotations

import argparse

from irsa_lib.cli._cache import add_cache_option, analysis_of
from irsa_lib.render.files import write_output
from irsa_lib.render.graph_html import Focus, render_trust_graph


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Draw who can reach which secret: service accounts, roles, keys, parameters, secrets. "
        "The file opens offline; hover nodes and edges for the evidence."
    )
    p.add_argument("snapshot", help="snapshot JSON file")
    p.add_argument("-o", "--output", required=True, metavar="FILE.html", help="HTML file to write")
    focus = p.add_mutually_exclusive_group()
    focus.add_argument("--focus-namespace", metavar="NS", help="only paths through objects of this namespace")
    focus.add_argument("--focus-service-account", metavar="NS/NAME", help="only paths from or to this service account")
    focus.add_argument("--focus-secret", metavar="NAME-OR-ARN", help="only who can reach this secret")
    p.add_argument("--secrets-only", action="store_true", help="hide everything that reaches no secret")
    p.add_argument(
        "--aggregate",
        choices=("auto", "always", "never"),
        default="auto",
        help="collapse parameters by path prefix and roles without a path to a secret (auto: for large graphs)",
    )
    p.add_argument("--no-findings", action="store_true", help="do not run the findings to highlight nodes")
    p.add_argument("--title", default=None, help="page title (default: the snapshot's name and date)")
    add_cache_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    analysis = analysis_of(args, args.snapshot, rules=() if args.no_findings else None)
    snapshot = analysis.snapshot
    focus = Focus(
        namespace=args.focus_namespace,
        service_account=args.focus_service_account,
        secret=args.focus_secret,
        secrets_only=args.secrets_only,
    )
    aggregate = {"auto": None, "always": True, "never": False}[args.aggregate]
    title = args.title or f"Trust graph: {args.snapshot} ({snapshot.created_at})"
    page = render_trust_graph(
        analysis.graph, focus=focus, findings=analysis.findings, rows=analysis.rows, title=title, aggregate=aggregate
    )
    path = write_output(args.output, page)
    print(f"wrote {path} ({focus.describe()})")
    return 0
