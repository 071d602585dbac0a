"""SARIF logs checked against the SARIF 2.1.0 JSON schema (tests/data/sarif-schema-2.1.0.json, the OASIS
SARIF TC's schema, errata01) and against what GitHub code scanning additionally requires."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate_sarif(log: dict[str, Any]) -> None:
    """Raise when ``log`` breaks the schema or a result has no file location."""
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    for run in log["runs"]:
        for result in run["results"]:
            assert result["locations"], result
            for loc in result["locations"]:
                physical = loc["physicalLocation"]
                assert physical["artifactLocation"]["uri"]
                assert physical["region"]["startLine"] >= 1
