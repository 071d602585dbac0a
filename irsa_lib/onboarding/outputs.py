"""Write a plan's outputs to a directory: the plan, the manifests, Terraform and policy JSON.

Layout (every file written atomically)::

    <out>/plan.txt
    <out>/kubernetes/<service>.yaml        multi-document; ``load_manifests`` reads it
    <out>/terraform/<service>.tf
    <out>/policies/{trust,key,read,controller-assume}-policy.json
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from irsa_lib.onboarding.plan import Plan
from irsa_lib.onboarding.render import manifests_yaml, policy_json, terraform
from irsa_lib.snapshot import write_atomic


@dataclass(frozen=True, kw_only=True)
class Outputs:
    """Where the outputs of one plan were written."""

    out_dir: Path
    plan: Path
    manifests_dir: Path
    manifests: Path
    terraform: Path
    policies: tuple[Path, ...]

    def all(self) -> tuple[Path, ...]:
        return (self.plan, self.manifests, self.terraform, *self.policies)


def write_outputs(plan: Plan, out_dir: str | os.PathLike[str]) -> Outputs:
    """Write every output of ``plan`` under ``out_dir`` and say where."""
    p = plan.params
    out = Path(out_dir)
    manifests_dir = out / "kubernetes"
    policies = tuple(
        write_atomic(out / "policies" / f"{stem}.json", policy_json(doc)) for stem, doc in plan.documents().items()
    )
    return Outputs(
        out_dir=out,
        plan=write_atomic(out / "plan.txt", plan.to_text() + "\n"),
        manifests_dir=manifests_dir,
        manifests=write_atomic(manifests_dir / f"{p.service}.yaml", manifests_yaml(p)),
        terraform=write_atomic(out / "terraform" / f"{p.service}.tf", terraform(p)),
        policies=policies,
    )
