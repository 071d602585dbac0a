"""``irsa onboard``: plan, write outputs, apply (only with ``--apply``), then verify a new service.

Without ``--apply`` nothing is changed: the plan is checked against the account (a read-only
preflight: ``--offline`` skips it) and the outputs are written. Values are taken from the
environment variables named with ``--value-env PARAM=VAR`` or asked for without echo; they are
never printed.
"""

from __future__ import annotations

import argparse
import os

from irsa_lib.errors import UsageError
from irsa_lib.onboarding import make_params, make_plan
from irsa_lib.onboarding.params import OnboardingParams
from irsa_lib.onboarding.runbook import Runbook, default_out_dir

DESCRIPTION = """Plan, write outputs, apply (only with --apply), then verify a new service. Without --apply nothing
is changed: the plan is checked against the account (a read-only preflight; --offline skips it) and
the outputs are written. Values are taken from the environment variables named with
--value-env PARAM=VAR or asked for without echo; they are never printed."""


def register(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--service", required=True, help="service name: role <service>-service-role, key alias/<service>")
    p.add_argument("--namespace", required=True, help="Kubernetes namespace of the service")
    p.add_argument("--cluster", required=True, help="EKS cluster name")
    p.add_argument("--parameter", action="append", default=[], metavar="/SVC/NAME", help="SSM SecureString (repeat)")
    p.add_argument("--secret", action="append", default=[], metavar="SVC/NAME", help="Secrets Manager secret (repeat)")
    p.add_argument("--controller", choices=("kes", "eso"), default="kes")
    p.add_argument("--controller-role-arn", help="the controller's role, the only principal the service role trusts")
    p.add_argument(
        "--controller-sa",
        default="external-secrets/external-secrets-sa",
        metavar="NS/NAME",
        help="controller service account (ESO: the store's service account when in the service's namespace)",
    )
    p.add_argument("--key-admin", action="append", default=[], metavar="ARN", help="key administrator (repeat)")
    p.add_argument("--no-root-key-admin", action="store_true", help="do not let the account's IAM administer the key")
    p.add_argument("--account-id", help="default: the account of --controller-role-arn")
    p.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    p.add_argument("--profile", help="AWS profile (default credential chain otherwise)")
    p.add_argument("--endpoint-url", help="a local AWS endpoint (the demo) instead of AWS")
    p.add_argument("--out", help="output directory (default reports/onboard-<service>)")
    p.add_argument("--apply", action="store_true", help="make the changes (default: dry run)")
    p.add_argument("--offline", action="store_true", help="plan and write outputs only: no AWS call at all")
    p.add_argument("--value-env", action="append", default=[], metavar="PARAM=VAR", help="take PARAM's value from $VAR")
    p.add_argument("--overwrite-values", action="store_true", help="replace values of parameters that exist")
    p.add_argument(
        "--manifests",
        action="append",
        default=[],
        metavar="PATH",
        help="the cluster's current manifests, for verification (repeat)",
    )
    p.add_argument("--no-verify", action="store_true", help="skip the verification after --apply")
    p.set_defaults(run=run)


def _value_env(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, var = pair.partition("=")
        if not sep or not name or not var:
            raise UsageError(f"--value-env {pair!r}: expected PARAM=ENVVAR (e.g. /orders/db-password=ORDERS_DB)")
        out[name] = var
    return out


def params_from_args(args: argparse.Namespace) -> OnboardingParams:
    account = args.account_id
    if account is None and args.controller_role_arn and args.controller_role_arn.count(":") >= 5:
        account = args.controller_role_arn.split(":")[4]
    if not args.region:
        raise UsageError("no region: pass --region or set AWS_REGION")
    return make_params(
        service=args.service,
        namespace=args.namespace,
        cluster=args.cluster,
        account_id=account or "",
        region=args.region,
        controller_role_arn=args.controller_role_arn,
        parameters=args.parameter,
        secrets=args.secret,
        value_env=_value_env(args.value_env),
        controller=args.controller,
        controller_service_account=args.controller_sa,
        key_admin_arns=args.key_admin,
        root_administers_key=not args.no_root_key_admin,
    )


def run(args: argparse.Namespace) -> int:
    params = params_from_args(args)
    if args.offline and args.apply:
        raise UsageError("--offline and --apply exclude each other")
    runbook = Runbook(
        params, endpoint_url=args.endpoint_url, profile=args.profile, manifests=args.manifests, offline=args.offline
    )
    verify_after = args.apply and not args.no_verify
    report = runbook.apply(
        args.out or default_out_dir(params),
        apply=args.apply,
        overwrite_values=args.overwrite_values,
        verify=verify_after,
    )
    print((report.plan if report else make_plan(params)).to_text())
    print()
    if report is not None:
        print(report.to_text())
        print()
    print(runbook.summary())
    if not verify_after:
        return 0
    proof = runbook.verify()
    print()
    print(proof.to_text())
    return 0 if proof.ok else 1
