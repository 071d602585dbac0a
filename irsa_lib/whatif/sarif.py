"""A what-if as SARIF 2.1.0: introduced findings and gained access, each pointing at what causes it.

A result points at the Terraform block of the first planned change that causes it (found in
``--terraform-dir``), else at the changed manifest, else at the change's entry in the plan file,
else at the record in the snapshot file: every result has a physical location, as code scanning
requires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from irsa_lib.findings import RULES, Finding, RuleMeta, Severity
from irsa_lib.findings.sarif import finding_result, physical, rule_json, sarif_log
from irsa_lib.locate import Location, ManifestLocator, SnapshotLocator, TerraformLocator
from irsa_lib.whatif.compare import WhatIf, node_record
from irsa_lib.whatif.render import subject

WHATIF_DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html"
NEW_ACCESS = RuleMeta(
    id="W01",
    slug="change-grants-secret-read",
    severity=Severity.HIGH,
    title="The change lets a subject read a secret value it cannot read today",
    why=(
        "After the change is applied, this subject (a service account, any service account someone could create, "
        "or an RBAC subject) reaches the secret value through the chain shown; today it does not."
    ),
    remediation=(
        "Confirm the new reader is intended; otherwise narrow the trust policy, identity policy, key policy or "
        "Kubernetes object that the result points at."
    ),
    references=(WHATIF_DOCS,),
    scope="Compares the analysis of the snapshot with that of the snapshot with the change overlaid.",
)
AFTER_APPLY = RuleMeta(
    id="W02",
    slug="value-known-only-after-apply",
    severity=Severity.LOW,
    title="An input of the analysis is known only after apply",
    why=(
        "The plan does not know this value yet (or marks it sensitive), so every answer that depends on it is "
        "conditional: it may grant access the analysis cannot confirm or rule out."
    ),
    remediation="Review the value after apply (irsa access on a fresh snapshot), or make it known at plan time.",
    references=("https://developer.hashicorp.com/terraform/internals/json-format",),
    scope="Only values of resources the analysis reads are reported.",
)


class PlanLocator:
    """The line of each resource change (``"address": "..."``) in the plan file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[str, int] = {}
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        for number, line in enumerate(text.splitlines(), start=1):
            for m in re.finditer(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")', line):
                try:
                    self.lines.setdefault(json.loads(m.group(1)), number)
                except json.JSONDecodeError:
                    continue

    def find(self, address: str) -> Location | None:
        line = self.lines.get(address)
        return Location(self.path, line) if line else None


class WhatIfLocator:
    """Locations for what-if results from the Terraform tree, the manifests, the plan and the snapshot."""

    def __init__(
        self,
        snapshot_path: str,
        *,
        plan_path: str | None = None,
        terraform_dir: str | None = None,
        manifests: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.snapshot = SnapshotLocator(snapshot_path)
        self.plan = PlanLocator(plan_path) if plan_path else None
        self.terraform = TerraformLocator(terraform_dir) if terraform_dir else None
        self.manifests = {d: ManifestLocator(d, cluster=c) for d, c in manifests}

    def for_causes(self, causes: Sequence[str], records: Sequence[str]) -> Location:
        if self.terraform is not None:
            for address in causes:
                hit = self.terraform.find(address)
                if hit is not None:
                    return hit
        for source in causes:
            tree = self.manifests.get(source)
            for record in records if tree is not None else ():
                hit = tree.find(record) if tree is not None else None
                if hit is not None:
                    return hit
        if self.plan is not None:
            for address in causes:
                hit = self.plan.find(address)
                if hit is not None:
                    return hit
        for record in records:
            for tree in self.manifests.values():
                hit = tree.find(record)
                if hit is not None:
                    return hit
        return self.snapshot.find(records[0] if records else "")


def _row_records(row: Mapping[str, Any]) -> list[str]:
    out = [r for r in (node_record(str(n)) for n in row.get("nodes") or ()) if r]
    return [*out, str(row.get("secret_arn", ""))]


def _row_result(w: WhatIf, row: Mapping[str, Any], location: Location) -> dict[str, Any]:
    causes = w.causes_of_row(row)
    decision = str(row.get("decision"))
    text = f"{subject(row)} could read {row.get('secret_name')} ({row.get('access')}, {decision})"
    if row.get("unresolved_keys"):
        text += " on " + ", ".join(map(str, row["unresolved_keys"]))
    text += ": " + " -> ".join(map(str, row.get("path") or ()))
    if causes:
        text += f" (caused by {', '.join(causes)})"
    for u in row.get("unknown") or ():
        text += f"; not known: {u}"
    key = f"{row.get('cluster')}/{row.get('namespace')}/{row.get('subject_kind')}/{row.get('service_account')}"
    return {
        "ruleId": NEW_ACCESS.id,
        "ruleIndex": 0,
        "level": "error" if decision == "allow" and row.get("access") == "direct" else "warning",
        "kind": "fail",
        "message": {"text": text},
        "locations": [physical(location)],
        "partialFingerprints": {"irsaWhatIfAccess/v1": f"{key}->{row.get('secret_arn')}:{row.get('access')}"},
        "properties": {"decision": decision, "access": row.get("access"), "caused_by": list(causes)},
    }


def to_sarif(w: WhatIf, locator: WhatIfLocator) -> dict[str, Any]:
    """The SARIF log of a what-if: W01 per new access, W02 per value known only after apply, then findings."""
    metas = [NEW_ACCESS, AFTER_APPLY, *(r.meta for r in RULES.values())]
    index = {m.id: i for i, m in enumerate(metas)}
    results = [
        _row_result(w, row, locator.for_causes(w.causes_of_row(row), _row_records(row))) for row in w.new_access()
    ]
    for text in w.overlay.unknowns:
        address = w.overlay.unknown_addresses.get(text, "")
        results.append(
            {
                "ruleId": AFTER_APPLY.id,
                "ruleIndex": index[AFTER_APPLY.id],
                "level": "note",
                "kind": "review",
                "message": {"text": text},
                "locations": [physical(locator.for_causes([address] if address else [], []))],
                "partialFingerprints": {"irsaWhatIfUnknown/v1": text},
            }
        )
    for f in w.introduced:
        results.append(finding_result(f, index, _finding_location(w, f, locator), extra=_by(w, f)))
    return sarif_log([rule_json(m) for m in metas], results)


def _by(w: WhatIf, f: Finding) -> str:
    causes = w.finding_causes.get(f.key, ())
    return f" (caused by {', '.join(causes)})" if causes else ""


def _finding_location(w: WhatIf, f: Finding, locator: WhatIfLocator) -> Location:
    return locator.for_causes(w.finding_causes.get(f.key, ()), [f.resource])
