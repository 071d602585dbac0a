"""What to onboard: the service, its namespace, its secret names and the controller that delivers them.

:class:`OnboardingParams` validates everything on construction, before anything is read or
changed, and raises :class:`~irsa_lib.onboarding.errors.InvalidParameters` listing every problem
(not only the first) with the field it is in. Values are never part of the parameters: only the
name of the environment variable that holds each one (or nothing, to be asked at run time).

>>> p = make_params(service="orders", namespace="orders", cluster="demo", account_id="123456789012",
...                 region="us-east-1", parameters=["/orders/db-password"],
...                 controller_role_arn="arn:aws:iam::123456789012:role/external-secrets-role")
>>> p.service_role_arn, p.key_alias
('arn:aws:iam::123456789012:role/orders-service-role', 'alias/orders')
>>> make_params(service="Orders", namespace="orders", cluster="demo", account_id="123456789012",
...             region="us-east-1", parameters=["/billing/x"], controller_role_arn="arn:aws:iam::1:role/x")
Traceback (most recent call last):
...
irsa_lib.onboarding.errors.InvalidParameters: invalid onboarding parameters:
  - service 'Orders' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)
  - controller_role_arn 'arn:aws:iam::1:role/x' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/[path/]name)
  - parameter '/billing/x' is not under '/Orders/' (a service reads only its own path)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from irsa_lib.onboarding.errors import InvalidParameters

SecretKind = Literal["ssm", "secretsmanager"]
Controller = Literal["kes", "eso"]
CONTROLLERS: tuple[Controller, ...] = ("kes", "eso")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_CLUSTER = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_PARTITIONS = "aws|aws-cn|aws-us-gov"
_ROLE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITIONS}):iam::(?P<account>\d{{12}}):role/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]{{1,64}})$"
)
_PRINCIPAL_ARN = re.compile(
    rf"^arn:(?:{_PARTITIONS}):iam::\d{{12}}:(?:root|(?:role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}})$"
)
_SSM_NAME = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_SM_NAME = re.compile(r"^[a-zA-Z0-9/_+=.@-]+$")
_SM_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
SSM_MAX_NAME = 1011
SSM_MAX_LEVELS = 15
SM_MAX_NAME = 512
ROLE_NAME_MAX = 64
SERVICE_ROLE_SUFFIX = "-service-role"


@dataclass(frozen=True)
class SecretSpec:
    """One secret of the service: an SSM SecureString parameter or a Secrets Manager secret."""

    name: str
    kind: SecretKind = "ssm"
    value_env: str | None = None
    """Environment variable holding the value at apply time; None = ask (getpass) when needed."""

    @property
    def leaf(self) -> str:
        """The last path component: the key of the value in the Kubernetes Secret."""
        return self.name.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, kw_only=True)
class OnboardingParams:
    """Everything the plan needs; validated on construction (see the module docstring)."""

    service: str
    namespace: str
    cluster: str
    account_id: str
    region: str
    secrets: tuple[SecretSpec, ...]
    controller_role_arn: str
    controller: Controller = "kes"
    controller_service_account: str = "external-secrets/external-secrets-sa"
    """``namespace/name`` of the controller's service account (KES) or, for ESO, of the service
    account the SecretStore authenticates as (``auth.jwt`` when it is in the service's namespace,
    otherwise the ESO controller's own identity is used)."""
    key_admin_arns: tuple[str, ...] = ()
    root_administers_key: bool = True
    """Let the account (through IAM policies) administer the key -- never use it to decrypt."""
    eso_session_tags: bool = False
    """ESO only: ``sessionTagsPolicy: Simple`` on the store, ``sts:TagSession`` in the trust."""
    workload_name: str | None = None

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise InvalidParameters(problems)

    # --- derived names ---------------------------------------------------------------------------

    @property
    def partition(self) -> str:
        match = _ROLE_ARN.match(self.controller_role_arn)
        return match.group("partition") if match else "aws"

    @property
    def service_role_name(self) -> str:
        return f"{self.service}{SERVICE_ROLE_SUFFIX}"

    @property
    def service_role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.service_role_name}"

    @property
    def key_alias(self) -> str:
        return f"alias/{self.service}"

    @property
    def read_policy_name(self) -> str:
        """Inline policy of the service role."""
        return f"read-{self.service}-secrets"

    @property
    def controller_policy_name(self) -> str:
        """Inline policy added to the controller role, one per onboarded service."""
        return f"assume-{self.service}-service-role"

    @property
    def controller_role_name(self) -> str:
        return self.controller_role_arn.rsplit("/", 1)[-1]

    @property
    def controller_account_id(self) -> str:
        return self.controller_role_arn.split(":")[4]

    @property
    def controller_sa_namespace(self) -> str:
        return self.controller_service_account.split("/", 1)[0]

    @property
    def controller_sa_name(self) -> str:
        return self.controller_service_account.split("/", 1)[-1]

    @property
    def eso_uses_jwt(self) -> bool:
        """ESO stores authenticate as ``controller_service_account`` when it is in the service's namespace."""
        return self.controller == "eso" and self.controller_sa_namespace == self.namespace

    @property
    def controller_subject(self) -> str:
        return f"system:serviceaccount:{self.controller_sa_namespace}:{self.controller_sa_name}"

    @property
    def workload(self) -> str:
        return self.workload_name or self.service

    @property
    def parameter_path(self) -> str:
        return f"/{self.service}/"

    @property
    def parameters(self) -> tuple[SecretSpec, ...]:
        return tuple(s for s in self.secrets if s.kind == "ssm")

    @property
    def sm_secrets(self) -> tuple[SecretSpec, ...]:
        return tuple(s for s in self.secrets if s.kind == "secretsmanager")

    def parameter_arn(self, name: str) -> str:
        return f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:parameter/{name.lstrip('/')}"

    def secret_arn_pattern(self, name: str) -> str:
        """The ARN of a Secrets Manager secret with its exactly-six random characters (``-??????``)."""
        return f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret:{name}-??????"

    def via_services(self) -> tuple[str, ...]:
        """``kms:ViaService`` values: SSM always, Secrets Manager when the service has secrets there."""
        out = [f"ssm.{self.region}.amazonaws.com"]
        if self.sm_secrets:
            out.append(f"secretsmanager.{self.region}.amazonaws.com")
        return tuple(out)


