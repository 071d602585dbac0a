"""Rules about who may assume a role: IRSA, open, account-root and Pod Identity trust policies.

These read the *shape* of trust statements (conditions present or missing), which is what the
findings are about; whether a given service account actually gets a role is the graph's answer.
"""

from __future__ import annotations

from collections.abc import Iterator

from irsa_lib.findings.context import FindingContext, k8s_id
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.reach import decide
from irsa_lib.findings.rules.common import SECRET_READ_ACTIONS, limit, oidc_host, unknown_from
from irsa_lib.findings.shapes import (
    LIMITING_TRUST_KEYS,
    allows,
    conditions_on,
    named_accounts,
    open_principal,
    ref,
    restricts,
    values,
    wildcard_grant,
    written,
)
from irsa_lib.model import EKSCluster, Role, ServiceAccount
from irsa_lib.policy import Policy, evaluate, web_identity_request
from irsa_lib.policy.conditions import Condition
from irsa_lib.policy.document import Statement
from irsa_lib.resolve import policy_set_for

SA_PREFIX = "system:serviceaccount:"
IRSA_BPG = "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"
IAM_PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"


def irsa_statements(ctx: FindingContext, role: Role) -> Iterator[tuple[Statement, str]]:
    """Allow statements granting web-identity assumption to an EKS OIDC provider, with its issuer host."""
    trust = ctx.trust_policy(role)
    for st in trust.statements if trust else ():
        if not (allows(st, "sts:AssumeRoleWithWebIdentity") and st.principal is not None):
            continue
        for fed in sorted(st.principal.federated):
            host = oidc_host(fed)
            if host and (host in ctx.issuer_hosts or host.startswith("oidc.eks.")):
                yield st, host


def _broad_sub(c: Condition, value: str) -> bool:
    """Whether one ``sub`` value admits service accounts of more than one namespace."""
    if c.base in ("stringequals", "stringequalsignorecase"):
        return False
    if c.base != "stringlike":
        return False  # other operators on sub are left to the evaluator
    wild = "*" in value or "?" in value
    if not value.startswith(SA_PREFIX):
        return wild
    ns, sep, _ = value[len(SA_PREFIX) :].partition(":")
    return ("*" in ns or "?" in ns) or (not sep and wild)


def sub_problem(st: Statement, host: str) -> str | None:
    """Why this IRSA statement admits any service account of the cluster, or None when scoped."""
    if not st.conditions:
        return "has no Condition: any service account of the cluster can assume the role"
    subs = [c for c in conditions_on(st, f"{host}:sub") if restricts(c)]
    if not subs:
        return f"has no condition on {host}:sub: any service account of the cluster can assume the role"
    for c in subs:
        if not any(_broad_sub(c, v) for v in values(c)):
            return None  # one scoped condition is enough: conditions are ANDed
    return f"{subs[0].describe()} admits service accounts of any namespace"


