"""The CI recipes in docs/ci: the workflow files are valid for their CI system and their irsa commands parse."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from irsa_lib.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "docs" / "ci"


def _vendored_schema(name: str) -> dict[str, Any]:
    """A CI schema as check-jsonschema ships it (SchemaStore's, vendored in the package)."""
    text = (resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / name).read_text(encoding="utf-8")
    return dict(json.loads(text))


def _validate(document: Any, schema: dict[str, Any]) -> None:
    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def _irsa_commands(scripts: list[str]) -> list[list[str]]:
    """``irsa ...`` invocations in shell snippets, continuations joined, variables replaced by placeholders."""
    out = []
    for script in scripts:
        text = script.replace("\\\n", " ")
        text = re.sub(r"\$\{\{\s*([^}]*?)\s*\}\}", lambda m: "$" + m.group(1).rsplit(".", 1)[-1], text)
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith("irsa "):
                continue
            words = shlex.split(line.split(">", 1)[0])
            out.append([re.sub(r"\$\{?(\w+)\}?", _example, w) for w in words[1:]])
    return out


def _example(m: re.Match[str]) -> str:
    """An example value for a CI variable, of the kind the option expects."""
    name = m.group(1)
    if name.endswith("ROLE_ARN"):
        return "arn:aws:iam::111122223333:role/example"
    return "us-east-1" if name.endswith("REGION") else name.lower()


def _parse(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert callable(args.run)


def test_github_actions_workflow() -> None:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    workflow["on"] = workflow.pop(True)  # GitHub reads YAML 1.2, where `on` is a key, not a boolean
    _validate(workflow, _vendored_schema("github-workflows.json"))
    job = workflow["jobs"]["whatif"]
    assert job["timeout-minutes"] <= 60
    uses = [s.get("uses", "") for s in job["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    commands = _irsa_commands([s["run"] for s in job["steps"] if "run" in s])
    assert [c[0] for c in commands] == ["collect", "whatif", "whatif", "whatif"]
    for argv in commands:
        _parse(argv)
    formats = [c[c.index("--format") + 1] for c in commands if "--format" in c]
    assert formats == ["sarif", "markdown"]
    assert "--fail-on" in commands[-1]


def test_gitlab_ci_job() -> None:
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    _validate(pipeline, _vendored_schema("gitlab-ci.json"))
    commands = _irsa_commands(pipeline["irsa-whatif"]["script"])
    assert [c[0] for c in commands] == ["whatif", "whatif", "whatif"]
    for argv in commands:
        _parse(argv)
    assert "plan.json" in pipeline["terraform-plan"]["artifacts"]["paths"]


def test_pre_commit_hook() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {"id", "name", "entry", "language"} <= set(hook)
    config = yaml.safe_load((CI / "pre-commit-config.yaml").read_text())
    (used,) = config["repos"][0]["hooks"]
    assert used["id"] == hook["id"]
    _parse([*shlex.split(hook["entry"])[1:], *used["args"]])


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml", "pre-commit-config.yaml"])
def test_ci_doc_embeds_each_recipe_verbatim(name: str) -> None:
    doc = (ROOT / "docs" / "ci.md").read_text()
    assert (CI / name).read_text().strip() in doc
