"""kubernetes-external-secrets (KES): ExternalSecret -> value through the controller's chain.

The controller's credentials are its pod's SDK default chain (IRSA, Pod Identity, then node
IMDS), then ``AWS_INTERMEDIATE_ROLE_ARN`` when set, then ``spec.roleArn`` (RoleSessionName
``k8s-external-secrets``); without ``roleArn`` the controller's own identity reads. ``roleArn`` is
gated by the namespace's permitted-role annotation (``iam.amazonaws.com/permitted`` unless
``ROLE_PERMITTED_ANNOTATION`` says otherwise) when the annotation exists or
``ENFORCE_NAMESPACE_ANNOTATIONS`` is set. The regex is unanchored JavaScript ``RegExp.test``, written by
whoever may annotate the namespace: it is evaluated with RE2 (:mod:`irsa_lib.userregex`, linear time),
and one RE2 cannot evaluate as JavaScript would makes the gate unknown (a conditional leg naming the
annotation), neither open nor closed. ``WATCHED_NAMESPACES`` and ``controllerId`` / ``INSTANCE_ID`` filter which
ExternalSecrets a controller serves (an ExternalSecret or controller without an id is kept: the
graph over-approximates rather than miss a path).

Key names are gated too: the namespace's key-name annotation
(``externalsecrets.kubernetes-client.io/permitted-key-name`` unless ``NAMING_PERMITTED_ANNOTATION``
says otherwise) is a regex tested against every ``data[].key``, ``data[].path`` and ``dataFrom[]``
entry; one miss and the whole ExternalSecret is refused. ``dataFromWithOptions`` keys are not
tested (domain-spec §1.5), so an ExternalSecret someone could create may still name any value
there; KES then merges it only if the value is a JSON object, which cannot be known statically:
such reads are ``conditional`` on ``kes:dataFromWithOptions-json-object``.

Each ExternalSecret gets one ``kes-read`` edge per value it fetches (``via`` = the chain) and its
Secret a ``materialised-from`` edge. The synthetic ``kes-es:<cluster>/<ns>/*`` node ("an
ExternalSecret someone could create in <ns>") gets ``kes-assumes`` edges to every role the
controller would assume for that namespace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from irsa_lib.graph.aws import SecretRecord, account_of, consumer_actions
from irsa_lib.graph.chains import (
    Admission,
    add_controller_read,
    add_synthetic_reads,
    extend,
    note_missing_role,
    rebase,
)
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import ALLOW, Leg, combine
from irsa_lib.graph.nodes import external_secret_node, k8s_secret_node
from irsa_lib.graph.schema import (
    EdgeData,
    Mechanism,
)
from irsa_lib.model import KESController, KESExternalSecret, SSMParameter
from irsa_lib.resolve import parameter_paths
from irsa_lib.userregex import RegexError, UserRegex, compile_regex

SESSION_NAME = "k8s-external-secrets"
DEFAULT_REGION = "us-west-2"


def role_gate(ctx: BuildContext, controller: KESController, namespace: str, role_arn: str) -> Leg | None:
    """Does the namespace allow ``role_arn`` (KES ``_isPermitted``)? None when it does not."""
    key = controller.role_permitted_annotation
    rx, undecided = _regex_gate(ctx, controller, namespace, key)
    if undecided is not None:
        return undecided
    if rx is not None:
        if not rx.search(role_arn):
            return None
        return Leg(
            decision="allow",
            evidence=(f"namespace {namespace}: annotation {key}={rx.pattern!r} matches {role_arn} (unanchored regex)",),
        )
    if key in ctx.namespaces[(controller.cluster, namespace)].annotations:
        return Leg(decision="allow", evidence=(f"namespace {namespace}: an empty {key} annotation allows every role",))
    if controller.enforce_namespace_annotations:
        return None
    return Leg(
        decision="allow",
        evidence=(f"namespace {namespace} has no {key} annotation and ENFORCE_NAMESPACE_ANNOTATIONS is not set",),
    )


def _regex_gate(
    ctx: BuildContext, controller: KESController, namespace: str, annotation: str
) -> tuple[UserRegex | None, Leg | None]:
    """The namespace's regex for ``annotation``: (compiled or None when absent/empty, or an
    undecidable leg when the namespace is unknown or the regex unreadable)."""
    ns = ctx.namespaces.get((controller.cluster, namespace))
    unknown = (f"namespace-annotation:{annotation}",)
    if ns is None:
        return None, Leg(
            decision="conditional",
            evidence=(f"namespace {namespace} not in the snapshot: its {annotation} annotation is unknown",),
            unresolved=unknown,
        )
    pattern = ns.annotations.get(annotation)
    if not pattern:
        return None, None
    try:
        return compile_regex(pattern, dialect="javascript"), None
    except RegexError as exc:
        return None, Leg(
            decision="conditional",
            evidence=(f"namespace {namespace}: annotation {annotation}={pattern!r} cannot be evaluated: {exc}",),
            unresolved=unknown,
        )


def naming_gate(ctx: BuildContext, controller: KESController, namespace: str, keys: list[str]) -> Leg | None:
    """Does the namespace's key-name regex admit every one of ``keys``? None when one fails."""
    annotation = controller.naming_permitted_annotation
    rx, undecided = _regex_gate(ctx, controller, namespace, annotation)
    if undecided is not None:
        return undecided
    if rx is None:
        return ALLOW
    missed = [k for k in keys if not rx.search(k)]
    if missed:
        return None
    return Leg(
        decision="allow",
        evidence=(f"namespace {namespace}: {annotation}={rx.pattern!r} admits {', '.join(keys)} (unanchored regex)",),
    )