def _iam_gap_unknowns(meta: RuleMeta, ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(meta, ctx.gaps("aws", "iam"))


def _cluster_note(ctx: FindingContext, host: str) -> str:
    cluster = ctx.issuer_hosts.get(host)
    return f"OIDC provider {host} (cluster {cluster})" if cluster else f"OIDC provider {host}"


F01 = RuleMeta(
    id="F01",
    slug="irsa-trust-any-service-account",
    severity=Severity.CRITICAL,
    title="IRSA trust policy admits any service account of the cluster",
    why=(
        "A web-identity trust with no sub condition, no Condition at all, or a StringLike sub wildcard over "
        "namespaces (system:serviceaccount:*:*, system:serviceaccount:*:name) lets anyone who can create a "
        "service account and a pod in the cluster obtain the role."
    ),
    remediation=(
        "Scope the trust to one service account: StringEquals <issuer>:sub = system:serviceaccount:<ns>:<name> "
        "(or at widest system:serviceaccount:<ns>:*) and <issuer>:aud = sts.amazonaws.com."
    ),
    references=(IRSA_BPG, "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"),
    scope=(
        "Reads trust statements whose Federated principal is an EKS OIDC provider. A sub condition written with "
        "an operator other than StringEquals/StringLike is treated as scoped (the evaluator decides it)."
    ),
)


def check_f01(ctx: FindingContext) -> Iterator[Finding]:
    yield from _iam_gap_unknowns(F01, ctx)
    for role in ctx.snapshot.roles:
        for st, host in irsa_statements(ctx, role):
            problem = sub_problem(st, host)
            if problem:
                yield F01.fail(role.arn, f"{ref(st)} for {_cluster_note(ctx, host)} {problem}")


F18 = RuleMeta(
    id="F18",
    slug="irsa-trust-missing-aud",
    severity=Severity.LOW,
    title="IRSA trust policy has no aud condition",
    why=(
        "IAM already checks the token audience against the OIDC provider's client id list, but the documented "
        "trust also pins <issuer>:aud = sts.amazonaws.com; without it a token minted for another audience of "
        "the same issuer is accepted if that audience is registered."
    ),
    remediation="Add StringEquals <issuer>:aud = sts.amazonaws.com to the trust statement.",
    references=(IRSA_BPG, "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"),
    scope="Defence in depth only; reads the statement, not the provider's client id list.",
)


def check_f18(ctx: FindingContext) -> Iterator[Finding]:
    yield from _iam_gap_unknowns(F18, ctx)
    for role in ctx.snapshot.roles:
        for st, host in irsa_statements(ctx, role):
            if not any(restricts(c) for c in conditions_on(st, f"{host}:aud")):
                yield F18.fail(role.arn, f"{ref(st)} for {_cluster_note(ctx, host)} has no condition on {host}:aud")


F02 = RuleMeta(
    id="F02",
    slug="trust-open-principal",
    severity=Severity.CRITICAL,
    title="Trust policy open to any principal without an organisation, ARN or external-id condition",
    why=(
        'Principal "*" (or {"AWS": "*"}) trusts every AWS principal in every account that has identity permission; '
        "a Federated principal without conditions trusts every token of that provider."
    ),
    remediation=(
        "Name the trusted principals, or add a condition on aws:PrincipalOrgID, aws:PrincipalArn, aws:SourceAccount "
        "or sts:ExternalId; give Federated principals conditions on the token's claims."
    ),
    references=(
        IAM_PRINCIPAL,
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
    ),
    scope="EKS OIDC providers are judged by F01. Conditions on other keys are not considered limiting.",
)


def check_f02(ctx: FindingContext) -> Iterator[Finding]:
    yield from _iam_gap_unknowns(F02, ctx)
    for role in ctx.snapshot.roles:
        trust = ctx.trust_policy(role)
        for st in trust.statements if trust else ():
            if st.effect != "Allow":
                continue
            if open_principal(st):
                limiting = [c for c in st.conditions if c.key in LIMITING_TRUST_KEYS and restricts(c)]
                if not limiting:
                    others = f" (other conditions: {[c.describe() for c in st.conditions]})" if st.conditions else ""
                    yield F02.fail(role.arn, f"{ref(st)} trusts any AWS principal{others}")
            for fed in sorted(st.principal.federated if st.principal else ()):
                host = oidc_host(fed)
                if host and (host in ctx.issuer_hosts or host.startswith("oidc.eks.")):
                    continue
                if not st.conditions:
                    yield F02.fail(role.arn, f"{ref(st)} trusts Federated {fed} with no Condition")


F08 = RuleMeta(
    id="F08",
    slug="service-role-trusts-account-root",
    severity=Severity.HIGH,
    title="Role reading secrets trusts its account root while principals hold sts:AssumeRole on wildcards",
    why=(
        "A trust naming the account (arn:aws:iam::<acct>:root) delegates to IAM: every principal whose identity "
        "policy allows sts:AssumeRole on the role (e.g. on *) can assume it, not just the intended controller role."
    ),
    remediation=(
        "Name the intended role ARN (e.g. external-secrets-role) in the trust instead of the account root, and "
        "narrow sts:AssumeRole grants from * to specific role ARNs."
    ),
    references=(
        "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html",
        IAM_PRINCIPAL,
    ),
    scope=(
        "Only roles whose identity policies allow reading secret values (ssm:GetParameter*, "
        "secretsmanager:GetSecretValue) are judged. Wildcard grants are read from identity policies of collected "
        "roles and users, and the policy evaluator confirms each holder can assume the role (boundaries, SCPs, "
        "conditions applied; conditional answers are marked); accounts not collected are unknown."
    ),
)


def _reads_secrets(ctx: FindingContext, role: Role) -> bool:
    return any(
        allows(st, a) for p in ctx.identity_policies(role.arn) for st in p.statements for a in SECRET_READ_ACTIONS
    )


def _wildcard_assumers(ctx: FindingContext, role: Role, account: str) -> list[str]:
    """Principals of ``account`` that the evaluator lets assume ``role`` through a wildcard grant."""
    out = []
    for arn, policies in ctx.pattern_holders(account, "sts:AssumeRole", role.arn):
        if arn == role.arn:
            continue
        for p in policies:
            shown = wildcard_grant(p, "sts:AssumeRole", role.arn)
            if shown is None:
                continue
            d = decide(ctx, arn, "sts:AssumeRole", role.arn)
            if d.possible:
                cond = f" ({d.outcome} on {', '.join(d.unresolved_keys)})" if d.outcome == "conditional" else ""
                out.append(f"{arn}: {shown}{cond}")
            break
    return out


def check_f08(ctx: FindingContext) -> Iterator[Finding]:
    for role in ctx.snapshot.roles:
        trust = ctx.trust_policy(role)
        roots = [
            (st, acct)
            for st in (trust.statements if trust else ())
            if allows(st, "sts:AssumeRole")
            for acct in sorted(named_accounts(st))
        ]
        if not roots or not _reads_secrets(ctx, role):
            continue
        for st, acct in roots:
            if acct not in ctx.iam_accounts or ctx.iam_gaps_for(acct):
                yield F08.unknown(role.arn, f"{ref(st)} trusts account {acct}, whose IAM was not (fully) collected")
                continue
            assumers = _wildcard_assumers(ctx, role, acct)
            if assumers:
                yield F08.fail(role.arn, f"{ref(st)} trusts account root {acct}", *limit(assumers))


F19 = RuleMeta(
    id="F19",
    slug="dangling-principal-or-dead-edge",
    severity=Severity.LOW,
    title="Dangling principal or dead IRSA edge",
    why=(
        "A raw unique id (AROA.../AIDA...) in a trust or key policy means the named principal was deleted; an "
        "aws:PrincipalArn condition naming a missing role can be claimed by whoever recreates that name; an SA "
        "annotation naming a missing role, or a role whose trust does not admit the SA, is a dead edge that hides "
        "a broken setup (and may fall back to the node role)."
    ),
    remediation=(
        "Remove or replace dangling principals; recreate trust with the current role ARN; fix or remove "
        "role-arn annotations that name missing roles or roles whose trust does not admit the service account."
    ),
    references=(IAM_PRINCIPAL, IRSA_BPG),
    scope=(
        "Missing roles are judged only in accounts whose IAM was collected (otherwise unknown). Whether a trust "
        "admits an SA is decided by the policy evaluator (sts:AssumeRoleWithWebIdentity with the token's sub and "
        "aud); a trust that admits it only under other conditions is not reported."
    ),
)


def _policy_owners(ctx: FindingContext) -> Iterator[tuple[str, str, Policy]]:
    for role in ctx.snapshot.roles:
        trust = ctx.trust_policy(role)
        if trust is not None:
            yield role.arn, "trust policy", trust
    for key in ctx.snapshot.kms_keys:
        kp = ctx.key_policy(key)
        if kp is not None:
            yield key.arn, "key policy", kp


def provider_arn(ctx: FindingContext, cluster: EKSCluster, host: str) -> str:
    """The IAM OIDC provider of a cluster's issuer (collected, or its documented ARN form)."""
    for p in ctx.snapshot.oidc_providers:
        if p.url.removeprefix("https://").rstrip("/") == host:
            return p.arn
    return f"arn:aws:iam::{cluster.account_id}:oidc-provider/{host}"


def dead_edge(ctx: FindingContext, sa: ServiceAccount, role: Role, cluster: EKSCluster) -> str | None:
    """Why the role's trust does not admit the annotated service account's token, or None if it may.

    The evaluator decides sts:AssumeRoleWithWebIdentity with the token's ``sub`` and ``aud``.
    """
    assert cluster.oidc_issuer
    host = cluster.oidc_issuer.removeprefix("https://").rstrip("/")
    hosts = sorted({h for _, h in irsa_statements(ctx, role)})
    if host not in hosts:
        other = f" (it trusts {hosts})" if hosts else ""
        return f"annotation names {role.arn}, whose trust has no web-identity statement for {host}{other}"
    provider = provider_arn(ctx, cluster, host)
    request = web_identity_request(
        role.arn,
        provider_arn=provider,
        issuer=cluster.oidc_issuer,
        namespace=sa.namespace,
        service_account=sa.name,
        audiences=(sa.audience,),
    )
    decision = evaluate(request, policy_set_for(ctx.inventory, provider, role.arn))
    if decision.possible:
        return None
    why = "; ".join(r for r in decision.reasons if not r.startswith("identity:"))
    return f"annotation names {role.arn}, whose trust does not admit {sa.subject} (aud {sa.audience}): {why}"


def check_f19(ctx: FindingContext) -> Iterator[Finding]:
    for owner, kind, policy in _policy_owners(ctx):
        for st in policy.statements:
            for uid in sorted(st.principal.unique_ids if st.principal else ()):
                yield F19.fail(owner, f"{kind}: {ref(st)} names unique id {uid}, a deleted principal")
            for c in conditions_on(st, "aws:PrincipalArn"):
                for v in values(c):
                    if ":role/" not in v or "*" in v or "?" in v or not restricts(c):
                        continue
                    acct = v.split(":")[4] if v.count(":") >= 5 else ""
                    if acct in ctx.iam_accounts and not ctx.iam_gaps_for(acct) and v not in ctx.roles:
                        yield F19.fail(
                            owner,
                            f"{kind}: {ref(st)} {c.operator} aws:PrincipalArn names {v}, which does not exist: "
                            "whoever creates a role with that name gets this access",
                            severity=Severity.HIGH,
                        )
    for sa in ctx.snapshot.service_accounts:
        arn = sa.role_arn
        if not arn:
            continue
        sid = k8s_id(sa.cluster, "ServiceAccount", sa.name, sa.namespace)
        acct = arn.split(":")[4] if arn.count(":") >= 5 else ""
        role = ctx.roles.get(arn)
        if role is None:
            if acct not in ctx.iam_accounts or ctx.iam_gaps_for(acct):
                yield F19.unknown(
                    sid, f"annotation names {arn}; IAM of account {acct or '?'} was not (fully) collected"
                )
            else:
                yield F19.fail(sid, f"annotation eks.amazonaws.com/role-arn names {arn}, which does not exist")
            continue
        cluster = ctx.clusters.get(sa.cluster)
        if cluster is None or not cluster.oidc_issuer:
            continue
        problem = dead_edge(ctx, sa, role, cluster)
        if problem:
            yield F19.fail(sid, problem)


F20 = RuleMeta(
    id="F20",
    slug="pod-identity-trust-unscoped",
    severity=Severity.MEDIUM,
    title="Pod Identity trust without source or session-tag conditions",
    why=(
        "A trust of pods.eks.amazonaws.com with no aws:SourceAccount/aws:SourceArn/aws:SourceOrgId or "
        "aws:RequestTag/kubernetes-* / eks-cluster-* condition lets anyone able to create a Pod Identity "
        "association (eks:CreatePodIdentityAssociation + iam:PassRole) bind the role to any service account."
    ),
    remediation=(
        "Add aws:SourceAccount / aws:SourceArn (the cluster ARN) conditions, or aws:RequestTag/eks-cluster-arn, "
        "kubernetes-namespace and kubernetes-service-account conditions to the trust."
    ),
    references=("https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html", IRSA_BPG),
    scope="Does not enumerate who holds eks:CreatePodIdentityAssociation + iam:PassRole.",
)

_PI_SCOPING = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths")


def check_f20(ctx: FindingContext) -> Iterator[Finding]:
    yield from _iam_gap_unknowns(F20, ctx)
    for role in ctx.snapshot.roles:
        trust = ctx.trust_policy(role)
        for st in trust.statements if trust else ():
            if not (
                allows(st, "sts:AssumeRole") and st.principal and "pods.eks.amazonaws.com" in st.principal.services
            ):
                continue
            keys = [c.key for c in st.conditions if restricts(c)]
            if not any(
                k in _PI_SCOPING or k.startswith(("aws:requesttag/kubernetes-", "aws:requesttag/eks-")) for k in keys
            ):
                yield F20.fail(
                    role.arn, f"{ref(st)} trusts pods.eks.amazonaws.com with no source or session-tag condition"
                )


F21 = RuleMeta(
    id="F21",
    slug="pod-identity-abac-without-cluster",
    severity=Severity.MEDIUM,
    title="Pod Identity ABAC on namespace/service account without the cluster",
    why=(
        "kubernetes-namespace and kubernetes-service-account session tags are unique only within one cluster; "
        "a policy matching them without eks-cluster-arn (or eks-cluster-name) admits the same names in every "
        "cluster of the account."
    ),
    remediation="Add a condition on aws:PrincipalTag/eks-cluster-arn (or aws:RequestTag/eks-cluster-arn in trust).",
    references=("https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html", IRSA_BPG),
    scope="Reads trust, identity, key and resource policies; tag checks hidden in policy variables of other keys are not seen.",
)

_K8S_TAGS = ("kubernetes-namespace", "kubernetes-service-account")
_CLUSTER_TAGS = ("eks-cluster-arn", "eks-cluster-name")


def _abac_owners(ctx: FindingContext) -> Iterator[tuple[str, Policy]]:
    for role in ctx.snapshot.roles:
        trust = ctx.trust_policy(role)
        if trust is not None:
            yield role.arn, trust
    yield from ctx.written_policies()
    for key in ctx.snapshot.kms_keys:
        p = ctx.key_policy(key)
        if p is not None:
            yield key.arn, p
    for sec in ctx.snapshot.secrets:
        p = ctx.parsed(sec.resource_policy, source=f"{sec.arn} resource policy", kind="resource")
        if p is not None:
            yield sec.arn, p
    for par in ctx.snapshot.ssm_parameters:
        for i, doc in enumerate(par.resource_policies):
            p = ctx.parsed(doc, source=f"{par.arn} resource policy {i}", kind="resource")
            if p is not None:
                yield par.arn, p


def _tag_uses(p: Policy, st: Statement, tags: tuple[str, ...]) -> list[str]:
    used = []
    for c in st.conditions:
        for t in tags:
            if c.key.endswith(f"tag/{t}") or any(f"tag/{t}" in v.lower() for v in values(c)):
                used.append(t)
    for r in written(p, st, "Resource"):
        used.extend(t for t in tags if f"tag/{t}" in r.lower())
    return used


def check_f21(ctx: FindingContext) -> Iterator[Finding]:
    for owner, policy in _abac_owners(ctx):
        for st in policy.statements:
            k8s = _tag_uses(policy, st, _K8S_TAGS)
            if k8s and not _tag_uses(policy, st, _CLUSTER_TAGS):
                yield F21.fail(owner, f"{ref(st)} matches {sorted(set(k8s))} session tags without eks-cluster-arn")


RULES = (
    Rule(F01, check_f01),
    Rule(F02, check_f02),
    Rule(F08, check_f08),
    Rule(F18, check_f18),
    Rule(F19, check_f19),
    Rule(F20, check_f20),
    Rule(F21, check_f21),
)
