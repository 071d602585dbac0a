"""Rules about Kubernetes workloads and RBAC around the secrets the controllers materialise."""

from __future__ import annotations

from collections.abc import Iterator

from irsa_lib.findings.context import FindingContext, k8s_id
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.rbac import RBACIndex, is_system_subject, subject_name
from irsa_lib.findings.rules.common import limit, unknown_from
from irsa_lib.graph.rbac_rules import rule_allows
from irsa_lib.model import RBACBinding, Workload

RBAC_GOOD = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
BPG_DATA = "https://docs.aws.amazon.com/eks/latest/best-practices/data-encryption-and-secrets-management.html"
BPG_IAM = "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"

F13 = RuleMeta(
    id="F13",
    slug="broad-kubernetes-rbac",
    severity=Severity.HIGH,
    title="Broad Kubernetes RBAC over Secrets, workloads, tokens or external-secrets objects",
    why=(
        "Materialised secrets are only as protected as their namespace: get/list/watch on Secrets, creating pods "
        "or workloads, pods/exec, serviceaccounts/token, impersonate, bind/escalate, and write access to "
        "ExternalSecret/SecretStore objects all reach secret values or the identities that read them."
    ),
    remediation=(
        "Grant these verbs only to the controllers that need them, per namespace, with resourceNames where "
        "possible; remove cluster-wide bindings of such roles to people and tenant service accounts."
    ),
    references=(RBAC_GOOD, BPG_DATA),
    scope=(
        "Judges bindings to non-system subjects (system:* users and groups, kube-system service accounts, "
        "built-in system:* bindings and the external-secrets controllers' own service accounts are skipped: "
        "F09/F12 judge those). Severity is high for cluster-wide bindings and medium for one namespace. With the "
        "access graph, the evidence names the values the binding's subjects reach through RBAC."
    ),
)

# (verb, api group, resource, label)
RISKY = (
    ("get", "", "secrets", "get secrets"),
    ("list", "", "secrets", "list secrets"),
    ("watch", "", "secrets", "watch secrets"),
    ("create", "", "pods", "create pods"),
    ("create", "apps", "deployments", "create deployments"),
    ("create", "apps", "daemonsets", "create daemonsets"),
    ("create", "batch", "jobs", "create jobs"),
    ("create", "", "pods/exec", "pods/exec"),
    ("create", "", "serviceaccounts/token", "create serviceaccounts/token"),
    ("impersonate", "", "serviceaccounts", "impersonate serviceaccounts"),
    ("impersonate", "", "users", "impersonate users"),
    ("bind", "rbac.authorization.k8s.io", "clusterroles", "bind"),
    ("escalate", "rbac.authorization.k8s.io", "clusterroles", "escalate"),
    ("create", "external-secrets.io", "externalsecrets", "create ExternalSecrets (ESO)"),
    ("create", "external-secrets.io", "secretstores", "create SecretStores"),
    ("create", "external-secrets.io", "clustersecretstores", "create ClusterSecretStores"),
    ("create", "kubernetes-client.io", "externalsecrets", "create ExternalSecrets (KES)"),
)

RBAC_KINDS = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")


def controller_subjects(ctx: FindingContext) -> set[tuple[str, str, str]]:
    """(cluster, namespace, sa) of every KES and ESO controller."""
    ctrl = {(c.cluster, c.namespace, c.service_account) for c in ctx.snapshot.kes_controllers}
    ctrl |= {(c.cluster, c.namespace, c.service_account) for c in ctx.snapshot.eso_controllers}
    return ctrl


def binding_id(b: RBACBinding) -> str:
    return k8s_id(b.cluster, b.kind, b.name, b.namespace)