def make_params(
    *,
    service: str,
    namespace: str,
    cluster: str,
    account_id: str,
    region: str,
    controller_role_arn: str | None,
    parameters: Iterable[str] = (),
    secrets: Iterable[str] = (),
    value_env: Mapping[str, str] | None = None,
    controller: str = "kes",
    controller_service_account: str = "external-secrets/external-secrets-sa",
    key_admin_arns: Sequence[str] = (),
    root_administers_key: bool = True,
    eso_session_tags: bool = False,
    workload_name: str | None = None,
) -> OnboardingParams:
    """Build validated parameters from plain names (what the CLI and the notebook have).

    ``value_env`` maps a parameter or secret name to the environment variable holding its value.
    """
    env = dict(value_env or {})
    specs = [SecretSpec(n, "ssm", env.get(n)) for n in parameters]
    specs += [SecretSpec(n, "secretsmanager", env.get(n)) for n in secrets]
    unknown = sorted(set(env) - {s.name for s in specs})
    extra = [f"value_env names {n!r}, which is not one of the parameters or secrets" for n in unknown]
    try:
        params = OnboardingParams(
            service=service,
            namespace=namespace,
            cluster=cluster,
            account_id=account_id,
            region=region,
            secrets=tuple(specs),
            controller_role_arn=controller_role_arn or "",
            controller=controller,  # type: ignore[arg-type]  # validated in __post_init__
            controller_service_account=controller_service_account,
            key_admin_arns=tuple(key_admin_arns),
            root_administers_key=root_administers_key,
            eso_session_tags=eso_session_tags,
            workload_name=workload_name,
        )
    except InvalidParameters as exc:
        raise InvalidParameters([*exc.problems, *extra]) from None
    if extra:
        raise InvalidParameters(extra)
    return params


# --- validation -------------------------------------------------------------------------------------


