"""``irsa fix SNAPSHOT -o DIR [--finding RULE[:RESOURCE] ...]``: every finding with its fix as a verified patch.

For each finding with a mechanical fix, writes the changed policy documents (whole and as a diff),
the Terraform change, and Kubernetes patches (JSON patch and the patched manifest when the object's
manifest is given with --manifests DIR --cluster NAME, else a merge patch), then applies the fix to
the snapshot and analyses it again: the proof says the finding is gone, which access rows the fix
removes, and that the intended chains stay. A fix that would cut an intended chain, grant a read or
leave the finding is flagged. Exit 0; 1 with --fail-on-flagged when a fix is flagged; 2 on bad input.
"""

from __future__ import annotations

import argparse
import json

from irsa_lib.cli._cache import add_cache_option, analysis_of
from irsa_lib.cli.collect import add_manifest_sources, manifest_sources


def register(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n", 1)[1] if __doc__ else None
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("snapshot", help="snapshot JSON file")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="directory for the fixes and fixes.json/.md")
    p.add_argument(
        "--finding",
        action="append",
        default=[],
        metavar="RULE[:RESOURCE]",
        help="fix only this finding (a rule id, or a rule id and the finding's resource; repeatable)",
    )
    add_manifest_sources(p, "manifests holding the Kubernetes objects to patch (repeatable)")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="what to print (files are always written)"
    )
    p.add_argument("--fail-on-flagged", action="store_true", help="exit 1 when a fix is flagged")
    add_cache_option(p)
    p.set_defaults(run=run, k8s_sources=None)


def run(args: argparse.Namespace) -> int:
    from irsa_lib.fixes import select_findings
    from irsa_lib.fixes.manifests import ManifestObjects
    from irsa_lib.fixes.output import fix_findings, format_text, result_json

    trees = manifest_sources(args)
    analysis = analysis_of(args, args.snapshot)
    chosen = select_findings(analysis.findings, args.finding)
    results = fix_findings(
        analysis, args.out, snapshot=args.snapshot, findings=chosen, manifests=ManifestObjects(trees)
    )
    if args.format == "json":
        print(json.dumps([result_json(r) for r in results], indent=2))
    else:
        print(format_text(results))
        print(f"written: {args.out}/fixes.md, fixes.json and one directory per fix")
    flagged = any(r.proof is not None and not r.proof.verified for r in results)
    return 1 if args.fail_on_flagged and flagged else 0