def gated_keys(es: KESExternalSecret) -> list[str]:
    """What KES tests against the key-name regex: data[].key, data[].path, dataFrom[] (not WithOptions)."""
    return [*(d.key for d in es.data if d.key), *(d.path for d in es.data if d.path), *es.data_from]


def _key_admissions(
    ctx: BuildContext, controller: KESController, namespace: str
) -> Callable[[SecretRecord], list[Admission]] | None:
    """How an ExternalSecret someone could create in ``namespace`` may name each value, under the
    key-name regex (None: no regex, any way)."""
    annotation = controller.naming_permitted_annotation
    rx, undecided = _regex_gate(ctx, controller, namespace, annotation)
    if rx is None and undecided is None:
        return None
    with_options = Leg(
        decision="conditional",
        evidence=(
            f"namespace {namespace}: {annotation} does not check dataFromWithOptions keys; KES merges such a "
            "value only if it is a JSON object",
        ),
        unresolved=("kes:dataFromWithOptions-json-object",),
    )

    def admit(target: SecretRecord) -> list[Admission]:
        single = consumer_actions("kes", target)
        if undecided is not None:
            return [(single, None, undecided)]
        assert rx is not None
        out: list[Admission] = []
        for form in (target.name, target.arn):
            if rx.search(form):
                why = f"namespace {namespace}: {annotation}={rx.pattern!r} admits key {form} (unanchored regex)"
                out.append((single, None, Leg(decision="allow", evidence=(why,))))
                break
        if isinstance(target, SSMParameter):
            for path, _ in parameter_paths(target):
                if rx.search(path):
                    why = f"namespace {namespace}: {annotation}={rx.pattern!r} admits path {path} (unanchored regex)"
                    out.append(
                        (consumer_actions("kes", target, by_path=True), path, Leg(decision="allow", evidence=(why,)))
                    )
        return out or [(single, None, with_options)]

    return admit


_META = set(".^$*+?()[]{}|\\")


