"""Findings as SARIF 2.1.0, for code-scanning tools (GitHub code scanning, DefectDojo...).

Rules come from the metadata (``tool.driver.rules``); each finding is a result with a logical
location naming the resource (an ARN or a Kubernetes id), since there is no source file to point at.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from irsa_lib import __version__
from irsa_lib.findings.model import Finding, RuleMeta, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": meta.slug,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.why},
        "help": {
            "text": f"{meta.remediation}\n\nScope: {meta.scope}",
            "markdown": f"**Remediation.** {meta.remediation}\n\n**Scope.** {meta.scope}\n\n"
            + "\n".join(f"- <{r}>" for r in meta.references),
        },
        "helpUri": meta.help_uri,
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "severity": meta.severity.value,
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "tags": ["security", "irsa", meta.slug],
        },
    }


def _kind(resource: str) -> str:
    return "resource" if resource.startswith("arn:") else "object"


def to_sarif(findings: Iterable[Finding], rules: Iterable[RuleMeta]) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule's metadata and one result per finding."""
    metas = list(rules)
    index = {m.id: i for i, m in enumerate(metas)}
    results = []
    for f in findings:
        text = f"{f.title}: {f.resource}"
        if f.evidence:
            text += " -- " + "; ".join(f.evidence)
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": "none" if f.status == "unknown" else LEVELS[f.severity],
            "kind": "review" if f.status == "unknown" else "fail",
            "message": {"text": text},
            "locations": [
                {
                    "logicalLocations": [
                        {"name": f.resource, "fullyQualifiedName": f.resource, "kind": _kind(f.resource)}
                    ]
                }
            ],
            "partialFingerprints": {"irsaFindingKey/v1": f"{f.rule}:{f.resource}"},
            "properties": {"severity": f.severity.value, "status": f.status, "evidence": list(f.evidence)},
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "irsa_lib",
                        "version": __version__,
                        "informationUri": "https://github.com/irsa-lib/irsa_lib",
                        "rules": [_rule(m) for m in metas],
                    }
                },
                "results": results,
            }
        ],
    }
