"""Rules about the external-secrets controllers: KES gating and templates, ESO stores and tokens."""

from __future__ import annotations

from collections.abc import Iterator

from irsa_lib.findings.context import FindingContext, k8s_id
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.rbac import RBACGrant, RBACIndex
from irsa_lib.findings.reach import decide
from irsa_lib.findings.rules.common import limit, unknown_from
from irsa_lib.findings.rules.k8s import RBAC_KINDS
from irsa_lib.findings.shapes import allows, ref
from irsa_lib.graph.schema import Mechanism, kes_es_id, store_id
from irsa_lib.model import KESController, Namespace, Role, Subject
from irsa_lib.policy import Principal, infer_principal
from irsa_lib.resolve import UnknownPrincipalError
from irsa_lib.userregex import RegexError, compile_regex

KES_REPO = "https://github.com/external-secrets/kubernetes-external-secrets"
KES_POLLER = f"{KES_REPO}/blob/master/lib/poller.js"
ESO_SECURITY = "https://external-secrets.io/latest/guides/security-best-practices/"
ESO_AWS_ACCESS = "https://external-secrets.io/latest/provider/aws-access/"
WRITE_VERBS = ("create", "update", "patch")


def kes_identity(ctx: FindingContext, c: KESController) -> tuple[str | None, str]:
    """The role KES assumes ``spec.roleArn`` from, and how it was found."""
    if c.intermediate_role_arn:
        return c.intermediate_role_arn, "AWS_INTERMEDIATE_ROLE_ARN"
    sa = ctx.service_accounts.get((c.cluster, c.namespace, c.service_account))
    if sa is not None and sa.role_arn:
        return sa.role_arn, f"IRSA annotation of {c.namespace}/{c.service_account}"
    for a in ctx.snapshot.pod_identity_associations:
        if (a.cluster_name, a.namespace, a.service_account) == (c.cluster, c.namespace, c.service_account):
            return a.target_role_arn or a.role_arn, "Pod Identity association"
    return None, "no IRSA annotation or Pod Identity association"


def _principal(ctx: FindingContext, arn: str) -> Principal:
    try:
        return ctx.inventory.principal(arn)
    except UnknownPrincipalError:
        return infer_principal(arn)


def trusting_roles(ctx: FindingContext, principal_arn: str) -> list[Role]:
    """Roles whose trust names ``principal_arn`` (its ARN, unique id or a session) and that it may assume.

    The trust's Principal is matched as the evaluator matches it; the evaluator then decides the
    sts:AssumeRole request (a trust naming only the account root is F08's question, not counted).
    """
    who = _principal(ctx, principal_arn)
    out = []
    for role in ctx.snapshot.roles:
        trust = ctx.trust_policy(role)
        named = any(
            allows(st, "sts:AssumeRole")
            and st.principal is not None
            and not st.not_principal
            and st.principal.match(who) in ("role", "direct")
            for st in (trust.statements if trust else ())
        )
        if named and decide(ctx, principal_arn, "sts:AssumeRole", role.arn).possible:
            out.append(role)
    return out


SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def system_namespaces(ctx: FindingContext, cluster: str) -> frozenset[str]:
    """Namespaces only administrators normally write to: Kubernetes' own and the controllers' own."""
    ctrl = {c.namespace for c in ctx.snapshot.kes_controllers if c.cluster == cluster}
    ctrl |= {c.namespace for c in ctx.snapshot.eso_controllers if c.cluster == cluster}
    return SYSTEM_NAMESPACES | ctrl


def watched(ctx: FindingContext, cluster: str, names: tuple[str, ...]) -> list[Namespace]:
    all_ns = [n for n in ctx.snapshot.namespaces if n.cluster == cluster]
    return [n for n in all_ns if not names or n.name in names]


def kes_authors(rbac: RBACIndex, c: KESController, namespace: str) -> list[RBACGrant]:
    """Tenant grants to write KES ExternalSecrets in ``namespace`` (the controller itself excluded)."""
    ctrl = Subject(kind="ServiceAccount", name=c.service_account, namespace=c.namespace)
    return rbac.tenant_grants(
        c.cluster, namespace, WRITE_VERBS, "kubernetes-client.io", "externalsecrets", exclude=[ctrl]
    )


