"""Findings as SARIF 2.1.0, for code-scanning tools (GitHub code scanning, DefectDojo...).

Rules come from the metadata (``tool.driver.rules``); each finding is a result with a logical
location naming the resource (an ARN or a Kubernetes id) and, when ``locate`` finds one, a physical
location (file and line: a manifest, a Terraform block, the snapshot). Code scanning rejects a
result without a physical location, so give ``locate`` for files meant for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from irsa_lib import __version__
from irsa_lib.findings.model import Finding, RuleMeta, Severity
from irsa_lib.locate import Location

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


def rule_json(meta: RuleMeta) -> dict[str, Any]:
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


def artifact_uri(path: str | os.PathLike[str]) -> str:
    """A file as SARIF names it: relative to the working directory (the repository root in CI) when
    under it, else a ``file://`` URI."""
    p = Path(path).resolve()
    try:
        return p.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_uri()


def physical(location: Location) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(location.path)},
            "region": {"startLine": max(1, location.line)},
        }
    }


def finding_result(
    f: Finding,
    index: dict[str, int],
    location: Location | None,
    *,
    extra: str = "",
    fixes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One SARIF result for a finding (``extra``: text appended to the message; ``fixes``: SARIF ``fix``
    objects proposing a change of the file it is located in)."""
    text = f"{f.title}: {f.resource}"
    if f.evidence:
        text += " -- " + "; ".join(f.evidence)
    loc: dict[str, Any] = {
        "logicalLocations": [{"name": f.resource, "fullyQualifiedName": f.resource, "kind": _kind(f.resource)}]
    }
    if location is not None:
        loc.update(physical(location))
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": "none" if f.status == "unknown" else LEVELS[f.severity],
        "kind": "review" if f.status == "unknown" else "fail",
        "message": {"text": text + extra},
        "locations": [loc],
        "partialFingerprints": {"irsaFindingKey/v1": f"{f.rule}:{f.resource}"},
        "properties": {"severity": f.severity.value, "status": f.status, "evidence": list(f.evidence)},
    }
    if f.rule in index:
        result["ruleIndex"] = index[f.rule]
    if fixes:
        result["fixes"] = fixes
    return result


def sarif_log(rules: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run of irsa_lib."""
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
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def to_sarif(
    findings: Iterable[Finding],
    rules: Iterable[RuleMeta],
    *,
    locate: Callable[[Finding], Location | None] | None = None,
    fixes: Callable[[Finding], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule's metadata and one result per finding (with the
    SARIF ``fix`` objects ``fixes`` gives it, if any)."""
    metas = list(rules)
    index = {m.id: i for i, m in enumerate(metas)}
    results = [
        finding_result(f, index, locate(f) if locate else None, fixes=fixes(f) if fixes else None) for f in findings
    ]
    return sarif_log([rule_json(m) for m in metas], results)