def anchored_literal(pattern: str) -> str | None:
    """The one string an anchored, metacharacter-free pattern (``^...$``) matches, else None.

    Lets the synthetic-namespace pass look the permitted role up instead of testing every
    candidate role against the namespace's regex (which would be namespaces x roles).
    """
    if len(pattern) < 2 or not pattern.startswith("^") or not pattern.endswith("$"):
        return None
    body = pattern[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and not body[i + 1].isalnum():
            out.append(body[i + 1])
            i += 2
            continue
        if ch in _META:
            return None
        out.append(ch)
        i += 1
    return "".join(out)


def _gate_candidates(ctx: BuildContext, c: KESController, namespace: str, candidates: list[str]) -> list[str]:
    ns = ctx.namespaces.get((c.cluster, namespace))
    pattern = ns.annotations.get(c.role_permitted_annotation) if ns else None
    literal = anchored_literal(pattern) if pattern is not None else None
    if literal is not None:
        return [literal] if literal in candidates else []
    return candidates


def serves(controller: KESController, es: KESExternalSecret) -> bool:
    if controller.cluster != es.cluster:
        return False
    if controller.watched_namespaces and es.namespace not in controller.watched_namespaces:
        return False
    return not (es.controller_id and controller.instance_id and es.controller_id != controller.instance_id)


def base_chains(ctx: BuildContext, c: KESController) -> list[Reach]:
    """The controller's own identity, then the intermediate role when configured."""
    sa_node = ctx.sa_node(c.cluster, c.namespace, c.service_account)
    chains = [rebase(sa_node, r) for r in ctx.default_chain(c.cluster, c.namespace, c.service_account)]
    if not chains:
        ctx.graph.add_gap(
            Gap(
                what=f"KES controller {c.namespace}/{c.name}: no AWS identity found for its service account",
                cluster=c.cluster,
            )
        )
    if c.intermediate_role_arn:
        note_missing_role(ctx, c.intermediate_role_arn, c.cluster, f"KES controller {c.namespace}/{c.name}")
        chains = [
            r
            for r in (
                extend(
                    ctx,
                    chain,
                    c.intermediate_role_arn,
                    what=f"AWS_INTERMEDIATE_ROLE_ARN of KES {c.namespace}/{c.name}: sts:AssumeRole "
                    f"{chain.identity.role_arn} -> {c.intermediate_role_arn}",
                )
                for chain in chains
            )
            if r is not None
        ]
    return chains


def _role_chains(ctx: BuildContext, c: KESController, bases: list[Reach], namespace: str, role_arn: str) -> list[Reach]:
    gate = role_gate(ctx, c, namespace, role_arn)
    if gate is None:
        return []
    out = []
    for chain in bases:
        r = extend(
            ctx,
            chain,
            role_arn,
            context={"sts:RoleSessionName": SESSION_NAME},
            what=f"KES spec.roleArn: sts:AssumeRole {chain.identity.role_arn} -> {role_arn}",
            extra_legs=(gate,),
        )
        if r is not None:
            out.append(r)
    return out


def fetches(
    ctx: BuildContext, es: KESExternalSecret, account: str, region: str
) -> list[tuple[SecretRecord, tuple[str, ...], str | None, str]]:
    """(value, actions, by-path path, manifest field) for every value the ExternalSecret names."""
    out: list[tuple[SecretRecord, tuple[str, ...], str | None, str]] = []
    ssm = es.backend_type == "systemManager"
    keys = [(d.key, f"data[{i}].key") for i, d in enumerate(es.data) if d.key]
    keys += [(k, f"dataFrom[{i}]") for i, k in enumerate(es.data_from)]
    keys += [(d.key, f"dataFromWithOptions[{i}].key") for i, d in enumerate(es.data_from_with_options) if d.key]
    for key, field in keys:
        assert key is not None
        target: SecretRecord | None = (
            ctx.targets.parameter(key, account, region) if ssm else ctx.targets.secret(key, account, region)
        )
        if target is not None:
            out.append((target, consumer_actions("kes", target), None, f"{field}={key}"))
    if ssm:
        for i, d in enumerate(es.data):
            if d.path:
                for p in ctx.targets.parameters_under(d.path, account, region, recursive=d.recursive):
                    out.append((p, consumer_actions("kes", p, by_path=True), d.path, f"data[{i}].path={d.path}"))
    return out


def add_kes_edges(ctx: BuildContext) -> None:
    for c in ctx.snapshot.kes_controllers:
        bases = base_chains(ctx, c)
        for es in ctx.snapshot.kes_external_secrets:
            if serves(c, es) and es.backend_type in ("systemManager", "secretsManager"):
                _external_secret(ctx, c, bases, es)
        _synthetic(ctx, c, bases)


def _external_secret(ctx: BuildContext, c: KESController, bases: list[Reach], es: KESExternalSecret) -> None:
    es_node = external_secret_node(ctx, "KES", es.cluster, es.namespace, es.name)
    secret_node = k8s_secret_node(ctx, es.cluster, es.namespace, es.name)
    ctx.graph.add_edge(
        secret_node,
        es_node,
        EdgeData(
            mechanism=Mechanism.MATERIALISED_FROM,
            decision="allow",
            evidence=(f"KES writes ExternalSecret {es.namespace}/{es.name} into Secret {es.namespace}/{es.name}",),
        ),
    )
    naming = naming_gate(ctx, c, es.namespace, gated_keys(es))
    if naming is None:
        return  # KES refuses the whole ExternalSecret: nothing is fetched
    if es.role_arn:
        note_missing_role(ctx, es.role_arn, es.cluster, f"ExternalSecret {es.namespace}/{es.name}")
        chains = _role_chains(ctx, c, bases, es.namespace, es.role_arn)
    else:
        chains = bases
    chains = [dataclasses.replace(ch, leg=leg) for ch in chains if (leg := combine([ch.leg, naming])) is not None]
    region = es.region or c.aws_region or DEFAULT_REGION
    for chain in chains:
        account = account_of(chain.identity.role_arn) or ""
        for target, actions, path, field in fetches(ctx, es, account, region):
            read = ctx.aws.read(chain.identity, target, actions, path=path)
            if read is None:
                continue
            evidence = (f"KES ExternalSecret {es.namespace}/{es.name} {field} (controller {c.namespace}/{c.name})",)
            add_controller_read(ctx, es_node, chain, target, read, Mechanism.KES_READ, evidence=evidence)


def _synthetic(ctx: BuildContext, c: KESController, bases: list[Reach]) -> None:
    if not bases:
        return
    namespaces = list(c.watched_namespaces) or ctx.cluster_namespaces(c.cluster)
    found: dict[str, None] = {}
    for chain in bases:
        source = ctx.aws.roles.get(chain.identity.role_arn)
        if source is not None:
            found.update((r.arn, None) for r in ctx.aws.roles_trusting(source))
    candidates = list(found)
    for ns in namespaces:
        node = external_secret_node(ctx, "KES", c.cluster, ns, "*", synthetic=True)
        admit = _key_admissions(ctx, c, ns)
        for chain in bases:
            why = f"an ExternalSecret in {ns} without spec.roleArn uses the controller's identity"
            add_synthetic_reads(ctx, node, chain, "kes", Mechanism.KES_READ, why, admit)
        for role_arn in _gate_candidates(ctx, c, ns, candidates):
            for chain in _role_chains(ctx, c, bases, ns, role_arn):
                why = f"an ExternalSecret in {ns} may set spec.roleArn={role_arn}"
                add_synthetic_reads(ctx, node, chain, "kes", Mechanism.KES_READ, why, admit)