def tenant_namespaces(
    ctx: FindingContext, rbac: RBACIndex, c: KESController
) -> Iterator[tuple[Namespace, list[RBACGrant]]]:
    """Namespaces KES serves that a user would act on, with the tenant grants to author ExternalSecrets there.

    System namespaces (kube-system, kube-public, kube-node-lease, the controllers' own) count only
    when a RoleBinding *in that namespace* lets a tenant write ExternalSecrets: a cluster-wide grant
    is reported on the tenant namespaces and by F13 instead of once more per system namespace.
    """
    system = system_namespaces(ctx, c.cluster)
    for ns in watched(ctx, c.cluster, c.watched_namespaces):
        grants = kes_authors(rbac, c, ns.name)
        if ns.name in system and not any(not g.cluster_wide for g in grants):
            continue
        yield ns, grants


def gating_problem(ns: Namespace, c: KESController) -> tuple[str, str | None] | None:
    """Why KES role gating does not hold in this namespace (reason, regex), or None when it holds."""
    key = c.role_permitted_annotation
    if not ns.annotations:
        if c.enforce_namespace_annotations:
            return None
        return "namespace has no annotations and ENFORCE_NAMESPACE_ANNOTATIONS is unset: any roleArn is allowed", None
    if key not in ns.annotations:
        if c.enforce_namespace_annotations:
            return None
        return f"namespace has no {key} annotation: any roleArn is allowed", None
    regex = ns.annotations[key]
    if regex == "":
        return f"{key} is empty, which allows every role", regex
    if not (regex.startswith("^") and regex.endswith("$")):
        return f"{key} = {regex!r} is unanchored: it matches any ARN containing it", regex
    return None


def unreadable_gate(ns: Namespace, c: KESController) -> str | None:
    """Why the namespace's role regex cannot be evaluated as KES would (then gating is unknown), else None."""
    regex = ns.annotations.get(c.role_permitted_annotation)
    if not regex:
        return None
    try:
        compile_regex(regex, dialect="javascript")
    except RegexError as exc:
        return f"{c.role_permitted_annotation}={regex!r} cannot be evaluated: {exc}"
    return None


F03 = RuleMeta(
    id="F03",
    slug="kes-no-namespace-role-gating",
    severity=Severity.CRITICAL,
    title="kubernetes-external-secrets without effective namespace role gating",
    why=(
        "KES assumes whatever spec.roleArn an ExternalSecret names, with its own identity. When service roles trust "
        "that identity and a namespace is not gated by an anchored iam.amazonaws.com/permitted regex, anyone who can "
        "create an ExternalSecret there can name another service's role and key and materialise its secret in "
        "their own namespace (a confused deputy)."
    ),
    remediation=(
        "Set ENFORCE_NAMESPACE_ANNOTATIONS on the controller and annotate every namespace with an anchored regex, "
        "e.g. iam.amazonaws.com/permitted: '^arn:aws:iam::123456789012:role/billing-service-role$'; better, migrate to "
        "External Secrets Operator with one SecretStore role per namespace."
    ),
    references=(KES_POLLER, f"{KES_REPO}#restricting-access-to-aws-iam-roles-via-annotations"),
    scope=(
        "Gating follows lib/poller.js: namespaces without annotations pass unless ENFORCE_NAMESPACE_ANNOTATIONS is set; "
        "a missing or empty permitted annotation allows all roles; the regex is unanchored RegExp.test (matched here "
        "with RE2; a regex RE2 cannot evaluate as JavaScript would leaves the namespace unknown). Only roles whose trust names the controller "
        "role ARN and that the evaluator lets it assume are counted (root trusts are F08's). System namespaces "
        "(kube-system, kube-public, kube-node-lease and the namespaces the KES/ESO controllers run in) are excluded "
        "unless a RoleBinding there lets a non-admin write ExternalSecrets. With the access graph, the evidence "
        "names the values an ExternalSecret created in the namespace could materialise."
    ),
)


def deputy_reach(ctx: FindingContext, cluster: str, namespace: str) -> list[str]:
    """With a graph: the values "an ExternalSecret someone could create in ``namespace``" fetches."""
    return sorted({ctx.name_of(v) for v in ctx.edge_targets(kes_es_id(cluster, namespace), Mechanism.KES_READ)})


