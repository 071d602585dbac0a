"""Rules about who can read, decrypt or overwrite the secret values themselves."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from irsa_lib.findings.context import FindingContext, k8s_id
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.rbac import RBACIndex
from irsa_lib.findings.reach import (
    Reach,
    Target,
    ask,
    decide,
    decrypt,
    denied_across_accounts,
    edge_leg,
    from_leg,
    read,
)
from irsa_lib.findings.rules.common import limit, unknown_from
from irsa_lib.findings.rules.controllers import kes_identity
from irsa_lib.findings.rules.k8s import RBAC_KINDS
from irsa_lib.findings.shapes import (
    ArnIndex,
    denies,
    named_accounts,
    pattern_matches,
    ref,
    wildcard_grant,
    written,
)
from irsa_lib.graph.aws import Identity
from irsa_lib.graph.imds import imds_leg
from irsa_lib.graph.legs import Leg, best
from irsa_lib.graph.schema import NAME, PARAMETER_TYPE, Mechanism, role_id
from irsa_lib.model import ESOSecretStore, NodeGroup, OrgPolicy, Role, SSMParameter, Workload
from irsa_lib.policy.arn import account_of, normalize_resource
from irsa_lib.policy.document import Policy, PolicyKind, Statement
from irsa_lib.policy.patterns import has_wildcard
from irsa_lib.resolve import UnknownPrincipalError, parameter_paths

BPG_IAM = "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"
SSM_ACCESS = "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html"
KMS_DEFAULT = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
SM_EXAMPLES = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html"
EVAL_NOTE = (
    "Access is decided by the policy evaluator (identity policies, boundary, SCPs/RCPs, resource and key policies, "
    "grants) with the context the service sends (kms:ViaService, kms:CallerAccount, the encryption context); "
    "access that depends on other condition keys counts as conditional and says which keys decide it. Session "
    "policies are not known for these principals."
)


def service_of(name: str) -> str:
    """The service a parameter or secret belongs to: its first path component.

    >>> service_of("/billing/db/password"), service_of("payments/api-key"), service_of("legacy")
    ('billing', 'payments', 'legacy')
    """
    return name.strip("/").split("/", 1)[0]


def readable(ctx: FindingContext, principal: str) -> tuple[list[tuple[str, str, Reach]], list[tuple[str, str, Reach]]]:
    """(service, name, reach) of every SecureString parameter and secret the principal may read, and of
    those it can be judged on only with policies that were not collected.

    With a graph, its CAN_READ edges answer (so findings and access rows agree by construction);
    otherwise the same read + decrypt requests are asked for every value.
    """
    graph = ctx.graph
    if graph is not None and role_id(principal) in graph:
        answers = [
            (str(graph.node(v)[NAME]), from_leg(edge_leg(d), f"read {graph.node(v)[NAME]}"))
            for _, v, _, d in graph.edges(role_id(principal), mechanism=Mechanism.CAN_READ)
            if graph.node(v).get(PARAMETER_TYPE, "SecureString") == "SecureString"  # F30 judges plain text
        ]
    else:
        targets: list[Target] = [p for p in ctx.snapshot.ssm_parameters if p.type == "SecureString"]
        answers = [
            (t.name, read(ctx, principal, t))
            for t in [*targets, *ctx.snapshot.secrets]
            if not _unreadable_across_accounts(ctx, principal, t)
        ]
    found = [(service_of(name), name, r) for name, r in answers if r.possible]
    undecided = [(service_of(name), name, r) for name, r in answers if r.outcome == "unknown"]
    return found, undecided


def _unreadable_across_accounts(ctx: FindingContext, principal: str, t: Target) -> bool:
    """Every request reading ``t`` (the value's ARN, and for a parameter each ancestor path
    GetParametersByPath is authorised on) is denied across accounts: ``read`` would answer deny."""
    resources = [t.arn, *(a for _, a in parameter_paths(t))] if isinstance(t, SSMParameter) else [t.arn]
    return all(denied_across_accounts(ctx, principal, r) for r in resources)


def _reading_evidence(found: list[tuple[str, str, Reach]]) -> list[str]:
    ev = [f"{name} ({r.label}): {'; '.join(r.evidence)}" for _, name, r in found]
    missing = sorted({u for _, _, r in found for u in r.unknown})
    return [*limit(ev, 8), *([f"inputs missing: {limit(missing, 5)}"] if missing else [])]


def _missing(undecided: list[tuple[str, str, Reach]]) -> list[str]:
    return limit(sorted({u for _, _, r in undecided for u in r.unknown}), 5)


# --- F04 -------------------------------------------------------------------------------------------

F04 = RuleMeta(
    id="F04",
    slug="controller-role-reads-many-services",
    severity=Severity.CRITICAL,
    title="External-secrets controller identity itself reads services' secrets",
    why=(
        "The controller's own role (the KES/ESO controller IRSA role, or the role a store without auth falls "
        "back to) should only sts:AssumeRole into per-service roles. When it can read and decrypt secrets "
        "itself, every namespace the controller serves can materialise them without going through the "
        "service's role: with one service that bypasses its boundary, with several there is none at all."
    ),
    remediation=(
        "Give the controller role only sts:AssumeRole on per-service roles (KES spec.roleArn, ESO SecretStore role) "
        "and put read + decrypt on those roles, one per service."
    ),
    references=("https://external-secrets.io/latest/provider/aws-access/", BPG_IAM),
    scope=EVAL_NOTE + " Services are the first path component of parameter/secret names.",
)


def controller_roles(ctx: FindingContext) -> dict[str, list[str]]:
    """Role ARN -> why it is a controller identity."""
    out: dict[str, list[str]] = {}
    for c in ctx.snapshot.kes_controllers:
        arn, how = kes_identity(ctx, c)
        if arn:
            out.setdefault(arn, []).append(f"KES controller {c.namespace}/{c.name} ({how})")
    eso_roles: dict[str, str] = {}
    for ec in ctx.snapshot.eso_controllers:
        sa = ctx.service_accounts.get((ec.cluster, ec.namespace, ec.service_account))
        if sa is not None and sa.role_arn:
            eso_roles[ec.cluster] = sa.role_arn
            out.setdefault(sa.role_arn, []).append(f"ESO controller {ec.namespace}/{ec.name} (IRSA)")
    for s in ctx.snapshot.eso_stores:
        if s.provider == "aws" and not s.jwt and not s.secret_ref and not s.role and not s.additional_roles:
            arn = eso_roles.get(s.cluster)
            if arn:
                out[arn].append(f"{s.kind} {s.name} has no auth and no role: reads with the controller identity")
    return out


def check_f04(ctx: FindingContext) -> Iterator[Finding]:
    for arn, why in sorted(controller_roles(ctx).items()):
        if arn not in ctx.roles:
            continue
        found, undecided = readable(ctx, arn)
        services = sorted({svc for svc, _, _ in found})
        if not services and undecided:
            yield F04.unknown(arn, *why, "its reads of services' secrets cannot be judged", *_missing(undecided))
        if services:
            allowed = any(r.outcome == "allow" for _, _, r in found)
            sev = Severity.CRITICAL if allowed and len(services) >= 2 else Severity.HIGH
            yield F04.fail(
                arn,
                *why,
                f"reads secrets of {len(services)} service(s) directly: {services}",
                *_reading_evidence(found),
                severity=sev,
            )


# --- F05 -------------------------------------------------------------------------------------------

F05 = RuleMeta(
    id="F05",
    slug="node-role-reads-secrets-imds-reachable",
    severity=Severity.CRITICAL,
    title="Node instance role can read secrets and pods can reach IMDS",
    why=(
        "With IMDSv1 allowed, a hop limit of 2 or more, or hostNetwork pods, every pod on the node can take the "
        "instance role's credentials; secret read permissions on that role are then shared by all pods "
        "(AmazonSSMManagedInstanceCore alone grants ssm:GetParameter(s) on *, enough for aws/ssm-encrypted values)."
    ),
    remediation=(
        "Require IMDSv2 with hop limit 1 (http_tokens=required, http_put_response_hop_limit=1) and avoid hostNetwork; "
        "remove secret read permissions from node roles and give workloads their own IRSA/Pod Identity roles."
    ),
    references=(
        BPG_IAM,
        "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html",
    ),
    scope=EVAL_NOTE
    + " IMDS reachability is the graph's rule (IMDSv1 allowed, hop limit >= 2, or hostNetwork); unknown settings "
    "give an unknown finding. hostNetwork pods are not mapped to node groups: one in the cluster counts for every group.",
)


def imds_reach(ctx: FindingContext, ng: NodeGroup) -> Leg | None:
    """Whether pods on the node group reach instance metadata (the graph's rule), with the evidence.

    Any ordinary pod is probed, then every hostNetwork workload of the cluster; with a graph, the
    workloads it links to the node role are named too.
    """
    probe = Workload(cluster=ng.cluster_name, namespace="-", name="any pod", kind="Pod")
    host = [w for w in ctx.snapshot.workloads if w.cluster == ng.cluster_name and w.host_network]
    leg = best(imds_leg(ng, w) for w in (probe, *host))
    if leg is None or ctx.graph is None or ng.node_role_arn is None or role_id(ng.node_role_arn) not in ctx.graph:
        return leg
    pods = sorted(
        ctx.graph.label(u)
        for u, _, k, _ in ctx.graph.in_edges(role_id(ng.node_role_arn))
        if k == f"{Mechanism.NODE_IMDS}:{ng.name}"
    )
    return Leg(
        decision=leg.decision,
        evidence=(*leg.evidence, f"workloads reaching it: {limit(pods, 5)}") if pods else leg.evidence,
        unresolved=leg.unresolved,
    )


def check_f05(ctx: FindingContext) -> Iterator[Finding]:
    yield from unknown_from(F05, ctx.gaps("aws", "eks", "ec2"))
    for ng in ctx.snapshot.node_groups:
        if ng.kind == "fargate" or not ng.node_role_arn:
            continue
        if ng.node_role_arn not in ctx.roles:
            yield F05.unknown(ng.node_role_arn, f"node role of {ng.cluster_name}/{ng.name} was not collected")
            continue
        where = f"node group {ng.cluster_name}/{ng.name}"
        found, undecided = readable(ctx, ng.node_role_arn)
        if not found:
            if undecided:
                yield F05.unknown(
                    ng.node_role_arn,
                    f"whether the node role of {where} reads secrets cannot be judged",
                    *_missing(undecided),
                )
            continue
        imds = imds_reach(ctx, ng)
        if imds is None:
            continue
        if imds.decision == "conditional":
            yield F05.unknown(
                ng.node_role_arn,
                f"IMDS settings of {where} were not collected ({', '.join(imds.unresolved)})",
                f"the role reads {len(found)} secret(s)",
            )
            continue
        yield F05.fail(ng.node_role_arn, *imds.evidence, *_reading_evidence(found))


# --- F06 -------------------------------------------------------------------------------------------

F06 = RuleMeta(
    id="F06",
    slug="default-aws-managed-key",
    severity=Severity.HIGH,
    title="Secret encrypted with the AWS managed key (aws/ssm or aws/secretsmanager)",
    why=(
        "The AWS managed keys let every principal of the account decrypt through the service, so reading the value "
        "depends on ssm:GetParameter*/secretsmanager:GetSecretValue alone: no key-level isolation between services."
    ),
    remediation="Re-encrypt with a customer managed key per service whose key policy names only that service's role (and admins).",
    references=(
        "https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html",
    ),
    scope="Cannot know whether the design expects per-service isolation: every SecureString/secret on an AWS managed key is reported.",
)


def check_f06(ctx: FindingContext) -> Iterator[Finding]:
    targets: list[tuple[str, Target, str | None, str]] = [
        ("SecureString", p, p.key_id, "alias/aws/ssm") for p in ctx.snapshot.ssm_parameters if p.type == "SecureString"
    ]
    targets += [("secret", s, s.kms_key_id, "alias/aws/secretsmanager") for s in ctx.snapshot.secrets]
    for kind, t, key_ref, default in targets:
        key, _, managed = ctx.aws.key_for(t)
        shown = key_ref or f"{default} (default)"
        if managed is not None:
            yield F06.fail(t.arn, f"{kind} {t.name} is encrypted with {shown}")
        elif key is None and ctx.gaps("aws", "kms"):
            yield F06.unknown(t.arn, f"key {shown} of {t.name} was not collected (KMS coverage incomplete)")


# --- F07 -------------------------------------------------------------------------------------------

F07 = RuleMeta(
    id="F07",
    slug="cmk-root-delegation-broad-decrypt",
    severity=Severity.HIGH,
    title="Customer managed key delegates to IAM while principals hold kms:Decrypt on wildcards",
    why=(
        "A key policy allowing the account root (the 'Enable IAM policies' statement) makes every IAM Allow for "
        "kms:Decrypt effective; principals with kms:Decrypt on * (administrators, PowerUser-style NotAction "
        "policies, custom wildcards) can then decrypt the service's secrets: isolation rests on IAM, not the key."
    ),
    remediation=(
        "Name the service role (and key administrators) in the key policy instead of the account root, or narrow "
        "IAM kms:Decrypt grants to specific key ARNs, with kms:ViaService / encryption-context conditions."
    ),
    references=(KMS_DEFAULT, "https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html"),
    scope=(
        "Only keys that encrypt collected parameters or secrets are judged; wildcard grants are read from identity "
        "policies of collected roles and users, and the evaluator confirms each holder can decrypt one of the key's "
        "values through the service."
    ),
)


def check_f07(ctx: FindingContext) -> Iterator[Finding]:
    used: dict[str, list[Target]] = {}
    secure: list[Target] = [p for p in ctx.snapshot.ssm_parameters if p.type == "SecureString"]
    for t in [*secure, *ctx.snapshot.secrets]:
        k, _, _ = ctx.aws.key_for(t)
        if k is not None:
            used.setdefault(k.arn, []).append(t)
    for key in ctx.snapshot.kms_keys:
        if key.manager != "CUSTOMER" or key.arn not in used:
            continue
        policy = ctx.key_policy(key)
        if policy is None:
            yield F07.unknown(key.arn, "key policy was not collected (or is malformed)")
            continue
        roots = [
            st
            for st in policy.statements
            if st.effect == "Allow" and st.matches_action("kms:decrypt") and key.account_id in named_accounts(st)
        ]
        if not roots:
            continue
        sample = used[key.arn][0]
        broad = []
        for arn, policies in ctx.pattern_holders(key.account_id, "kms:Decrypt", key.arn):
            for p in policies:
                shown = wildcard_grant(p, "kms:Decrypt", key.arn)
                if shown is None:
                    continue
                if decrypt(ctx, arn, sample).possible:
                    broad.append(f"{arn}: {shown}")
                break
        if broad:
            names = sorted(t.name for t in used[key.arn])
            yield F07.fail(
                key.arn,
                f"{ref(roots[0])} allows account {key.account_id} (root): IAM policies decide",
                f"encrypts {len(names)} secret(s): {limit(names, 5)}",
                *limit(broad),
            )


# --- F15 / F16 / F17 ------------------------------------------------------------------------------

F15 = RuleMeta(
    id="F15",
    slug="ssm-path-wildcard-crosses-services",
    severity=Severity.MEDIUM,
    title="Parameter path wildcard or by-path grant reaches other services' subtrees",
    why=(
        "parameter/* or parameter/app* (no trailing slash) matches other services' parameters; GetParametersByPath "
        "is authorised on the path, so a Deny on /a/b does not stop GetParametersByPath /a from returning it."
    ),
    remediation="Grant parameter/<service>/* per service (with the trailing slash) and do not rely on sub-path Denies under a by-path grant.",
    references=(SSM_ACCESS,),
    scope=EVAL_NOTE
    + " Only Resource patterns naming parameters (':parameter') are judged; Resource '*' is left to F04/F05.",
)

SSM_READS = ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath")


def _principals(ctx: FindingContext) -> list[str]:
    return [*ctx.roles, *ctx.users]


def _only_own_account(ctx: FindingContext, q: SSMParameter) -> str | None:
    """The account ``q`` can be read from only, when it is known to have no resource policy; else None.

    Across accounts both the principal's policies and a resource-based policy must allow (IAM
    evaluation logic, "Cross-account policy evaluation"); a parameter whose policies were read and
    found empty allows nothing, so a principal of any other account is denied whatever its own
    policies say. The evaluator decides the same way (its rule 3: with no resource policy the
    cross-account allow is false, which is a deny, or an "unknown" when inputs are missing, never
    a possible read), so those questions need not be put to it. Record and accounts are the ones
    the evaluator uses: the inventory's record for the ARN and the ARN's account component.
    """
    rec = ctx.inventory.parameters.get(normalize_resource(q.arn))
    if rec is None or not rec.resource_policy_readable or rec.resource_policies:
        return None
    return account_of(q.arn)


class _Matched:
    """The parameters of one service that one pattern matches, split by who could read them."""

    __slots__ = ("anyone", "own", "params")

    def __init__(self) -> None:
        self.params: list[SSMParameter] = []
        self.anyone: list[SSMParameter] = []
        """May be readable from any account (resource policy, unread policies, no account in the ARN)."""
        self.own: dict[str, list[SSMParameter]] = {}
        """Readable only by principals of this account (no resource policy)."""

    def add(self, q: SSMParameter, only: str | None) -> None:
        self.params.append(q)
        if only is None:
            self.anyone.append(q)
        else:
            self.own.setdefault(only, []).append(q)

    def candidates(self, account: str | None) -> list[SSMParameter]:
        """The parameters a principal of ``account`` (None: unknown) might read; the others it cannot."""
        if account is None:
            return self.params
        return [*self.own.get(account, ()), *self.anyone]


class _SsmReads:
    """The SecureString parameters by Resource pattern, grouped by service, and one principal's answers.

    ``groups(pattern)``: service -> the parameters it matches (found through an :class:`ArnIndex`,
    cached across principals). ``possible(arn, action, q)``: the evaluator's answer for one
    parameter, asked at most once per (principal, action, parameter) whichever pattern needs it.
    The answers of one principal are kept while it is asked about, and never in the context's or
    the evaluator's caches: a principal whose pattern spans services it cannot read is asked about
    each of their parameters, and across an organisation's principals those answers would grow with
    principals x parameters (an organisation of 100,000 roles held gigabytes of them).
    """

    def __init__(self, ctx: FindingContext, secure: list[SSMParameter]) -> None:
        self.ctx = ctx
        self.index: ArnIndex[SSMParameter] = ArnIndex((q.arn, q) for q in secure)
        self._only = {id(q): _only_own_account(ctx, q) for q in secure}
        self._groups: dict[str, dict[str, _Matched]] = {}
        self._grants: dict[int, list[tuple[Statement, str, str]]] = {}
        self._denies: dict[int, list[Statement]] = {}
        self._answers_of = ""
        self._answers: dict[tuple[str, int], bool] = {}

    def wildcard_grants(self, policy: Policy) -> list[tuple[Statement, str, str]]:
        """(statement, first SSM read action it allows, wildcard parameter pattern) of ``policy``: read
        once per policy however many principals hold it (a managed policy is held by hundreds)."""
        hit = self._grants.get(id(policy))
        if hit is None:
            hit = self._grants[id(policy)] = []
            for st in policy.statements:
                action = next((a for a in SSM_READS if st.effect == "Allow" and st.matches_action(a.lower())), None)
                if action is not None:
                    hit.extend(
                        (st, action, pat)
                        for pat in written(policy, st, "Resource")
                        if ":parameter" in pat and has_wildcard(pat)
                    )
        return hit

    def bypassable_denies(self, policy: Policy) -> list[Statement]:
        """The statements of ``policy`` that deny GetParameter(s) but not GetParametersByPath (once per policy)."""
        hit = self._denies.get(id(policy))
        if hit is None:
            hit = self._denies[id(policy)] = [
                st
                for st in policy.statements
                if (denies(st, "ssm:GetParameter") or denies(st, "ssm:GetParameters"))
                and not denies(st, "ssm:GetParametersByPath")
            ]
        return hit

    def groups(self, pattern: str) -> dict[str, _Matched]:
        hit = self._groups.get(pattern)
        if hit is None:
            hit = self._groups[pattern] = {}
            for q in self.index.matching(pattern):
                hit.setdefault(service_of(q.name), _Matched()).add(q, self._only[id(q)])
        return hit

    def possible(self, arn: str, action: str, q: SSMParameter) -> bool:
        if arn != self._answers_of:
            self._answers_of, self._answers = arn, {}
        key = (action, id(q))
        hit = self._answers.get(key)
        if hit is None:
            hit = self._answers[key] = ask(self.ctx, arn, action, q.arn, keep=False).possible
        return hit


def _path_grants(ctx: FindingContext, arn: str, reads: _SsmReads) -> Iterator[str]:
    """Wildcard parameter patterns of ``arn``'s Allows that reach parameters of several services.

    A service counts as soon as one of its parameters is both matched and readable (the rest need
    not be asked); a pattern matching parameters of fewer than two services cannot qualify, so its
    parameters are not asked about at all; parameters only their own account can read are not
    asked about for principals of other accounts.
    """
    account = ctx.principal_account(arn)
    for p in ctx.identity_policies(arn):
        for st, action, pat in reads.wildcard_grants(p):
            groups = reads.groups(pat)
            if len(groups) < 2:
                continue
            svcs = sorted(
                svc for svc, m in groups.items() if any(reads.possible(arn, action, q) for q in m.candidates(account))
            )
            if len(svcs) >= 2:
                yield f"{ref(st)}: {pat} matches parameters of {len(svcs)} services {limit(svcs, 8)}"


def _bypassed_denies(ctx: FindingContext, arn: str, reads: _SsmReads) -> Iterator[str]:
    """GetParameter Denies on a parameter that GetParametersByPath on an ancestor path still returns."""
    for p in ctx.identity_policies(arn):
        for st in reads.bypassable_denies(p):
            for q in reads.index.matching_any(written(p, st, "Resource")):
                for path, _ in parameter_paths(q):
                    via = ctx.aws.read(Identity(arn), q, ("ssm:GetParametersByPath",), path=path)
                    if via is not None:
                        yield (
                            f"{ref(st)} denies {q.name}, but GetParametersByPath on {path} is {via.leg.decision} "
                            "and returns it (decryptable)"
                        )
                        break


def check_f15(ctx: FindingContext) -> Iterator[Finding]:
    reads = _SsmReads(ctx, [p for p in ctx.snapshot.ssm_parameters if p.type == "SecureString"])
    for arn in _principals(ctx):
        ev = list(_path_grants(ctx, arn, reads))
        bypass = list(_bypassed_denies(ctx, arn, reads))
        if ev or bypass:
            yield F15.fail(arn, *limit(ev + bypass), severity=Severity.HIGH if bypass else None)


F16 = RuleMeta(
    id="F16",
    slug="parameter-history-bypasses-deny",
    severity=Severity.MEDIUM,
    title="ssm:GetParameterHistory granted where ssm:GetParameter is denied",
    why="GetParameterHistory returns current and past values, SecureString included: a GetParameter Deny does not protect the value.",
    remediation="Deny (or do not grant) ssm:GetParameterHistory wherever GetParameter is denied; prefer ssm:GetParameter* in Denies.",
    references=(SSM_ACCESS,),
    scope=EVAL_NOTE
    + " Only explicit GetParameter Denies are judged (an absent grant is not treated as an intended restriction): "
    "principals whose identity policies deny ssm:GetParameter are examined, and a parameter counts when the "
    "evaluator's GetParameter answer is an explicit deny (from any layer) while history read + decrypt is possible.",
)


def _may_allow(ctx: FindingContext, arn: str, action: str) -> bool:
    """Could ``arn``'s identity policies allow ``action`` on anything? False only when all of them
    were read and no Allow statement names a matching action (then only a resource policy could)."""
    try:
        policies, _, missing = ctx.inventory.identity(arn)
    except UnknownPrincipalError:
        return True
    if missing:
        return True
    act = action.lower()
    return any(st.effect == "Allow" and st.matches_action(act) for p in policies for st in p.statements)


class _Askable:
    """The parameters a principal of an account must be asked about, in snapshot order: all but those
    :func:`denied_across_accounts` rules out (another account's, known to have no resource policy),
    found per account rather than by testing every parameter for every principal."""

    def __init__(self, ctx: FindingContext) -> None:
        self.params = ctx.snapshot.ssm_parameters
        self._open: list[int] = []
        self._by_account: dict[str, list[int]] = {}
        for i, q in enumerate(self.params):
            account = account_of(q.arn)
            closed = None if account is None else ctx.inventory.closed_account(q.arn)
            if account is None or closed is None:
                self._open.append(i)  # any principal may be granted it
            else:  # asked about by principals of its own account (and of the one it is closed to)
                self._by_account.setdefault(account, []).append(i)
                if closed != account:
                    self._by_account.setdefault(closed, []).append(i)
        self._lists: dict[str, list[SSMParameter]] = {}

    def of(self, account: str | None) -> Sequence[SSMParameter]:
        if account is None:
            return self.params
        hit = self._lists.get(account)
        if hit is None:
            merged = heapq.merge(self._open, self._by_account.get(account, ()))
            hit = self._lists[account] = [self.params[i] for i in merged]
        return hit


def check_f16(ctx: FindingContext) -> Iterator[Finding]:
    askable: _Askable | None = None
    for arn in _principals(ctx):
        if not any(denies(st, "ssm:GetParameter") for p in ctx.identity_policies(arn) for st in p.statements):
            continue
        hits = []
        history = _may_allow(ctx, arn, "ssm:GetParameterHistory")
        askable = askable or _Askable(ctx)
        for p in askable.of(ctx.principal_account(arn)):
            if not history and not p.resource_policies and p.resource_policy_readable:
                continue  # nothing grants history: neither an identity policy nor this parameter's own
            if not decide(ctx, arn, "ssm:GetParameter", p.arn, keep=False).explicit_deny:
                continue  # asked once per principal and parameter: not kept (see _SsmReads)
            hist = read(ctx, arn, p, ("ssm:GetParameterHistory",))
            if hist.possible:
                hits.append(
                    f"{p.name}: GetParameter denied, GetParameterHistory {hist.label} ({'; '.join(hist.evidence)})"
                )
        if hits:
            yield F16.fail(arn, *limit(hits))


F17 = RuleMeta(
    id="F17",
    slug="secretsmanager-arn-wildcard",
    severity=Severity.LOW,
    title="Secrets Manager ARN written as name-* or granted to a secret that does not exist",
    why=(
        "Secret ARNs end in '-' plus six random characters: name-?????? is exact, name-* also matches name-admin-AbCdEf; "
        "a grant on a name that does not exist applies to whoever creates that secret later."
    ),
    remediation="Write secret ARNs as arn:...:secret:<name>-?????? and remove grants to secrets that no longer exist.",
    references=(SM_EXAMPLES,),
    scope="Judges identity policies of collected roles/users and customer managed policies; grants to missing names are judged only in collected regions/accounts.",
)


def _sm_patterns(ctx: FindingContext) -> Iterator[tuple[str, str, str]]:
    for owner, p in ctx.written_policies():
        for st in p.statements:
            for r in written(p, st, "Resource") if st.effect == "Allow" else ():
                yield owner, ref(st), r


def check_f17(ctx: FindingContext) -> Iterator[Finding]:
    secrets = ctx.snapshot.secrets
    regions = {(s.account_id, s.region) for s in secrets} | {
        tuple(c.scope.split("/", 1))
        for c in ctx.snapshot.coverage
        if c.source == "aws" and c.service.startswith("secretsmanager") and c.complete
    }
    index = ArnIndex((s.arn, s) for s in secrets)
    by_owner: dict[str, list[str]] = {}
    for owner, where, pat in _sm_patterns(ctx):
        if ":secretsmanager:" not in pat or ":secret:" not in pat:
            continue
        name = pat.split(":secret:", 1)[1]
        if name in ("*", ""):
            continue
        parts = pat.split(":")
        if name.endswith("*") and not name.endswith("??????"):
            exact = pat.rstrip("*").rstrip("-") + "-??????"
            over = [s.name for s in index.matching(pat) if not pattern_matches(exact, s.arn)]
            extra = f"; it also matches {limit(over, 5)}" if over else ""
            by_owner.setdefault(owner, []).append(f"{where}: {pat} over-matches (use -??????){extra}")
        elif name.endswith("-??????") and "*" not in name:
            region_known = (parts[4], parts[3]) in regions if len(parts) > 5 else False
            if region_known and not index.matching(pat):
                by_owner.setdefault(owner, []).append(f"{where}: {pat} names a secret that does not exist")
    for owner, ev in sorted(by_owner.items()):
        yield F17.fail(owner, *limit(ev))


# --- F22 / F26 / F27 --------------------------------------------------------------------------------

F22 = RuleMeta(
    id="F22",
    slug="chained-role-long-session",
    severity=Severity.INFO,
    title="Role reached only through role chaining has a maximum session above one hour",
    why=(
        "Role chaining (KES roleArn, intermediate roles, ESO additionalRoles/role, Pod Identity targetRoleArn) caps "
        "sessions at one hour; a MaxSessionDuration above 3600 suggests longer sessions are expected, and "
        "DurationSeconds > 3600 fails."
    ),
    remediation="Request sessions of at most 3600 seconds on chained hops (or reduce MaxSessionDuration to make the limit explicit).",
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html#id_roles_use_view-role-max-session",
    ),
    scope="The DurationSeconds callers request is not visible; MaxSessionDuration is the proxy.",
)


def chained_roles(ctx: FindingContext) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in ctx.snapshot.kes_external_secrets:
        if e.role_arn:
            out.setdefault(e.role_arn, []).append(f"KES ExternalSecret {e.namespace}/{e.name} spec.roleArn")
    for c in ctx.snapshot.kes_controllers:
        if c.intermediate_role_arn:
            out.setdefault(c.intermediate_role_arn, []).append(f"KES {c.namespace}/{c.name} AWS_INTERMEDIATE_ROLE_ARN")
    for s in ctx.snapshot.eso_stores:
        for a in (*s.additional_roles, *([s.role] if s.role else [])):
            out.setdefault(a, []).append(f"{s.kind} {s.name} role chain")
    for pia in ctx.snapshot.pod_identity_associations:
        if pia.target_role_arn:
            out.setdefault(pia.target_role_arn, []).append(
                f"Pod Identity {pia.namespace}/{pia.service_account} targetRoleArn"
            )
    return out


def check_f22(ctx: FindingContext) -> Iterator[Finding]:
    for arn, why in sorted(chained_roles(ctx).items()):
        role = ctx.roles.get(arn)
        if role is not None and role.max_session_duration > 3600:
            yield F22.fail(
                arn,
                f"MaxSessionDuration {role.max_session_duration}s, but chained sessions last at most 3600s",
                *limit(sorted(set(why)), 5),
            )


F26 = RuleMeta(
    id="F26",
    slug="eso-push-to-other-services",
    severity=Severity.HIGH,
    title="Tenants can PushSecret through a store whose role writes other services' secrets",
    why=(
        "PushSecret writes a Kubernetes Secret to the provider with the store's credentials: a tenant allowed to "
        "create PushSecrets through a store whose role may ssm:PutParameter / secretsmanager:PutSecretValue on "
        "another service's keys can overwrite (poison) that service's secrets."
    ),
    remediation="Give store roles read-only permissions; use a separate, namespace-scoped store and role for PushSecret with write access to that namespace's own path only.",
    references=(
        "https://external-secrets.io/latest/api/pushsecret/",
        "https://external-secrets.io/latest/guides/security-best-practices/",
    ),
    scope=EVAL_NOTE
    + " Generators are not collected. 'Other services' are services (first path component) other than the store's namespace.",
)


def store_role(ctx: FindingContext, s: ESOSecretStore) -> str | None:
    if s.role:
        return s.role
    if s.jwt and s.namespace:
        sa = ctx.service_accounts.get((s.cluster, s.jwt.namespace or s.namespace, s.jwt.service_account))
        return sa.role_arn if sa else None
    for c in ctx.snapshot.eso_controllers:
        sa = ctx.service_accounts.get((c.cluster, c.namespace, c.service_account))
        if c.cluster == s.cluster and sa is not None and sa.role_arn and not s.secret_ref:
            return sa.role_arn
    return None


def _writable(ctx: FindingContext, arn: str, own: frozenset[str]) -> list[str]:
    """The values of services other than ``own`` that ``arn`` may overwrite. Asked once per role and
    value, the answers are not kept (they would grow with store roles x values)."""
    writable = [
        p.name
        for p in ctx.snapshot.ssm_parameters
        if service_of(p.name) not in own and ask(ctx, arn, "ssm:PutParameter", p.arn, keep=False).possible
    ]
    writable.extend(
        sec.name
        for sec in ctx.snapshot.secrets
        if service_of(sec.name) not in own
        and ask(ctx, arn, "secretsmanager:PutSecretValue", sec.arn, keep=False).possible
    )
    return writable


def check_f26(ctx: FindingContext) -> Iterator[Finding]:
    if not ctx.snapshot.eso_stores:
        return
    yield from unknown_from(F26, ctx.k8s_gaps(*RBAC_KINDS))
    rbac = RBACIndex(ctx.snapshot)
    written_by: dict[tuple[str, frozenset[str]], list[str]] = {}
    for s in ctx.snapshot.eso_stores:
        arn = store_role(ctx, s)
        if s.provider != "aws" or not arn or arn not in ctx.roles:
            continue
        spaces = (
            [s.namespace]
            if s.namespace
            else sorted({n.name for n in ctx.snapshot.namespaces if n.cluster == s.cluster})
        )
        pushers = []
        for ns in spaces:
            pushers += [
                g.describe()
                for g in rbac.tenant_grants(
                    s.cluster, ns, ("create", "update", "patch"), "external-secrets.io", "pushsecrets"
                )
            ]
        if not pushers:
            continue
        own = frozenset(spaces) if s.namespace else frozenset()
        writable = written_by.get((arn, own))
        if writable is None:
            writable = written_by[arn, own] = _writable(ctx, arn, own)
        if writable:
            yield F26.fail(
                k8s_id(s.cluster, s.kind, s.name, s.namespace),
                f"store role {arn} may write {len(writable)} secret(s) of other services: {limit(sorted(writable), 6)}",
                *limit(pushers, 6),
            )


F27 = RuleMeta(
    id="F27",
    slug="guardrails-present-verify",
    severity=Severity.INFO,
    title="SCPs, RCPs or permission boundaries shape access: verify the expected denies hold",
    why=(
        "Organisation policies and boundaries are evaluation inputs that can silently widen or narrow access; "
        "listing them lets a reviewer check that the intended denies (e.g. an RCP blocking non-organisation "
        "principals on KMS) are really in place."
    ),
    remediation="Review the listed guardrails against the intended design; add tests for the denies you rely on.",
    references=(
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
    ),
    scope="Informational: it lists guardrails, it does not judge whether they are right (the access rows apply them).",
)


def _deny_count(ctx: FindingContext, levels: tuple[tuple[OrgPolicy, ...], ...] | None, kind: PolicyKind) -> list[str]:
    out = []
    for level in levels or ():
        for pol in level:
            parsed = ctx.parsed(
                pol.document, source=f"{kind} {pol.name} ({pol.policy_id}) on {pol.target_id}", kind=kind
            )
            n = sum(1 for st in parsed.statements if st.effect == "Deny") if parsed else 0
            if n:
                out.append(f"{pol.name} ({n} Deny statement(s), attached to {pol.target_id})")
    return out


def check_f27(ctx: FindingContext) -> Iterator[Finding]:
    bounded: dict[str, list[Role]] = {}
    for r in ctx.snapshot.roles:
        if r.permissions_boundary_arn:
            bounded.setdefault(r.account_id, []).append(r)
    for acct in ctx.snapshot.accounts:
        rid = f"arn:aws:iam::{acct.account_id}:root"
        if acct.management_account:
            continue
        if acct.organization_id and (acct.scps is None or acct.rcps is None):
            missing = [n for n, v in (("SCPs", acct.scps), ("RCPs", acct.rcps)) if v is None]
            yield F27.unknown(rid, f"{' and '.join(missing)} of account {acct.account_id} were not readable")
            continue
        ev = [f"SCP {d}" for d in _deny_count(ctx, acct.scps, "scp")]
        ev += [f"RCP {d}" for d in _deny_count(ctx, acct.rcps, "rcp")]
        roles = bounded.get(acct.account_id, [])
        if roles:
            ev.append(f"{len(roles)} role(s) with permission boundaries: {limit(sorted(r.name for r in roles), 5)}")
        if ev:
            yield F27.fail(rid, *ev)


RULES = (
    Rule(F04, check_f04),
    Rule(F05, check_f05),
    Rule(F06, check_f06),
    Rule(F07, check_f07),
    Rule(F15, check_f15),
    Rule(F16, check_f16),
    Rule(F17, check_f17),
    Rule(F22, check_f22),
    Rule(F26, check_f26),
    Rule(F27, check_f27),
)
