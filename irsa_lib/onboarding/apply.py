"""Apply a plan through boto3: preflight (reads only), then ordered, idempotent steps.

``preflight`` reads everything the plan touches and decides each step's status (``create`` /
``update`` / ``unchanged``), and collects every reason to stop -- an existing parameter encrypted
with another key, a role name taken with a different trust, a missing controller role... -- into one
:class:`PreflightError` raised before ANY change. ``apply_plan`` is a dry run unless asked; applying
asks for the values it needs (and only those) before the first write, then runs the steps in
order. Every step re-reads nothing it does not need and converges: a run interrupted after any
step completes when run again, and a complete run run again reports ``unchanged`` everywhere.

A key is tagged ``irsa:onboarding-service=<service>`` when created, so a run interrupted between
``CreateKey`` and ``CreateAlias`` finds its key again instead of creating a second one.

Values are revealed only inside the argument list of ``PutParameter`` / ``CreateSecret`` /
``PutSecretValue``; while those calls run, every log record created in the process is scrubbed of
them, and an AWS error is re-raised with them redacted and without its chained original.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from irsa_lib.onboarding import policies
from irsa_lib.onboarding.errors import OnboardingError, PreflightError
from irsa_lib.onboarding.guard import OnboardingClients
from irsa_lib.onboarding.params import OnboardingParams, SecretSpec
from irsa_lib.onboarding.plan import Plan, Step, format_table, make_plan
from irsa_lib.onboarding.state import Observed, Status
from irsa_lib.onboarding.values import REDACTED, Prompt, SecretValue, obtain_values

log = logging.getLogger(__name__)

KEY_TAG = "irsa:onboarding-service"
AfterStep = Callable[["StepResult"], None]


class ApplyError(OnboardingError):
    """An AWS call failed while applying; the state reached is consistent and re-running resumes."""


class Interrupted(OnboardingError):
    """Raised by :func:`stop_after`: a rehearsed interruption (recovery drills, tests)."""


def stop_after(step_id: str) -> AfterStep:
    """An ``after_step`` hook that stops the run right after ``step_id``, as a crash would.

    For rehearsing recovery: run with it, then run again without it and watch it complete.
    """

    def hook(result: StepResult) -> None:
        if result.step == step_id:
            raise Interrupted(f"stopped after step {step_id} as asked (stop_after); run again to complete")

    return hook


@dataclass(frozen=True, kw_only=True)
class StepResult:
    step: str
    status: Status
    applied: bool
    """True when the change was made (False in a dry run, or nothing to do)."""
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class ApplyReport:
    """What a run did (or, in a dry run, would do), step by step. Never holds a value."""

    dry_run: bool
    plan: Plan
    results: tuple[StepResult, ...]
    key_arn: str | None = None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def status(self, step_id: str) -> Status:
        return next(r.status for r in self.results if r.step == step_id)

    def to_frame(self) -> pd.DataFrame:
        rows = [(r.step, r.status, "yes" if r.applied else "no", r.detail) for r in self.results]
        return pd.DataFrame(rows, columns=["step", "status", "applied", "detail"])

    def to_text(self) -> str:
        mode = "dry run (nothing changed)" if self.dry_run else "applied"
        summary = ", ".join(f"{n} {s}" for s, n in sorted(self.counts().items()))
        return f"Onboarding {mode}: {summary}\n" + format_table(self.to_frame())


# --- small readers ----------------------------------------------------------------------------------


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _get_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(iam.get_role(RoleName=name)["Role"])
    except ClientError as exc:
        if _code(exc) == "NoSuchEntity":
            return None
        raise


def _role_policy(iam: Any, role: str, name: str) -> Any | None:
    try:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    except ClientError as exc:
        if _code(exc) == "NoSuchEntity":
            return None
        raise
    return json.loads(doc) if isinstance(doc, str) else doc


def _alias_target(kms: Any, alias: str) -> str | None:
    for page in kms.get_paginator("list_aliases").paginate():
        for entry in page["Aliases"]:
            if entry["AliasName"] == alias:
                return str(entry["TargetKeyId"]) if entry.get("TargetKeyId") else None
    return None


def _key_tags(kms: Any, key_id: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in kms.get_paginator("list_resource_tags").paginate(KeyId=key_id):
        tags.update({t["TagKey"]: t["TagValue"] for t in page.get("Tags", [])})
    return tags


def _orphan_keys(kms: Any, service: str) -> list[dict[str, Any]]:
    """Keys tagged for ``service`` (a run interrupted before CreateAlias), oldest first."""
    found = []
    for page in kms.get_paginator("list_keys").paginate():
        for entry in page["Keys"]:
            meta = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") in (
                "PendingDeletion",
                "PendingReplicaDeletion",
            ):
                continue
            if _key_tags(kms, entry["KeyId"]).get(KEY_TAG) == service:
                found.append(meta)
    return sorted(found, key=lambda m: str(m.get("CreationDate", "")))


def _key_id_of(kms: Any, given: str) -> str | None:
    """Resolve a key reference as SSM / Secrets Manager return it (id, ARN or alias) to a key id."""
    try:
        return str(kms.describe_key(KeyId=given)["KeyMetadata"]["KeyId"])
    except ClientError as exc:
        if _code(exc) in ("NotFoundException", "AccessDeniedException", "InvalidArnException"):
            return None
        raise


def _describe_parameter(ssm: Any, name: str) -> dict[str, Any] | None:
    """Metadata of one parameter by exact name (DescribeParameters: never its value)."""
    flt = [{"Key": "Name", "Option": "Equals", "Values": [name]}]
    for page in ssm.get_paginator("describe_parameters").paginate(ParameterFilters=flt):
        for entry in page["Parameters"]:
            if entry["Name"] == name:
                return dict(entry)
    return None


def _describe_secret(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        found = dict(sm.describe_secret(SecretId=name))
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise
    return found if found.get("Name") == name else None


def _same(a: Any, b: Any) -> bool:
    return bool(policies.canonical(a) == policies.canonical(b))


# --- preflight --------------------------------------------------------------------------------------


@dataclass
class _Findings:
    statuses: dict[str, Status] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def set(self, step: str, status: Status, reason: str = "") -> None:
        self.statuses[step] = status
        self.reasons[step] = reason


def preflight(params: OnboardingParams, clients: OnboardingClients, *, overwrite_values: bool = False) -> Observed:
    """Read the current state and decide every step; raise :class:`PreflightError` if any must stop.

    Only reads (the allow-listed Get/Describe/List operations): nothing is changed, whatever happens.
    """
    p = params
    f = _Findings()
    try:
        caller = clients.client("sts").get_caller_identity()
        if str(caller["Account"]) != p.account_id:
            raise PreflightError(
                [f"the AWS credentials are for account {caller['Account']}, but account_id is {p.account_id}"]
            )
        iam, kms = clients.client("iam"), clients.client("kms")
        _check_controller(p, iam, f)
        for arn in p.key_admin_arns:
            if ":role/" in arn and arn.split(":")[4] == p.account_id and _get_role(iam, arn.rsplit("/", 1)[-1]) is None:
                f.problems.append(f"key administrator {arn} does not exist (KMS rejects a key policy naming it)")
        role = _check_service_role(p, iam, f)
        key_arn = _check_key(p, kms, f)
        _check_read_policy(p, iam, f, role, key_arn)
        key_id = key_arn.rsplit("/", 1)[-1] if key_arn else None
        for spec in p.parameters:
            _check_parameter(p, clients.client("ssm"), kms, f, spec, key_id, overwrite_values)
        for spec in p.sm_secrets:
            _check_secret(p, clients.client("secretsmanager"), kms, f, spec, key_id, overwrite_values)
    except ClientError as exc:
        raise PreflightError([f"cannot read the current state: {exc}"]) from None
    except BotoCoreError as exc:
        raise PreflightError([f"cannot reach AWS: {exc}"]) from None
    if f.problems:
        raise PreflightError(f.problems)
    return Observed(
        statuses=dict(f.statuses),
        reasons=dict(f.reasons),
        key_arn=key_arn,
    )


def _check_controller(p: OnboardingParams, iam: Any, f: _Findings) -> None:
    if p.controller_account_id != p.account_id:
        f.set(
            "controller-policy",
            "skip",
            f"the controller role is in account {p.controller_account_id}: add the written policy there",
        )
        return
    found = _get_role(iam, p.controller_role_name)
    if found is None:
        f.problems.append(f"controller role {p.controller_role_arn} does not exist (the trust policy must name it)")
        return
    if found["Arn"] != p.controller_role_arn:
        f.problems.append(f"controller role {p.controller_role_name} is {found['Arn']}, not {p.controller_role_arn}")
        return
    if p.eso_uses_jwt and p.controller_subject not in json.dumps(found.get("AssumeRolePolicyDocument")):
        f.problems.append(
            f"the SecretStores authenticate as {p.controller_service_account}, but the trust policy of "
            f"{p.controller_role_arn} does not name {p.controller_subject}: add it there first"
        )
    current = _role_policy(iam, p.controller_role_name, p.controller_policy_name)
    wanted = policies.controller_assume_policy(p)
    if current is None:
        f.set("controller-policy", "create")
    elif _same(current, wanted):
        f.set("controller-policy", "unchanged")
    else:
        f.set("controller-policy", "update", f"inline policy {p.controller_policy_name} differs")


def _check_service_role(p: OnboardingParams, iam: Any, f: _Findings) -> dict[str, Any] | None:
    role = _get_role(iam, p.service_role_name)
    if role is None:
        f.set("service-role", "create")
    elif role["Arn"] != p.service_role_arn:
        f.problems.append(f"role name {p.service_role_name} is taken by {role['Arn']} (another path)")
    elif not _same(role.get("AssumeRolePolicyDocument"), policies.trust_policy(p)):
        trusted = json.dumps(role.get("AssumeRolePolicyDocument"), sort_keys=True)
        f.problems.append(
            f"role {p.service_role_name} already exists with a different trust policy ({trusted}); "
            "it belongs to something else: pick another service name or fix that role first"
        )
    else:
        f.set("service-role", "unchanged", "exists with the intended trust")
    return role


def _check_key(p: OnboardingParams, kms: Any, f: _Findings) -> str | None:
    target = _alias_target(kms, p.key_alias)
    meta: dict[str, Any] | None = None
    if target is not None:
        meta = kms.describe_key(KeyId=target)["KeyMetadata"]
        tags = _key_tags(kms, target)
        if meta.get("KeyManager") != "CUSTOMER" or tags.get(KEY_TAG) != p.service:
            f.problems.append(
                f"{p.key_alias} already points at key {meta['Arn']}, which onboarding did not create for "
                f"{p.service} (no {KEY_TAG}={p.service} tag): refusing to take over its key policy"
            )
            return None
        f.set("kms-alias", "unchanged")
    else:
        orphans = _orphan_keys(kms, p.service)
        if orphans:
            meta = orphans[0]
            f.set("kms-alias", "create", f"found key {meta['KeyId']} of an interrupted run")
        else:
            f.set("kms-alias", "create")
    if meta is None:
        f.set("kms-key", "create")
        f.set("kms-rotation", "create")
        return None
    if meta.get("KeyState") != "Enabled":
        f.problems.append(f"key {meta['Arn']} of {p.service} is {meta.get('KeyState')}, not Enabled")
    current = json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
    if _same(current, policies.key_policy(p)):
        f.set("kms-key", "unchanged", "exists with the intended key policy")
    else:
        f.set("kms-key", "update", "key policy differs")
    rotation = kms.get_key_rotation_status(KeyId=meta["KeyId"]).get("KeyRotationEnabled")
    f.set("kms-rotation", "unchanged" if rotation else "update")
    return str(meta["Arn"])


def _check_read_policy(
    p: OnboardingParams, iam: Any, f: _Findings, role: Mapping[str, Any] | None, key_arn: str | None
) -> None:
    current = _role_policy(iam, p.service_role_name, p.read_policy_name) if role else None
    if current is None:
        f.set("service-role-policy", "create")
    elif key_arn and _same(current, policies.read_policy(p, key_arn)):
        f.set("service-role-policy", "unchanged")
    else:
        f.set("service-role-policy", "update", "inline policy differs")


def _owned(kms: Any, given: str | None, key_id: str | None, alias: str) -> bool:
    if given is None or key_id is None:
        return False
    if given in (alias, key_id) or given.endswith(f":key/{key_id}"):
        return True
    return _key_id_of(kms, given) == key_id


def _check_parameter(
    p: OnboardingParams, ssm: Any, kms: Any, f: _Findings, spec: SecretSpec, key_id: str | None, overwrite: bool
) -> None:
    step = f"parameter:{spec.name}"
    found = _describe_parameter(ssm, spec.name)
    if found is None:
        f.set(step, "create")
        return
    if found.get("Type") != "SecureString":
        f.problems.append(f"parameter {spec.name} already exists as a {found.get('Type')}, not a SecureString")
    elif not _owned(kms, found.get("KeyId"), key_id, p.key_alias):
        f.problems.append(
            f"parameter {spec.name} already exists, encrypted with key {found.get('KeyId') or 'alias/aws/ssm'}, "
            f"not with {p.key_alias}: it belongs to something else (refusing to re-encrypt or overwrite it)"
        )
    elif overwrite:
        f.set(step, "update", "exists; value will be overwritten (overwrite_values)")
    else:
        f.set(step, "unchanged", "exists with the service key; value kept")


def _check_secret(
    p: OnboardingParams, sm: Any, kms: Any, f: _Findings, spec: SecretSpec, key_id: str | None, overwrite: bool
) -> None:
    step = f"secret:{spec.name}"
    found = _describe_secret(sm, spec.name)
    if found is None:
        f.set(step, "create")
        return
    if found.get("DeletedDate"):
        f.problems.append(f"secret {spec.name} is scheduled for deletion: restore or purge it first")
    elif not _owned(kms, found.get("KmsKeyId"), key_id, p.key_alias):
        f.problems.append(
            f"secret {spec.name} already exists, encrypted with key {found.get('KmsKeyId') or 'aws/secretsmanager'}, "
            f"not with {p.key_alias}: it belongs to something else"
        )
    elif overwrite:
        f.set(step, "update", "exists; value will be overwritten (overwrite_values)")
    else:
        f.set(step, "unchanged", "exists with the service key; value kept")


# --- apply ------------------------------------------------------------------------------------------


def apply_plan(
    params: OnboardingParams,
    clients: OnboardingClients,
    *,
    dry_run: bool = True,
    overwrite_values: bool = False,
    environ: Mapping[str, str] | None = None,
    prompt: Prompt | None = None,
    after_step: AfterStep | None = None,
) -> ApplyReport:
    """Preflight, then (unless ``dry_run``) apply the AWS steps in order. See the module docstring.

    ``after_step`` is called after each applied step with its result (progress display; tests
    inject faults with it). Kubernetes objects are not applied here: write them with
    :func:`~irsa_lib.onboarding.outputs.write_outputs` and apply them with your usual tooling.
    """
    observed = preflight(params, clients, overwrite_values=overwrite_values)
    plan = make_plan(params, observed)
    if dry_run:
        results = tuple(
            StepResult(step=s.id, status=s.status, applied=False, detail=s.reason)  # type: ignore[arg-type]
            for s in plan.aws_steps
        )
        return ApplyReport(dry_run=True, plan=plan, results=results, key_arn=observed.key_arn)
    needed = [s.secret for s in plan.aws_steps if s.secret is not None and s.status in ("create", "update")]
    values = obtain_values(needed, environ=environ, prompt=prompt)  # all of them before the first write
    runner = _Runner(params, clients, observed, values)
    results_list: list[StepResult] = []
    for step in plan.aws_steps:
        result = runner.run(step)
        log.info("onboarding %s: %s%s", step.id, result.status, " (applied)" if result.applied else "")
        results_list.append(result)
        if after_step is not None:
            after_step(result)
    return ApplyReport(dry_run=False, plan=plan, results=tuple(results_list), key_arn=runner.key_arn)


@contextmanager
def scrubbed_logs(values: Mapping[str, SecretValue]) -> Iterator[None]:
    """While active, every log record created in this process has the values replaced by ``<redacted>``."""
    secrets = sorted({form for v in values.values() if v for form in _wire_forms(v.reveal())}, key=len, reverse=True)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: drop its arguments rather than risk them
            text = str(record.msg)
        if any(s in text for s in secrets):
            for s in secrets:
                text = text.replace(s, REDACTED)
            record.msg, record.args = text, None
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)


def _wire_forms(value: str) -> set[str]:
    """The value as it may appear in a logged request: raw, JSON-escaped, URL-encoded."""
    return {value, json.dumps(value)[1:-1], urllib.parse.quote_plus(value), urllib.parse.quote(value, safe="")}


class _Runner:
    """Executes steps in order, carrying the key ARN from the key step to the ones that name it."""

    def __init__(
        self,
        params: OnboardingParams,
        clients: OnboardingClients,
        observed: Observed,
        values: Mapping[str, SecretValue],
    ) -> None:
        self.p, self.clients, self.observed, self.values = params, clients, observed, values
        self.key_arn = observed.key_arn

    def run(self, step: Step) -> StepResult:
        status: Status = step.status  # type: ignore[assignment]
        if status in ("unchanged", "skip"):
            return StepResult(step=step.id, status=status, applied=False, detail=step.reason)
        try:
            detail = self._do(step, status)
        except ClientError as exc:
            raise ApplyError(f"step {step.id} ({status}) failed: {self._redact(str(exc))}") from None
        except BotoCoreError as exc:
            raise ApplyError(f"step {step.id} ({status}) failed: {self._redact(str(exc))}") from None
        return StepResult(step=step.id, status=status, applied=True, detail=detail or step.reason)

    def _redact(self, text: str) -> str:
        forms = {form for v in self.values.values() if v for form in _wire_forms(v.reveal())}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, REDACTED)
        return text

    def _do(self, step: Step, status: Status) -> str:
        p = self.p
        iam, kms = self.clients.client("iam"), self.clients.client("kms")
        if step.id == "service-role":
            iam.create_role(
                RoleName=p.service_role_name,
                AssumeRolePolicyDocument=json.dumps(policies.trust_policy(p)),
                Description=f"{p.service}: reads /{p.service}/* on behalf of the secrets controller",
                Tags=[{"Key": KEY_TAG, "Value": p.service}],
            )
            return "created with the controller-only trust"
        if step.id == "kms-key":
            doc = json.dumps(policies.key_policy(p))
            if status == "create":
                meta = kms.create_key(
                    Policy=doc,
                    Description=f"secrets of service {p.service}",
                    KeyUsage="ENCRYPT_DECRYPT",
                    KeySpec="SYMMETRIC_DEFAULT",
                    Tags=[{"TagKey": KEY_TAG, "TagValue": p.service}],
                    BypassPolicyLockoutSafetyCheck=False,
                )["KeyMetadata"]
                self.key_arn = str(meta["Arn"])
                return f"created {meta['KeyId']}"
            kms.put_key_policy(
                KeyId=self._key_id, PolicyName="default", Policy=doc, BypassPolicyLockoutSafetyCheck=False
            )
            return "key policy replaced with the intended one"
        if step.id == "kms-alias":
            kms.create_alias(AliasName=p.key_alias, TargetKeyId=self._key_id)
            return f"{p.key_alias} -> {self._key_id}"
        if step.id == "kms-rotation":
            kms.enable_key_rotation(KeyId=self._key_id)
            return "rotation enabled"
        if step.id == "service-role-policy":
            iam.put_role_policy(
                RoleName=p.service_role_name,
                PolicyName=p.read_policy_name,
                PolicyDocument=json.dumps(policies.read_policy(p, self._key_arn)),
            )
            return f"{p.read_policy_name} written"
        if step.id == "controller-policy":
            iam.put_role_policy(
                RoleName=p.controller_role_name,
                PolicyName=p.controller_policy_name,
                PolicyDocument=json.dumps(policies.controller_assume_policy(p)),
            )
            return f"{p.controller_policy_name} written on {p.controller_role_name}"
        if step.secret is not None and step.secret.kind == "ssm":
            return self._put_parameter(step.secret, overwrite=status == "update")
        if step.secret is not None:
            return self._put_secret(step.secret, overwrite=status == "update")
        raise OnboardingError(f"unknown onboarding step {step.id!r}")  # pragma: no cover - plan and runner agree

    @property
    def _key_arn(self) -> str:
        if not self.key_arn:
            raise OnboardingError("the service key is not known yet: the kms-key step has not run")
        return self.key_arn

    @property
    def _key_id(self) -> str:
        return self._key_arn.rsplit("/", 1)[-1]

    def _put_parameter(self, spec: SecretSpec, *, overwrite: bool) -> str:
        ssm = self.clients.client("ssm")
        args: dict[str, Any] = {
            "Name": spec.name,
            "Type": "SecureString",
            "KeyId": self._key_arn,
            "Description": f"secret of service {self.p.service}",
            "Overwrite": overwrite,
        }
        if not overwrite:
            args["Tags"] = [{"Key": KEY_TAG, "Value": self.p.service}]
        with scrubbed_logs(self.values):
            try:
                ssm.put_parameter(Value=self.values[spec.name].reveal(), **args)
            except ClientError as exc:
                if _code(exc) != "ParameterAlreadyExists":
                    raise
                return "appeared meanwhile; value kept"
        return "value overwritten" if overwrite else "created with the service key"

    def _put_secret(self, spec: SecretSpec, *, overwrite: bool) -> str:
        sm = self.clients.client("secretsmanager")
        with scrubbed_logs(self.values):
            if overwrite:
                sm.put_secret_value(SecretId=spec.name, SecretString=self.values[spec.name].reveal())
                return "new value stored"
            try:
                sm.create_secret(
                    Name=spec.name,
                    KmsKeyId=self._key_arn,
                    Description=f"secret of service {self.p.service}",
                    SecretString=self.values[spec.name].reveal(),
                    Tags=[{"Key": KEY_TAG, "Value": self.p.service}],
                )
            except ClientError as exc:
                if _code(exc) != "ResourceExistsException":
                    raise
                return "appeared meanwhile; value kept"
        return "created with the service key"
