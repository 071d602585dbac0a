"""``irsa snapshot-info SNAPSHOT``: what a snapshot holds and what it could not collect."""

from __future__ import annotations

import argparse
import json

from irsa_lib.snapshot import load_snapshot


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", help="snapshot JSON file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    snap = load_snapshot(args.snapshot)
    counts = {k: v for k, v in snap.counts().items() if v}
    gaps = snap.incomplete()
    if args.format == "json":
        out = {
            "created_at": snap.created_at,
            "schema_version": snap.schema_version,
            "counts": counts,
            "incomplete": [
                {
                    "source": c.source,
                    "scope": c.scope,
                    "service": c.service,
                    "status": c.status,
                    "error": c.error,
                }
                for c in gaps
            ],
        }
        print(json.dumps(out, indent=2))
        return 0
    print(f"snapshot {args.snapshot} (schema {snap.schema_version}, created {snap.created_at})")
    for name, n in counts.items():
        print(f"  {name:32} {n}")
    print(f"coverage: {len(snap.coverage)} sources, {len(gaps)} incomplete")
    for c in gaps:
        where = f" [{c.resource}]" if c.resource else ""
        print(f"  {c.status:10} {c.source}:{c.scope}:{c.service}{where}: {c.error or ''}")
    return 0
