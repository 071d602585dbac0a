"""The demo's onboarding walkthrough: a dry run of the third service, ``orders``.

``onboard_dry_run_demo`` plans ``orders`` against the demo account (KES controller role
``external-secrets-role``), runs the read-only preflight against the demo endpoint and writes the
outputs. Nothing is created and no value is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from irsa_lib.onboarding.apply import ApplyReport, apply_plan
from irsa_lib.onboarding.guard import OnboardingClients
from irsa_lib.onboarding.outputs import Outputs, write_outputs
from irsa_lib.onboarding.params import OnboardingParams, make_params

ORDERS_PARAMETERS = ("/orders/db-password", "/orders/payment-token")


@dataclass(frozen=True, kw_only=True)
class OnboardDemoResult:
    params: OnboardingParams
    report: ApplyReport
    outputs: Outputs


def orders_params(account_id: str, region: str, controller_role_arn: str, cluster: str = "demo") -> OnboardingParams:
    """The demo's third service, ``orders``, served by the KES controller like ``billing``."""
    return make_params(
        service="orders",
        namespace="orders",
        cluster=cluster,
        account_id=account_id,
        region=region,
        parameters=ORDERS_PARAMETERS,
        controller_role_arn=controller_role_arn,
        value_env={name: "ORDERS_" + name.rsplit("/", 1)[-1].upper().replace("-", "_") for name in ORDERS_PARAMETERS},
    )


def onboard_dry_run_demo(out_dir: str | os.PathLike[str], *, endpoint_url: str | None = None) -> OnboardDemoResult:
    """Dry-run the onboarding of ``orders`` on the demo endpoint; outputs under ``<out_dir>/onboard-orders``.

    With ``endpoint_url`` the running (seeded) demo endpoint is used; without it one is started and
    seeded for the call.
    """
    from irsa_lib.demo import local_aws, seed_aws
    from irsa_lib.demo.scenario import ACCOUNT_ID, CLUSTER, REGION, role_arn
    from irsa_lib.demo.server import local_aws_env, patched_env

    if endpoint_url is None:
        with local_aws(region=REGION) as aws:
            seed_aws(aws.endpoint_url)
            return onboard_dry_run_demo(out_dir, endpoint_url=aws.endpoint_url)
    params = orders_params(ACCOUNT_ID, REGION, role_arn("external-secrets-role"), cluster=CLUSTER)
    with patched_env(local_aws_env(endpoint_url, region=REGION)):
        report = apply_plan(params, OnboardingClients(region=REGION, endpoint_url=endpoint_url), dry_run=True)
    outputs = write_outputs(report.plan, Path(out_dir) / "onboard-orders")
    return OnboardDemoResult(params=params, report=report, outputs=outputs)