def _problems(p: OnboardingParams) -> Iterable[str]:
    label_rule = "(lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)"
    if not _DNS_LABEL.match(p.service):
        yield f"service {p.service!r} is not a DNS-1123 label {label_rule}"
    elif len(p.service) + len(SERVICE_ROLE_SUFFIX) > ROLE_NAME_MAX:
        yield f"service {p.service!r} is too long: the role name {p.service_role_name!r} exceeds {ROLE_NAME_MAX} characters"
    elif p.service.startswith(("aws", "ssm")):
        yield f"service {p.service!r} starts with 'aws' or 'ssm': SSM reserves parameter names beginning with them"
    if not _DNS_LABEL.match(p.namespace):
        yield f"namespace {p.namespace!r} is not a DNS-1123 label {label_rule}"
    elif p.namespace.startswith("kube-") or p.namespace == "default":
        yield f"namespace {p.namespace!r} is reserved for Kubernetes itself: give the service its own namespace"
    if not _CLUSTER.match(p.cluster):
        yield f"cluster {p.cluster!r} is not an EKS cluster name (letters, digits, '-', '_'; starting alphanumeric)"
    if not _ACCOUNT.match(p.account_id):
        yield f"account_id {p.account_id!r} is not a 12-digit AWS account id"
    if not _REGION.match(p.region):
        yield f"region {p.region!r} is not an AWS region name (e.g. us-east-1)"
    if p.controller not in CONTROLLERS:
        yield f"controller {p.controller!r} is not one of {', '.join(CONTROLLERS)}"
    if not _ROLE_ARN.match(p.controller_role_arn):
        shown = p.controller_role_arn or "(not given)"
        yield f"controller_role_arn {shown!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/[path/]name)"
    ns, _, name = p.controller_service_account.partition("/")
    if not (_DNS_LABEL.match(ns) and _DNS_SUBDOMAIN.match(name)):
        yield f"controller_service_account {p.controller_service_account!r} is not 'namespace/name' of a service account"
    for arn in p.key_admin_arns:
        if not _PRINCIPAL_ARN.match(arn):
            yield f"key_admin_arns: {arn!r} is not an IAM role, user or account-root ARN"
    if not p.root_administers_key and not p.key_admin_arns:
        yield (
            "root_administers_key is False and no key_admin_arns are given: nobody could ever change the key "
            "policy again (KMS refuses such a policy unless its lockout safety check is bypassed, which we never do)"
        )
    if p.eso_session_tags and p.controller != "eso":
        yield "eso_session_tags applies to the External Secrets Operator only (controller='eso')"
    if p.controller == "eso" and p.controller_sa_namespace == p.namespace and p.controller_sa_name == p.workload:
        yield "controller_service_account must not be the workload's own service account: give the store its own"
    if p.workload_name is not None and not _DNS_SUBDOMAIN.match(p.workload_name):
        yield f"workload_name {p.workload_name!r} is not a valid Kubernetes object name"
    yield from _secret_problems(p)


def _secret_problems(p: OnboardingParams) -> Iterable[str]:
    if not p.secrets:
        yield "no parameters or secrets given: name at least one (e.g. /<service>/db-password)"
    seen: set[str] = set()
    leaves: dict[tuple[str, str], str] = {}
    for spec in p.secrets:
        if spec.name in seen:
            yield f"{spec.name!r} is given twice"
            continue
        seen.add(spec.name)
        yield from (_ssm_name_problems if spec.kind == "ssm" else _sm_name_problems)(spec.name, p.service)
        if spec.kind not in ("ssm", "secretsmanager"):
            yield f"{spec.name!r}: kind {spec.kind!r} is not 'ssm' or 'secretsmanager'"
        if spec.value_env is not None and not _ENV_NAME.match(spec.value_env):
            yield f"{spec.name!r}: value environment variable {spec.value_env!r} is not a valid variable name"
        if not _SECRET_KEY.match(spec.leaf):
            yield f"{spec.name!r}: its last component {spec.leaf!r} cannot be a Kubernetes Secret key ([-._a-zA-Z0-9])"
        other = leaves.setdefault((spec.kind, spec.leaf), spec.name)
        if other != spec.name:
            yield f"{spec.name!r} and {other!r} end in the same name {spec.leaf!r}: they would collide in one Secret"


def _ssm_name_problems(name: str, service: str) -> Iterable[str]:
    prefix = f"/{service}/"
    if not name.startswith(prefix) or name == prefix:
        yield f"parameter {name!r} is not under {prefix!r} (a service reads only its own path)"
        return
    if not _SSM_NAME.match(name):
        yield f"parameter {name!r} has characters SSM does not allow (a-z, A-Z, 0-9, '_', '.', '-', '/')"
    if len(name) > SSM_MAX_NAME:
        yield f"parameter {name!r} is longer than {SSM_MAX_NAME} characters"
    parts = name.strip("/").split("/")
    if name.endswith("/") or "" in parts:
        yield f"parameter {name!r} has an empty path component ('//' or a trailing '/')"
    if len(parts) > SSM_MAX_LEVELS:
        yield f"parameter {name!r} has {len(parts)} levels; SSM allows at most {SSM_MAX_LEVELS}"


def _sm_name_problems(name: str, service: str) -> Iterable[str]:
    prefix = f"{service}/"
    if not name.startswith(prefix) or name == prefix:
        yield f"secret {name!r} is not under {prefix!r} (a service reads only its own secrets)"
        return
    if not _SM_NAME.match(name):
        yield f"secret {name!r} has characters Secrets Manager does not allow (letters, digits, /_+=.@-)"
    if len(name) > SM_MAX_NAME:
        yield f"secret {name!r} is longer than {SM_MAX_NAME} characters"
    if _SM_RANDOM_SUFFIX.search(name):
        yield (
            f"secret {name!r} ends in '-' and six characters, like the random suffix of a secret ARN: "
            "ARN patterns would confuse it with another secret"
        )
