"""The demo's what-if: a shipped Terraform plan reviewed against the demo snapshot.

``irsa_lib/data/demo/whatif/plan.json`` is the ``terraform show -json`` of ``main.tf`` beside it:
the payments service role's trust widened to ``system:serviceaccount:*:*``, and a new SecureString
``/reporting/api-key`` on the AWS managed ``aws/ssm`` key. The cluster's OIDC issuer id is random
on every local endpoint, so the plan names it ``OIDC_ISSUER_HOST`` and the demo fills it in.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from irsa_lib.demo.scenario import DemoFacts
from irsa_lib.snapshot import Snapshot, write_atomic
from irsa_lib.whatif.compare import WhatIf, what_if
from irsa_lib.whatif.overlay import apply_plan
from irsa_lib.whatif.plan import parse_plan
from irsa_lib.whatif.render import format_markdown, to_json
from irsa_lib.whatif.sarif import WhatIfLocator, to_sarif

ISSUER_TOKEN = "OIDC_ISSUER_HOST"


def whatif_dir() -> Path:
    """The shipped example change: ``plan.json`` and its Terraform configuration ``main.tf``."""
    return Path(str(resources.files("irsa_lib") / "data" / "demo" / "whatif"))


def demo_plan_text(facts: DemoFacts) -> str:
    """The example plan with the demo cluster's OIDC issuer filled in."""
    return (
        (whatif_dir() / "plan.json")
        .read_text(encoding="utf-8")
        .replace(ISSUER_TOKEN, facts.oidc_issuer.removeprefix("https://"))
    )


@dataclass(frozen=True)
class DemoWhatIf:
    result: WhatIf
    plan: Path
    json: Path
    markdown: Path
    sarif: Path


def run_demo_whatif(
    snapshot: Snapshot, snapshot_path: str | os.PathLike[str], facts: DemoFacts, out_dir: str | os.PathLike[str]
) -> DemoWhatIf:
    """Review the example plan against the demo snapshot; writes the plan and the answer (JSON, Markdown, SARIF)."""
    out = Path(out_dir)
    plan_path = write_atomic(out / "whatif-plan.json", demo_plan_text(facts))
    plan = parse_plan(json.loads(plan_path.read_text(encoding="utf-8")), source=str(plan_path))
    result = what_if(snapshot, apply_plan(snapshot, plan))
    sources = [str(plan_path)]
    locator = WhatIfLocator(str(snapshot_path), plan_path=str(plan_path), terraform_dir=str(whatif_dir()))
    return DemoWhatIf(
        result=result,
        plan=plan_path,
        json=write_atomic(out / "whatif.json", json.dumps(to_json(result, sources=sources), indent=2) + "\n"),
        markdown=write_atomic(out / "whatif.md", format_markdown(result, sources=sources)),
        sarif=write_atomic(out / "whatif.sarif", json.dumps(to_sarif(result, locator), indent=2) + "\n"),
    )
