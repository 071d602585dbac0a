"""The report section "how to fix each finding": the fix of every finding, with its proof.

One row per failing finding, most severe first: the fix (what it changes), whether it is verified
(the finding is gone after it and no intended row is cut) or flagged and why, the access rows it
removes, and the ``irsa fix`` command that writes its policy documents, Terraform and patches. A
finding without a mechanical fix says why. Verifying a fix costs one analysis, so at most
``limit`` fixes are verified, none is started after ``budget_seconds``, and none at all when the
organisation has more than ``verify_rows`` access rows (one analysis of the ``small`` synthetic
organisation, 350,000 rows, takes about 20 s: verifying its 30 most severe fixes took 137 s of a
192 s report). The caption says how many of how many were verified and that ``irsa fix`` verifies
every one.
"""

from __future__ import annotations

import html
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from irsa_lib.analysis import Analysis
from irsa_lib.collector import paused
from irsa_lib.fixes import Fix, Proof, fix_and_verify
from irsa_lib.fixes.manifests import ManifestObjects
from irsa_lib.render.graph_html import json_for_script
from irsa_lib.render.report_page import placeholder

COLUMNS = ["severity", "rule", "resource", "fix", "proof", "removes", "command"]
VERIFY_ROWS = 20_000
"""Above this many access rows the report verifies no fix (each proof is one more analysis)."""


def _proof(proof: Proof | None) -> str:
    if proof is None:
        return "not verified here (irsa fix verifies it)"
    counts = (
        f"removes {len(proof.removed)} row(s), {len(proof.changed)} still readable another way, "
        f"{len(proof.kept)} intended row(s) kept"
    )
    if proof.verified:
        return f"verified: finding gone; {counts}"
    return "FLAGGED: " + "; ".join(proof.flags) + f" ({counts})"


def _removes(proof: Proof | None, shown: int = 6) -> str:
    if proof is None or not proof.removed:
        return ""
    items = [f"{r.subject} → {r.secret_name}" for r in proof.removed]
    more = f"; … {len(items) - shown} more" if len(items) > shown else ""
    return "; ".join(items[:shown]) + more


@paused
def fixes_frame(
    analysis: Analysis,
    *,
    manifest_dirs: Mapping[str, str | os.PathLike[str]] | None = None,
    limit: int = 30,
    budget_seconds: float | None = 30.0,
    verify_rows: int = VERIFY_ROWS,
) -> tuple[pd.DataFrame, int, int]:
    """The section's table, with how many fixes were verified and how many there are."""
    failing = [f for f in analysis.findings if f.status == "fail"]
    trees = [(path, cluster) for cluster, path in (manifest_dirs or {}).items()]
    if len(analysis.rows) > verify_rows:
        limit = 0
    results = fix_and_verify(
        analysis, findings=failing, manifests=ManifestObjects(trees), limit=limit, budget_seconds=budget_seconds
    )
    rows = []
    for item, proof in results:
        f = item.finding
        fixed = isinstance(item, Fix)
        command = f"irsa fix SNAPSHOT -o fixes --finding {shlex.quote(f'{f.rule}:{f.resource}')}" if fixed else ""
        rows.append(
            {
                "severity": f.severity.value,
                "rule": f.rule,
                "resource": f.resource,
                "fix": item.summary if isinstance(item, Fix) else f"no mechanical fix: {item.reason}",
                "proof": _proof(proof) if fixed else "",
                "removes": _removes(proof),
                "command": command,
            }
        )
    fixes = sum(1 for item, _ in results if isinstance(item, Fix))
    verified = sum(1 for _, proof in results if proof is not None)
    return pd.DataFrame(rows, columns=COLUMNS), verified, fixes


@dataclass(frozen=True, repr=False)
class FixesSection:
    """The section as the report shows it: its caption and a table the report's script fills from the
    rows embedded as JSON (searchable, sortable, paged like the report's other tables; every cell drawn
    as text). ``frame`` holds the same rows, for the ``fixes.csv`` / ``fixes.json`` beside the report."""

    frame: pd.DataFrame
    caption: str

    def __repr__(self) -> str:  # the notebook's plain-text copy of the output
        return self.caption

    def _repr_html_(self) -> str:
        if self.frame.empty:
            return f"<p>{html.escape(self.caption)}</p>"
        rows = [[str(v) for v in r] for r in self.frame.itertuples(index=False)]
        data = json_for_script({"columns": list(self.frame.columns), "rows": rows})
        return (
            f'<p>{html.escape(self.caption)}</p><script type="application/json" id="{DATA_ID}">{data}</script>'
            + placeholder(TABLE_ID, full="fixes.csv fixes.json")
        )


TABLE_ID = "irsa-fixes"
DATA_ID = "irsa-fixes-data"


def fixes_section(
    analysis: Analysis,
    *,
    manifest_dirs: Mapping[str, str | os.PathLike[str]] | None = None,
    limit: int = 30,
    budget_seconds: float | None = 30.0,
    verify_rows: int = VERIFY_ROWS,
) -> FixesSection:
    """The fixes of the findings: a table with its caption, or a sentence when there are none."""
    frame, verified, total = fixes_frame(
        analysis, manifest_dirs=manifest_dirs, limit=limit, budget_seconds=budget_seconds, verify_rows=verify_rows
    )
    if frame.empty:
        return FixesSection(frame, "No failing finding: nothing to fix.")
    why = (
        f" (none at this size: {len(analysis.rows):,} access rows, each proof one more analysis)"
        if len(analysis.rows) > verify_rows and total
        else ""
    )
    caption = (
        f"{total} of {len(frame)} finding(s) have a mechanical fix; {verified} of {total} verified here{why} by "
        "applying the fix to the snapshot and analysing it again. `irsa fix SNAPSHOT -o DIR` writes every fix's "
        "policy documents, Terraform and Kubernetes patches and verifies them all."
    )
    return FixesSection(frame, caption)
