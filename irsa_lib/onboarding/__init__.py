"""Onboard a service the safe way: plan, outputs, apply (opt-in), verify.

* :mod:`~irsa_lib.onboarding.params` -- what to onboard, validated before anything happens;
* :mod:`~irsa_lib.onboarding.plan` -- the ordered steps of the reference pattern;
* :mod:`~irsa_lib.onboarding.render` / :mod:`~irsa_lib.onboarding.outputs` -- manifests, Terraform, policies;
* :mod:`~irsa_lib.onboarding.apply` -- idempotent boto3 apply (dry run by default);
* :mod:`~irsa_lib.onboarding.verify` -- collect again and prove who can read the new values.
"""

from irsa_lib.onboarding.errors import InvalidParameters, OnboardingError, PreflightError, ValueUnavailable
from irsa_lib.onboarding.outputs import Outputs, write_outputs
from irsa_lib.onboarding.params import OnboardingParams, SecretSpec, make_params
from irsa_lib.onboarding.plan import Plan, Step, make_plan
from irsa_lib.onboarding.values import SecretValue

__all__ = [
    "InvalidParameters",
    "OnboardingError",
    "OnboardingParams",
    "Outputs",
    "Plan",
    "PreflightError",
    "SecretSpec",
    "SecretValue",
    "Step",
    "ValueUnavailable",
    "make_params",
    "make_plan",
    "write_outputs",
]
