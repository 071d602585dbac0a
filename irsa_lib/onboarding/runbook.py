"""The onboarding runbook: one sequence -- check, apply (or dry run), verify -- for the CLI and the notebook.

:class:`Runbook` keeps what the steps share (the clients, the state before applying, the report, the
outputs), so each notebook section is one call and the CLI is the same calls in a row.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from irsa_lib.errors import UsageError
from irsa_lib.onboarding.apply import ApplyReport, apply_plan, preflight, stop_after
from irsa_lib.onboarding.guard import OnboardingClients
from irsa_lib.onboarding.outputs import Outputs, write_outputs
from irsa_lib.onboarding.params import OnboardingParams
from irsa_lib.onboarding.plan import Plan, make_plan
from irsa_lib.snapshot import Snapshot, load_snapshot

Pathish = str | os.PathLike[str]


@dataclass
class Runbook:
    """Onboard one service: ``check()``, then ``apply()``, then ``verify()``."""

    params: OnboardingParams
    endpoint_url: str | None = None
    profile: str | None = None
    manifests: Sequence[Pathish] = ()
    """The cluster's current manifests (files or directories), for the verification."""
    snapshot_path: Pathish | None = None
    """A snapshot of the state before onboarding; otherwise it is collected just before applying."""
    offline: bool = False
    """Plan and write outputs only: no AWS call at all."""
    before: Snapshot | None = field(default=None, init=False)
    report: ApplyReport | None = field(default=None, init=False)
    outputs: Outputs | None = field(default=None, init=False)
    _clients: OnboardingClients | None = field(default=None, init=False, repr=False)

    @property
    def clients(self) -> OnboardingClients:
        if self._clients is None:
            self._clients = OnboardingClients(
                region=self.params.region, endpoint_url=self.endpoint_url, profile=self.profile
            )
        return self._clients

    def check(self, *, overwrite_values: bool = False) -> Plan:
        """The plan; unless offline, each step carries its status from the read-only preflight."""
        if self.offline:
            return make_plan(self.params)
        return make_plan(self.params, preflight(self.params, self.clients, overwrite_values=overwrite_values))

    def apply(
        self,
        out_dir: Pathish,
        *,
        apply: bool = False,
        overwrite_values: bool = False,
        stop_after_step: str | None = None,
        verify: bool = True,
    ) -> ApplyReport | None:
        """Dry run (default) or apply, then write the outputs to ``out_dir``. None when offline."""
        if self.offline:
            if apply:
                raise UsageError("offline and apply exclude each other: applying needs AWS")
            self.outputs = write_outputs(make_plan(self.params), out_dir)
            return None
        if apply and verify:
            self.before = self._state(before=True)
        self.report = apply_plan(
            self.params,
            self.clients,
            dry_run=not apply,
            overwrite_values=overwrite_values,
            after_step=stop_after(stop_after_step) if stop_after_step else None,
        )
        self.outputs = write_outputs(self.report.plan, out_dir)
        return self.report

    def _state(self, *, before: bool) -> Snapshot:
        from irsa_lib.onboarding.verify import collect_state

        if before and self.snapshot_path is not None:
            return load_snapshot(self.snapshot_path)
        manifests = list(self.manifests)
        if not before and self.outputs is not None:
            manifests.append(self.outputs.manifests_dir)
        return collect_state(self.params, endpoint_url=self.endpoint_url, manifests=manifests, profile=self.profile)

    def verify(self) -> Any:
        """The :class:`~irsa_lib.onboarding.verify.Proof` after an apply; None after a dry run."""
        from irsa_lib.onboarding.verify import verify

        if self.report is None or self.report.dry_run:
            return None
        return verify(self.params, self._state(before=False), before=self.before)

    # --- views --------------------------------------------------------------------------------------

    def summary(self) -> str:
        """What the apply step did and where the outputs are (plain text, never a value)."""
        lines = []
        if self.report is not None:
            lines.append(self.report.to_text().splitlines()[0])
            if self.report.dry_run:
                lines.append("Dry run: nothing was changed. Apply to make these changes.")
        elif self.outputs is not None:
            lines.append("Offline: nothing was checked or changed; outputs written only.")
        if self.outputs is not None:
            lines += ["Outputs written:", *(f"  {p}" for p in self.outputs.all())]
        return "\n".join(lines)

    def report_frame(self) -> pd.DataFrame:
        """The apply report as a table (the plan when offline)."""
        if self.report is not None:
            return self.report.to_frame()
        return make_plan(self.params).to_frame()

    def show_verification(self) -> Any:
        """Verify and display the proof's tables (in a notebook; printed otherwise); returns the proof."""
        proof = self.verify()
        if proof is None:
            print("Nothing was applied: nothing to verify yet.")
            return None
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover - notebooks have IPython
            print(proof.to_text())
            return proof
        print(f"Verification of {self.params.service}: {'PROVEN' if proof.ok else 'NOT PROVEN'}")
        display(proof.summary())
        for title, frame in proof.frames().items():
            if not frame.empty:
                print(title.replace("_", " "))
                display(frame)
        return proof


def default_out_dir(params: OnboardingParams) -> Path:
    return Path("reports") / f"onboard-{params.service}"