def check_f03(ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(F03, ctx.k8s_gaps("namespaces"))
    rbac = RBACIndex(ctx.snapshot)
    for c in ctx.snapshot.kes_controllers:
        ident, how = kes_identity(ctx, c)
        if ident is None:
            continue
        if ident not in ctx.roles:
            acct = ident.split(":")[4] if ident.count(":") >= 5 else ""
            if acct not in ctx.iam_accounts or ctx.iam_gaps_for(acct):
                yield F03.unknown(
                    k8s_id(c.cluster, "Deployment", c.name, c.namespace), f"IAM holding {ident} was not collected"
                )
        services = trusting_roles(ctx, ident)
        if not services:
            continue
        trusting = [r.arn for r in services]
        for ns, _ in tenant_namespaces(ctx, rbac, c):
            unreadable = unreadable_gate(ns, c)
            if unreadable is not None:
                yield F03.unknown(k8s_id(c.cluster, "Namespace", ns.name), unreadable)
                continue
            problem = gating_problem(ns, c)
            if problem is None:
                continue
            reason, regex = problem
            sev = None
            evidence = [
                f"KES controller {c.namespace}/{c.name} assumes spec.roleArn from {ident} ({how})",
                reason,
            ]
            if regex:
                rx = compile_regex(regex, dialect="javascript")
                matched = [a for a in trusting if rx.search(a)]
                evidence.append(f"the regex matches {len(matched)} role(s) trusting the controller: {limit(matched)}")
                if len(matched) <= 1:
                    sev = Severity.HIGH
            else:
                evidence.append(f"roles trusting the controller: {limit(trusting)}")
            reach = deputy_reach(ctx, c.cluster, ns.name)
            if reach:
                evidence.append(f"an ExternalSecret created here can materialise: {limit(reach)}")
            yield F03.fail(k8s_id(c.cluster, "Namespace", ns.name), *evidence, severity=sev)


F12 = RuleMeta(
    id="F12",
    slug="kes-template-code-execution",
    severity=Severity.HIGH,
    title="KES templates available to ExternalSecret authors who are not cluster admins",
    why=(
        "KES renders spec.template with lodash.template, which compiles <% %> blocks to JavaScript: whoever can "
        "create or update a kubernetes-client.io ExternalSecret runs code inside the controller, with its AWS "
        "credentials and its cluster-wide Secret access."
    ),
    remediation=(
        "Restrict create/update/patch on externalsecrets.kubernetes-client.io to administrators, or block "
        "spec.template with an admission policy; migrate to External Secrets Operator."
    ),
    references=(f"{KES_REPO}/blob/master/lib/utils.js", KES_POLLER),
    scope=(
        "Authors are read from RBAC (Roles/ClusterRoles and bindings) of non-system, non-admin subjects; admission "
        "policies (Gatekeeper, Kyverno) that may block templates are not collected. System namespaces (kube-system, "
        "kube-public, kube-node-lease, the controllers' own) are reported only for a RoleBinding in that namespace: "
        "a cluster-wide grant is reported on the tenant namespaces (and by F13)."
    ),
)


def check_f12(ctx: FindingContext) -> Iterator[Finding]:
    clusters = {c.cluster for c in ctx.snapshot.kes_controllers}
    if clusters:
        yield from unknown_from(F12, ctx.k8s_gaps(*RBAC_KINDS))
    rbac = RBACIndex(ctx.snapshot)
    for c in ctx.snapshot.kes_controllers:
        for ns, grants in tenant_namespaces(ctx, rbac, c):
            if not grants:
                continue
            templated = [
                e.name
                for e in ctx.snapshot.kes_external_secrets
                if e.cluster == c.cluster and e.namespace == ns.name and e.has_template
            ]
            ev = [
                f"KES controller {c.namespace}/{c.name} serves this namespace",
                *limit([g.describe() for g in grants]),
            ]
            if templated:
                ev.append(f"ExternalSecrets here already use templates: {templated}")
            yield F12.fail(k8s_id(c.cluster, "Namespace", ns.name), *ev)


F25 = RuleMeta(
    id="F25",
    slug="kes-still-deployed",
    severity=Severity.MEDIUM,
    title="kubernetes-external-secrets (deprecated, unmaintained) still deployed",
    why=(
        "KES was deprecated in 2021 (issue #864); its last release was in March 2022 and its dependencies "
        "(aws-sdk v2, lodash) receive no fixes."
    ),
    remediation="Migrate to External Secrets Operator (the kes-to-eso tool converts the resources).",
    references=(f"{KES_REPO}/issues/864", "https://github.com/external-secrets/kes-to-eso"),
    scope="Detects controller deployments and, where none was found, kubernetes-client.io ExternalSecret objects.",
)


def check_f25(ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(F25, ctx.k8s_gaps("deployments", "externalsecrets.kubernetes-client.io"))
    with_ctrl = set()
    for c in ctx.snapshot.kes_controllers:
        with_ctrl.add(c.cluster)
        yield F25.fail(k8s_id(c.cluster, "Deployment", c.name, c.namespace), f"KES controller in cluster {c.cluster}")
    orphans: dict[str, list[str]] = {}
    for e in ctx.snapshot.kes_external_secrets:
        if e.cluster not in with_ctrl:
            orphans.setdefault(e.cluster, []).append(f"{e.namespace}/{e.name}")
    for cluster, names in sorted(orphans.items()):
        yield F25.fail(
            k8s_id(cluster, "CustomResourceDefinition", "externalsecrets.kubernetes-client.io"),
            f"{len(names)} KES ExternalSecret object(s) present: {limit(names)}",
        )


F09 = RuleMeta(
    id="F09",
    slug="eso-token-create-tenant-stores",
    severity=Severity.HIGH,
    title="ESO can mint tokens for any service account while tenants can author SecretStores next to IRSA service accounts",
    why=(
        "With rbac.serviceAccountTokenCreate (the chart default) ESO may create tokens for any service account; a "
        "SecretStore with auth.jwt names a service account of its namespace, so whoever can write SecretStores "
        "borrows the IAM role of every IRSA service account in that namespace."
    ),
    remediation=(
        "Set rbac.serviceAccountTokenCreate=false and grant serviceaccounts/token create per service account with "
        "resourceNames; keep SecretStore authoring to administrators; keep IRSA service accounts out of tenant namespaces."
    ),
    references=(ESO_SECURITY, ESO_AWS_ACCESS),
    scope=(
        "Token rights and store authors are read from RBAC; admission policies are not collected. With the access "
        "graph, the evidence names the values a SecretStore written by those authors reaches."
    ),
)


def check_f09(ctx: FindingContext) -> Iterator[Finding]:
    if not ctx.snapshot.eso_controllers:
        return
    yield from unknown_from(F09, ctx.k8s_gaps(*RBAC_KINDS))
    rbac = RBACIndex(ctx.snapshot)
    for c in ctx.snapshot.eso_controllers:
        ctrl = Subject(kind="ServiceAccount", name=c.service_account, namespace=c.namespace)
        token = [
            g
            for g in rbac.grants(c.cluster, None, "create", "", "serviceaccounts/token")
            if g.subject.kind == "ServiceAccount"
            and (g.subject.name, g.subject.namespace) == (ctrl.name, ctrl.namespace)
        ]
        if not token:
            continue
        irsa_by_ns: dict[str, list[str]] = {}
        for sa in ctx.snapshot.service_accounts:
            if sa.cluster == c.cluster and sa.role_arn and (sa.namespace, sa.name) != (c.namespace, c.service_account):
                irsa_by_ns.setdefault(sa.namespace, []).append(f"{sa.name} -> {sa.role_arn}")
        for ns, sas in sorted(irsa_by_ns.items()):
            authors = rbac.tenant_grants(
                c.cluster, ns, WRITE_VERBS, "external-secrets.io", "secretstores", exclude=[ctrl]
            )
            if authors:
                borrowed = sorted(
                    {
                        v
                        for g in authors
                        for v in ctx.edge_targets(ctx.subject_node(c.cluster, g.subject), Mechanism.RBAC_CREATE_STORE)
                    }
                )
                reach = sorted({v for r in borrowed for v in ctx.values_from(r)})
                yield F09.fail(
                    k8s_id(c.cluster, "Namespace", ns),
                    f"ESO controller {c.namespace}/{c.service_account} can create tokens for any service account: {token[0].describe()}",
                    f"IRSA service accounts here: {limit(sas)}",
                    *limit([f"SecretStore author: {g.describe()}" for g in authors]),
                    *(
                        [
                            f"a SecretStore they write borrows {limit([ctx.graph.label(b) for b in borrowed])}, "
                            f"reaching {limit(reach)}"
                        ]
                        if borrowed and ctx.graph is not None
                        else []
                    ),
                )


F10 = RuleMeta(
    id="F10",
    slug="cluster-secret-store-unrestricted",
    severity=Severity.HIGH,
    title="ClusterSecretStore usable from more namespaces than intended",
    why=(
        "A ClusterSecretStore without conditions serves every namespace; namespaceRegexes are unanchored "
        "(regexp.MatchString); label selectors on labels other than kubernetes.io/metadata.name can be satisfied by "
        "anyone who can label a namespace."
    ),
    remediation=(
        "Add conditions listing namespaces (or anchored regexes ^...$, or a selector on kubernetes.io/metadata.name); "
        "prefer namespaced SecretStores with a role per namespace."
    ),
    references=("https://external-secrets.io/latest/api/clustersecretstore/", ESO_SECURITY),
    scope=(
        "Who may label namespaces is not judged; any label other than kubernetes.io/metadata.name is treated as "
        "patchable. With the access graph, the evidence names the values the store's credentials reach."
    ),
)


def check_f10(ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(F10, ctx.k8s_gaps("clustersecretstores"))
    for s in ctx.snapshot.eso_stores:
        if s.kind != "ClusterSecretStore":
            continue
        users = sorted(
            {
                e.namespace
                for e in ctx.snapshot.eso_external_secrets
                if e.cluster == s.cluster
                and e.store_ref
                and e.store_ref.kind == "ClusterSecretStore"
                and e.store_ref.name == s.name
            }
        )
        used = f"ExternalSecrets using it are in namespaces {users}" if users else "no ExternalSecret uses it yet"
        ev: list[str] = []
        if not s.conditions:
            ev.append("no conditions: every namespace can use this store")
        for cond in s.conditions:
            ev += [
                f"namespaceRegexes {r!r} is unanchored"
                for r in cond.namespace_regexes
                if not (r.startswith("^") and r.endswith("$"))
            ]
            sel = cond.namespace_selector or {}
            ev += [
                f"namespaceSelector on label {k}={v} can be set by whoever labels namespaces"
                for k, v in sel.items()
                if k != "kubernetes.io/metadata.name"
            ]
            if cond.has_match_expressions:
                ev.append(
                    "namespaceSelector matchExpressions on namespace labels (tenant-patchable unless on kubernetes.io/metadata.name)"
                )
        if ev:
            ends = ctx.edge_targets(store_id(s.cluster, s.kind, None, s.name), Mechanism.STORE_CREDENTIALS)
            reach = sorted({value for end in ends for value in ctx.values_from(end)})
            yield F10.fail(
                k8s_id(s.cluster, "ClusterSecretStore", s.name),
                f"provider {s.provider}, role {s.role or '-'}",
                *ev,
                used,
                *([f"its credentials reach {limit(reach)}"] if reach else []),
            )


F11 = RuleMeta(
    id="F11",
    slug="eso-spoofable-session-tags",
    severity=Severity.HIGH,
    title="Role trusts ESO session tags that store authors can set themselves",
    why=(
        "With sessionTagsPolicy None (the default) ESO passes the store's sessionTags through unchanged, so a tenant "
        "writing a SecretStore can set esoNamespace=<victim namespace>; trust or identity conditions on those tags "
        "only hold when the policy is Simple or Custom (ESO then sets them itself)."
    ),
    remediation="Set sessionTagsPolicy: Simple (or Custom) on every store that assumes such roles, and enforce it with an admission policy.",
    references=(ESO_AWS_ACCESS, ESO_SECURITY),
    scope="Admission policies that force sessionTagsPolicy are not collected.",
)

ESO_TAGS = ("esonamespace", "esostorename", "esostorekind")


def _eso_tag_conditions(ctx: FindingContext, role: Role) -> list[str]:
    policies = [ctx.trust_policy(role)]
    policies += [
        ctx.parsed(p.document, source=f"{role.arn} inline {p.name}", kind="identity") for p in role.inline_policies
    ]
    out = []
    for policy in policies:
        for st in policy.statements if policy else ():
            for cond in st.conditions:
                if any(cond.key.endswith(f"tag/{t}") for t in ESO_TAGS):
                    out.append(f"{ref(st)}: {cond.describe()}")
    return out


def check_f11(ctx: FindingContext) -> Iterator[Finding]:
    for s in ctx.snapshot.eso_stores:
        if s.provider != "aws" or s.session_tags_policy.lower() in ("simple", "custom"):
            continue
        for arn in (*s.additional_roles, *([s.role] if s.role else [])):
            role = ctx.roles.get(arn)
            if role is None:
                continue
            conds = _eso_tag_conditions(ctx, role)
            if conds:
                yield F11.fail(
                    k8s_id(s.cluster, s.kind, s.name, s.namespace),
                    f"sessionTagsPolicy is {s.session_tags_policy}; store assumes {arn}",
                    *limit(conds),
                    *([f"store sets sessionTags {dict(s.session_tags)}"] if s.session_tags else []),
                )


RULES = (
    Rule(F03, check_f03),
    Rule(F09, check_f09),
    Rule(F10, check_f10),
    Rule(F11, check_f11),
    Rule(F12, check_f12),
    Rule(F25, check_f25),
)

__all__ = ["RULES", "kes_identity", "trusting_roles"]
