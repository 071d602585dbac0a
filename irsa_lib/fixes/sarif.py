"""A verified fix as a SARIF 2.1.0 ``fix`` object, for a finding located in a file.

Code scanning shows a result's ``fixes`` as a suggested change of its file. Only the changes of
objects read from a manifest file can be written so (each object's lines replaced by the patched
object, or removed); a fix is offered only when it is verified: a flagged fix is never suggested.
"""

from __future__ import annotations

from typing import Any

from irsa_lib.findings.sarif import artifact_uri
from irsa_lib.fixes.model import Fix, ObjectEdit
from irsa_lib.fixes.patches import manifest_text
from irsa_lib.fixes.verify import Proof


def sarif_fix(fix: Fix, proof: Proof | None) -> dict[str, Any] | None:
    """The fix as a SARIF ``fix`` object (its file changes), or None when it is not verified or
    changes nothing read from a file."""
    if proof is None or not proof.verified:
        return None
    by_file: dict[str, list[dict[str, Any]]] = {}
    for c in fix.changes:
        if not isinstance(c, ObjectEdit) or c.path is None or c.lines is None:
            continue
        first, last = c.lines
        text = manifest_text(c.after) if c.after is not None else ""
        by_file.setdefault(c.path, []).append(
            {"deletedRegion": {"startLine": first, "endLine": last}, "insertedContent": {"text": text.rstrip("\n")}}
        )
    if not by_file:
        return None
    return {
        "description": {"text": f"{fix.summary} (verified: the finding is gone, no intended access is cut)"},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": artifact_uri(path)},
                "replacements": sorted(reps, key=lambda r: r["deletedRegion"]["startLine"]),
            }
            for path, reps in sorted(by_file.items())
        ],
    }
