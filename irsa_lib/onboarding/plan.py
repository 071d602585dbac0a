"""The onboarding plan: the ordered steps of the reference pattern, with their exact resources.

Order matters and follows what AWS requires: the service role exists before the key policy names
it (KMS rejects unknown principals), the key exists before the role's policy names its ARN, the
alias exists before parameters are encrypted with it, and the Kubernetes objects come last.

>>> from irsa_lib.onboarding.params import make_params
>>> p = make_params(service="orders", namespace="orders", cluster="demo", account_id="123456789012",
...                 region="us-east-1", parameters=["/orders/db-password"],
...                 controller_role_arn="arn:aws:iam::123456789012:role/external-secrets-role")
>>> [s.id for s in make_plan(p).steps][:7]
['service-role', 'kms-key', 'kms-alias', 'kms-rotation', 'service-role-policy', 'controller-policy', 'parameter:/orders/db-password']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from irsa_lib.onboarding import policies
from irsa_lib.onboarding.params import OnboardingParams, SecretSpec
from irsa_lib.onboarding.render import manifests
from irsa_lib.onboarding.state import Observed

if TYPE_CHECKING:
    import pandas as pd

StepKind = Literal["aws", "kubernetes"]

PLAN_COLUMNS = ("#", "step", "kind", "action", "resource", "detail", "status")


@dataclass(frozen=True, kw_only=True)
class Step:
    """One change of the plan."""

    id: str
    kind: StepKind
    action: str
    resource: str
    detail: str
    documents: Mapping[str, Any] = field(default_factory=dict)
    """Policy documents (name -> JSON object) this step writes."""
    secret: SecretSpec | None = None
    status: str = "planned"
    """``planned`` without a preflight; else ``create`` / ``update`` / ``unchanged`` / ``skip``."""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The steps for one service, in order, plus the parameters they came from."""

    params: OnboardingParams
    steps: tuple[Step, ...]
    key_arn: str
    """The key ARN policies name: the existing key's, or a placeholder until the key is created."""

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def aws_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "aws")

    def documents(self) -> dict[str, Any]:
        """Every policy document of the plan by file stem (``trust-policy``, ``key-policy``...)."""
        out: dict[str, Any] = {}
        for s in self.steps:
            out.update(s.documents)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The plan as a table (one row per step)."""
        import pandas as pd  # here: importing it costs a quarter second every command that reads plans pays

        rows = [(i, s.id, s.kind, s.action, s.resource, s.detail, s.status) for i, s in enumerate(self.steps, 1)]
        return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))

    def to_text(self) -> str:
        """The plan as aligned plain text, for terminals and files."""
        p = self.params
        head = (
            f"Onboarding plan for service {p.service!r}: namespace {p.namespace} on cluster {p.cluster}, "
            f"account {p.account_id} / {p.region}, controller {p.controller.upper()} via {p.controller_role_arn}"
        )
        return head + "\n" + format_table(self.to_frame())


def params_frame(p: OnboardingParams) -> pd.DataFrame:
    """The parameters as understood, one fact per row (the notebook's "request" table)."""
    facts = [
        ("service", p.service),
        ("cluster / namespace", f"{p.cluster} / {p.namespace}"),
        ("account / region", f"{p.account_id} / {p.region}"),
        ("service role", p.service_role_arn),
        ("KMS key alias", p.key_alias),
        ("SSM parameters", ", ".join(s.name for s in p.parameters) or "(none)"),
        ("Secrets Manager secrets", ", ".join(s.name for s in p.sm_secrets) or "(none)"),
        ("values from", ", ".join(f"{s.name}: {_source(s)}" for s in p.secrets)),
        ("controller", f"{p.controller.upper()} as {p.controller_service_account} -> {p.controller_role_arn}"),
        ("key administrators", ", ".join([*(["account IAM"] if p.root_administers_key else []), *p.key_admin_arns])),
    ]
    import pandas as pd

    return pd.DataFrame(facts, columns=["parameter", "value"])


def pending_key_arn(p: OnboardingParams) -> str:
    """Stand-in for the key ARN before the key exists (shown in plans; apply uses the real one)."""
    return f"arn:{p.partition}:kms:{p.region}:{p.account_id}:key/pending-{p.service}-key"


def make_plan(params: OnboardingParams, existing: Observed | None = None) -> Plan:
    """The ordered steps for ``params``; with ``existing`` (from preflight) each carries its status."""
    p = params
    key_arn = existing.key_arn if existing and existing.key_arn else pending_key_arn(p)
    via = " and ".join(s.split(".")[0] for s in p.via_services())
    steps: list[Step] = [
        Step(
            id="service-role",
            kind="aws",
            action="IAM role",
            resource=p.service_role_arn,
            detail=f"trust: only {p.controller_role_arn} may sts:AssumeRole"
            + (" (+ sts:TagSession)" if p.eso_session_tags else ""),
            documents={"trust-policy": policies.trust_policy(p)},
        ),
        Step(
            id="kms-key",
            kind="aws",
            action="KMS key",
            resource=key_arn,
            detail=f"customer managed; admins administer, only {p.service_role_name} decrypts (via {via}); "
            "no account-wide decrypt delegation",
            documents={"key-policy": policies.key_policy(p)},
        ),
        Step(id="kms-alias", kind="aws", action="KMS alias", resource=p.key_alias, detail="points at the service key"),
        Step(
            id="kms-rotation",
            kind="aws",
            action="key rotation",
            resource=p.key_alias,
            detail="automatic yearly rotation on",
        ),
        Step(
            id="service-role-policy",
            kind="aws",
            action="inline policy",
            resource=f"{p.service_role_name}/{p.read_policy_name}",
            detail=f"ssm:GetParameter* on parameter{p.parameter_path}*, kms:Decrypt on its key via {via}"
            + (", secretsmanager:GetSecretValue on its secrets (-??????)" if p.sm_secrets else ""),
            documents={"read-policy": policies.read_policy(p, key_arn)},
        ),
        Step(
            id="controller-policy",
            kind="aws",
            action="inline policy",
            resource=f"{p.controller_role_name}/{p.controller_policy_name}",
            detail=f"the controller role may sts:AssumeRole into {p.service_role_name} (one policy per service)",
            documents={"controller-assume-policy": policies.controller_assume_policy(p)},
        ),
    ]
    for spec in p.parameters:
        steps.append(
            Step(
                id=f"parameter:{spec.name}",
                kind="aws",
                action="SSM SecureString",
                resource=p.parameter_arn(spec.name),
                detail=f"encrypted with {p.key_alias}; value {_source(spec)}; an existing value is kept",
                secret=spec,
            )
        )
    for spec in p.sm_secrets:
        steps.append(
            Step(
                id=f"secret:{spec.name}",
                kind="aws",
                action="Secrets Manager secret",
                resource=p.secret_arn_pattern(spec.name),
                detail=f"encrypted with {p.key_alias}; value {_source(spec)}; an existing value is kept",
                secret=spec,
            )
        )
    for obj in manifests(p):
        kind, meta = obj["kind"], obj["metadata"]
        steps.append(
            Step(
                id=f"k8s:{kind}/{meta['name']}",
                kind="kubernetes",
                action=kind,
                resource=f"{meta.get('namespace', '-')}/{meta['name']}" if kind != "Namespace" else meta["name"],
                detail=_k8s_detail(p, obj),
            )
        )
    if existing is not None:
        steps = [_with_status(s, existing.statuses.get(s.id), existing.reasons.get(s.id, "")) for s in steps]
    return Plan(params=p, steps=tuple(steps), key_arn=key_arn)


def _with_status(step: Step, status: str | None, reason: str) -> Step:
    if step.kind == "kubernetes":
        return Step(**{**step.__dict__, "status": "write", "reason": "written to the output directory"})
    return Step(**{**step.__dict__, "status": status or "planned", "reason": reason})


def _source(spec: SecretSpec) -> str:
    return f"from ${spec.value_env}" if spec.value_env else "asked at apply time"


def _k8s_detail(p: OnboardingParams, obj: Mapping[str, Any]) -> str:
    kind = obj["kind"]
    spec = obj.get("spec", {})
    if kind == "Namespace":
        ann = obj["metadata"].get("annotations", {})
        gate = ann.get("iam.amazonaws.com/permitted")
        return f"permits only {gate}" if gate else "the service's own namespace"
    if kind == "ServiceAccount" and obj["metadata"]["name"] != p.workload:
        return f"the SecretStores' identity: IRSA to {p.controller_role_arn} (whose trust must name it)"
    if kind == "ServiceAccount":
        return "the workload's identity; no AWS role, no token automount"
    if kind == "SecretStore":
        aws = spec["provider"]["aws"]
        auth = "auth.jwt " + aws["auth"]["jwt"]["serviceAccountRef"]["name"] if "auth" in aws else "controller identity"
        return f"{aws['service']} as {aws['role']} ({auth})"
    if kind == "ExternalSecret" and obj["apiVersion"].startswith("kubernetes-client.io"):
        keys = ", ".join(d["key"] for d in spec["data"])
        return f"KES {spec['backendType']} with roleArn {spec['roleArn']}: {keys}"
    if kind == "ExternalSecret":
        keys = ", ".join(d["remoteRef"]["key"] for d in spec["data"])
        return f"ESO via {spec['secretStoreRef']['name']} into Secret {spec['target']['name']}: {keys}"
    if kind == "Deployment":
        return "example workload: mounts the Secrets as read-only volumes (no environment variables)"
    return ""


def format_table(frame: pd.DataFrame, *, max_width: int = 90) -> str:
    """Plain-text table of a frame: aligned columns, long cells cut with an ellipsis."""
    cols = [str(c) for c in frame.columns]
    cells = [[_cut(str(v), max_width) for v in row] for row in frame.itertuples(index=False)]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