def check_f13(ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(F13, ctx.k8s_gaps(*RBAC_KINDS))
    rbac = RBACIndex(ctx.snapshot)
    controllers = controller_subjects(ctx)
    for b in ctx.snapshot.rbac_bindings:
        if b.name.startswith("system:"):
            continue
        subjects = [
            s
            for s in b.subjects
            if not is_system_subject(s) and (b.cluster, s.namespace or b.namespace or "", s.name) not in controllers
        ]
        role = rbac.role_for(b)
        if not subjects or role is None:
            continue
        rules = rbac.rules_of(role)
        caps = [label for verb, group, res, label in RISKY if any(rule_allows(r, verb, group, res) for r in rules)]
        if caps:
            where = "cluster-wide" if b.kind == "ClusterRoleBinding" else f"in namespace {b.namespace}"
            reach = sorted({v for s in subjects for v in ctx.reachable_values(b.cluster, s)})
            yield F13.fail(
                binding_id(b),
                f"{b.kind} {b.name} binds {role.kind} {role.name} {where} to {', '.join(subject_name(s) for s in subjects)}",
                f"capabilities: {', '.join(caps)}",
                *([f"access rows: its subjects can reach {limit(reach)}"] if reach else []),
                severity=Severity.HIGH if b.kind == "ClusterRoleBinding" else Severity.MEDIUM,
            )


F14 = RuleMeta(
    id="F14",
    slug="secret-in-env-vars",
    severity=Severity.MEDIUM,
    title="Secret consumed through environment variables",
    why=(
        "Values in environment variables leak into logs, child processes, crash dumps and `kubectl describe`-style "
        "tooling; the EKS best practices recommend volume mounts."
    ),
    remediation="Mount the Secret as a volume (or use the CSI driver) instead of env valueFrom.secretKeyRef / envFrom.",
    references=(BPG_DATA,),
    scope="Judges every Secret consumed through env; it cannot tell whether the application needs env vars.",
)


def check_f14(ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(F14, ctx.k8s_gaps("pods", "deployments", "workloads"))
    for w in ctx.snapshot.workloads:
        refs = [r for r in w.secret_refs if r.via in ("env", "envFrom")]
        if refs:
            ev = [f"{r.via} secret {r.secret}" + (f" key {r.key}" if r.key else "") for r in refs]
            yield F14.fail(k8s_id(w.cluster, w.kind, w.name, w.namespace), *ev)


F23 = RuleMeta(
    id="F23",
    slug="pre-119-irsa-without-fsgroup",
    severity=Severity.INFO,
    title="Pre-1.19 cluster: non-root IRSA pod without fsGroup",
    why=(
        "Before Kubernetes 1.19 only root could read the projected web-identity token; a non-root container "
        "without fsGroup fails IRSA and the SDK silently falls back to the node role (see F05)."
    ),
    remediation="Set securityContext.fsGroup (e.g. 65534) on the pod, or upgrade the cluster.",
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts-technical-overview.html",
        BPG_IAM,
    ),
    scope="Non-root means runAsUser != 0 or runAsNonRoot true at pod level; container-level overrides are not seen.",
)


def _version(v: str | None) -> tuple[int, int] | None:
    if not v:
        return None
    try:
        major, minor = v.lstrip("v").split(".")[:2]
        return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
    except ValueError:
        return None


def _irsa_workloads(ctx: FindingContext) -> Iterator[Workload]:
    for w in ctx.snapshot.workloads:
        sa = ctx.service_accounts.get((w.cluster, w.namespace, w.service_account))
        if sa is not None and sa.role_arn:
            yield w


def check_f23(ctx: FindingContext) -> Iterator[Finding]:
    for w in _irsa_workloads(ctx):
        non_root = (w.run_as_user is not None and w.run_as_user != 0) or bool(w.run_as_non_root)
        if not non_root or w.fs_group is not None:
            continue
        wid = k8s_id(w.cluster, w.kind, w.name, w.namespace)
        cluster = ctx.clusters.get(w.cluster)
        ver = _version(cluster.version if cluster else None)
        if ver is None:
            yield F23.unknown(wid, f"Kubernetes version of cluster {w.cluster} was not collected")
        elif ver < (1, 19):
            yield F23.fail(
                wid,
                f"cluster {w.cluster} runs {cluster.version if cluster else '?'}",
                "pod is non-root and has no fsGroup",
            )


F24 = RuleMeta(
    id="F24",
    slug="no-sts-regional-endpoint",
    severity=Severity.INFO,
    title="IRSA service account without the STS regional endpoint setting",
    why=(
        'Without eks.amazonaws.com/sts-regional-endpoints: "true" (AWS_STS_REGIONAL_ENDPOINTS=regional) older '
        "SDKs call the global STS endpoint in us-east-1: extra latency and a cross-region dependency."
    ),
    remediation='Annotate the service account with eks.amazonaws.com/sts-regional-endpoints: "true".',
    references=(
        "https://github.com/aws/amazon-eks-pod-identity-webhook",
        "https://docs.aws.amazon.com/eks/latest/userguide/configure-sts-endpoint.html",
    ),
    scope=(
        "Clusters on 1.22 or later use the regional endpoint by default and are skipped; a workload setting "
        "AWS_STS_REGIONAL_ENDPOINTS itself is accepted."
    ),
)


def check_f24(ctx: FindingContext) -> Iterator[Finding]:
    for sa in ctx.snapshot.service_accounts:
        if not sa.role_arn or sa.annotations.get("eks.amazonaws.com/sts-regional-endpoints", "").lower() == "true":
            continue
        cluster = ctx.clusters.get(sa.cluster)
        ver = _version(cluster.version if cluster else None)
        if ver is not None and ver >= (1, 22):
            continue
        workloads = ctx.workloads_by_sa.get((sa.cluster, sa.namespace, sa.name), [])
        if workloads and all(any("AWS_STS_REGIONAL_ENDPOINTS" in c.env_names for c in w.containers) for w in workloads):
            continue
        sid = k8s_id(sa.cluster, "ServiceAccount", sa.name, sa.namespace)
        if ver is None:
            yield F24.unknown(
                sid, f"Kubernetes version of cluster {sa.cluster} was not collected (1.22+ defaults to regional)"
            )
        else:
            yield F24.fail(
                sid,
                f"no sts-regional-endpoints annotation; cluster {sa.cluster} runs {cluster.version if cluster else '?'}",
            )


F28 = RuleMeta(
    id="F28",
    slug="irsa-pod-automounts-k8s-token",
    severity=Severity.LOW,
    title="IRSA / Pod Identity workload also mounts a Kubernetes API token",
    why=(
        "Pods that use IRSA or Pod Identity get their AWS credentials from a separate projected token; the default "
        "Kubernetes API token is an extra credential that a compromised pod can use against the API server."
    ),
    remediation="Set automountServiceAccountToken: false on the pod (or service account) unless it calls the Kubernetes API.",
    references=(BPG_IAM,),
    scope="Cannot tell whether the application calls the Kubernetes API; controllers that must are skipped.",
)


def check_f28(ctx: FindingContext) -> Iterator[Finding]:
    controllers = controller_subjects(ctx)
    for w in ctx.snapshot.workloads:
        key = (w.cluster, w.namespace, w.service_account)
        sa = ctx.service_accounts.get(key)
        uses_aws = (sa is not None and bool(sa.role_arn)) or key in ctx.pod_identity_sas
        if not uses_aws or key in controllers:
            continue
        automount = w.automount_token if w.automount_token is not None else (sa.automount_token if sa else None)
        if automount is None or automount:
            how = "pod sets it true" if w.automount_token else "left at the default (true)"
            yield F28.fail(
                k8s_id(w.cluster, w.kind, w.name, w.namespace),
                f"service account {w.namespace}/{w.service_account} uses an AWS identity; automountServiceAccountToken {how}",
            )


RULES = (
    Rule(F13, check_f13),
    Rule(F14, check_f14),
    Rule(F23, check_f23),
    Rule(F24, check_f24),
    Rule(F28, check_f28),
)
