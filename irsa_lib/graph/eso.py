"""External Secrets Operator (ESO): ExternalSecret -> value through its store's credential chain.

Store credentials (domain-spec §2.3): ``auth.jwt`` -> the referenced service account's IRSA role
(the namespace is ``serviceAccountRef.namespace`` only for a ClusterSecretStore that sets it,
otherwise the ExternalSecret's namespace; the role must be the SA's annotation AND its trust must
accept the SA); ``auth.secretRef`` -> static keys of an unknown IAM principal (an opaque node and
a gap); neither -> the ESO controller pod's own SDK chain (IRSA, Pod Identity, node IMDS). Then
each ``additionalRoles`` entry, then ``role`` (with ``externalID`` and session tags).

A ClusterSecretStore serves only namespaces its ``conditions`` admit (none = all; regexes are
unanchored, as Go's ``regexp.MatchString``). ClusterExternalSecrets fan out into the namespaces
they select. The synthetic ``eso-es:<cluster>/<ns>/*`` node gets ``eso-assumes`` edges to every
identity a store usable from ``<ns>`` ends in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from irsa_lib.graph.aws import Identity, SecretRecord, account_of
from irsa_lib.graph.chains import add_controller_read, add_synthetic_reads, extend, note_missing_role, rebase
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.irsa import token_leg
from irsa_lib.graph.legs import Leg, combine, leg_edge
from irsa_lib.graph.nodes import external_secret_node, k8s_secret_node
from irsa_lib.graph.schema import (
    CLUSTER,
    NAME,
    NAMESPACE,
    EdgeData,
    Mechanism,
    NodeType,
    sa_id,
    static_creds_id,
    store_id,
)
from irsa_lib.model import ESOController, ESOExternalSecret, ESOSecretStore, StoreRef
from irsa_lib.model.k8s import ROLE_ARN_ANNOTATION
from irsa_lib.userregex import RegexError, compile_regex


def _store_node(ctx: BuildContext, store: ESOSecretStore) -> str:
    return ctx.graph.add_node(
        store_id(store.cluster, store.kind, store.namespace, store.name),
        NodeType.ESO_STORE,
        f"{store.kind} {store.namespace + '/' if store.namespace else ''}{store.name}",
        **{CLUSTER: store.cluster, NAMESPACE: store.namespace, NAME: store.name},
        kind=store.kind,
        service=store.service,
    )


DEFAULT_CONTROLLER_CLASS = "default"
"""ESO's ``--controller-class`` when not given."""


def serves(controller: ESOController, store: ESOSecretStore) -> bool:
    """Does this ESO controller reconcile the store? A store without ``spec.controller`` is served by
    every controller; otherwise only by controllers of that class (ESO ``ShouldProcessStore``)."""
    wanted = store.controller_class
    return not wanted or wanted == (controller.controller_class or DEFAULT_CONTROLLER_CLASS)


def admits(ctx: BuildContext, store: ESOSecretStore, namespace: str) -> Leg | None:
    """May an ExternalSecret in ``namespace`` use this store?"""
    if store.kind == "SecretStore":
        return Leg(decision="allow") if store.namespace == namespace else None
    if not store.conditions:
        return Leg(decision="allow", evidence=(f"ClusterSecretStore {store.name} has no conditions: every namespace",))
    ns = ctx.namespaces.get((store.cluster, namespace))
    unknown = False
    for i, cond in enumerate(store.conditions):
        if namespace in cond.namespaces:
            return Leg(
                decision="allow", evidence=(f"ClusterSecretStore {store.name} conditions[{i}] lists {namespace}",)
            )
        for rx in cond.namespace_regexes:
            try:
                hit = compile_regex(rx, dialect="go").search(namespace)
            except RegexError:
                hit, unknown = False, True
            if hit:
                return Leg(
                    decision="allow",
                    evidence=(
                        f"ClusterSecretStore {store.name} conditions[{i}] regex {rx!r} matches {namespace} (unanchored)",
                    ),
                )
        if cond.namespace_selector is not None:
            if ns is None:
                unknown = True
            elif all(ns.labels.get(k) == v for k, v in cond.namespace_selector.items()):
                if cond.has_match_expressions:
                    unknown = True
                else:
                    return Leg(
                        decision="allow",
                        evidence=(
                            f"ClusterSecretStore {store.name} conditions[{i}] selector matches namespace {namespace} labels",
                        ),
                    )
    if unknown:
        return Leg(
            decision="conditional",
            evidence=(f"ClusterSecretStore {store.name}: whether {namespace} is admitted cannot be decided",),
            unresolved=("eso:namespace-selector",),
        )
    return None


def store_chains(ctx: BuildContext, store: ESOSecretStore, es_namespace: str) -> list[Reach]:
    """Where the store's credentials end, for an ExternalSecret in ``es_namespace``."""
    snode = _store_node(ctx, store)
    where = f"{store.kind} {store.namespace or '-'}/{store.name}"
    known = [c for c in ctx.snapshot.eso_controllers if c.cluster == store.cluster]
    controllers = [c for c in known if serves(c, store)]
    if known and not controllers:
        return []  # no ESO controller of this cluster reconciles the store's class
    chains: list[Reach]
    if store.jwt is not None:
        if store.kind == "ClusterSecretStore" and store.jwt.namespace:
            sa_ns = store.jwt.namespace
        elif store.kind == "SecretStore":
            sa_ns = store.namespace or es_namespace
        else:
            sa_ns = es_namespace
        sa_name = store.jwt.service_account
        sa = ctx.service_accounts.get((store.cluster, sa_ns, sa_name))
        sa_node = ctx.sa_node(store.cluster, sa_ns, sa_name)
        if sa is None or not sa.role_arn:
            return []
        # ESO mints the token itself: audience = the SA's annotation (or the default) plus the
        # store's serviceAccountRef.audiences
        audiences = (sa.audience, *store.jwt.audiences)
        leg = token_leg(ctx, store.cluster, sa.subject, sa.role_arn, audiences)
        if leg is None:
            return []
        chains = [
            Reach(
                node=ctx.role_node(sa.role_arn),
                identity=Identity(sa.role_arn),
                leg=dataclasses.replace(
                    leg,
                    evidence=(
                        f"{where} auth.jwt serviceAccountRef {sa_ns}/{sa_name} (token minted by ESO for "
                        f"audiences {', '.join(dict.fromkeys(audiences))}; role from its {ROLE_ARN_ANNOTATION})",
                        *leg.evidence,
                    ),
                ),
                mechanism=Mechanism.STORE_CREDENTIALS,
                via=(snode, sa_node),
            )
        ]
    elif store.secret_ref is not None:
        ns = store.secret_ref.namespace or store.namespace or es_namespace
        node = ctx.graph.add_node(
            static_creds_id(store.cluster, ns, store.secret_ref.access_key_secret),
            NodeType.STATIC_CREDENTIALS,
            f"static AWS keys in Secret {ns}/{store.secret_ref.access_key_secret}",
            **{CLUSTER: store.cluster, NAMESPACE: ns},
        )
        ctx.graph.add_edge(
            snode,
            node,
            EdgeData(
                mechanism=Mechanism.STORE_CREDENTIALS,
                decision="conditional",
                evidence=(f"{where} auth.secretRef: static keys; the IAM principal behind them is unknown",),
                unresolved_keys=("static-credentials",),
            ),
        )
        ctx.graph.add_gap(
            Gap(
                what=f"{where} uses static AWS keys from Secret {ns}/{store.secret_ref.access_key_secret}: "
                "what they can read is unknown",
                cluster=store.cluster,
            )
        )
        return []
    else:
        if not controllers:
            ctx.graph.add_gap(
                Gap(what=f"{where} has no auth and no ESO controller is in the snapshot", cluster=store.cluster)
            )
        chains = []
        for c in controllers:
            sa_node = ctx.sa_node(c.cluster, c.namespace, c.service_account)
            for r in ctx.default_chain(c.cluster, c.namespace, c.service_account):
                chains.append(rebase(snode, rebase(sa_node, r)))
    origin = (store.cluster, es_namespace, f"{store.kind}/{store.name}")
    for i, arn in enumerate(store.additional_roles):
        note_missing_role(ctx, arn, store.cluster, where)
        chains = _extend_all(ctx, chains, arn, what=f"{where} additionalRoles[{i}]", origin=origin)
    if store.role:
        note_missing_role(ctx, store.role, store.cluster, where)
        context = {"sts:ExternalId": store.external_id} if store.external_id else {}
        if store.session_tags_policy in ("Simple", "Custom"):
            tags = {"esoNamespace": es_namespace, "esoStoreName": store.name, "esoStoreKind": store.kind}
        else:
            tags = dict(store.session_tags)
        chains = _extend_all(ctx, chains, store.role, what=f"{where} role", context=context, tags=tags, origin=origin)
    return chains


def _extend_all(
    ctx: BuildContext,
    chains: Iterable[Reach],
    arn: str,
    *,
    what: str,
    origin: tuple[str, str, str],
    context: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> list[Reach]:
    out = []
    for chain in chains:
        r = extend(
            ctx,
            chain,
            arn,
            context=context,
            what=f"{what}: sts:AssumeRole {chain.identity.role_arn} -> {arn}",
            tags=tags or None,
            origin=origin,
        )
        if r is not None:
            out.append(r)
    return out


def remote_value(ctx: BuildContext, store: ESOSecretStore, key: str, account: str) -> SecretRecord | None:
    """The value a store's remote key names (the store's ``prefix`` prepended, no separator added)."""
    full = (store.prefix or "") + key
    region = store.region or ""
    if store.service == "ParameterStore":
        return ctx.targets.parameter(full, account, region)
    if store.service == "SecretsManager":
        return ctx.targets.secret(full, account, region)
    return None


def _fetches(
    ctx: BuildContext, es: ESOExternalSecret, store: ESOSecretStore, account: str
) -> list[tuple[SecretRecord, tuple[str, ...], str | None, str]]:
    """(value, actions, by-path path, manifest field) for what this ExternalSecret fetches from ``store``."""
    out: list[tuple[SecretRecord, tuple[str, ...], str | None, str]] = []
    region = store.region or ""
    prefix = store.prefix or ""
    ssm = store.service == "ParameterStore"
    if store.service not in ("ParameterStore", "SecretsManager"):
        return out

    def uses(ref_store: object) -> bool:
        ref = ref_store or es.store_ref
        return ref is not None and getattr(ref, "name", None) == store.name and getattr(ref, "kind", None) == store.kind

    def one(key: str, field: str) -> None:
        target = remote_value(ctx, store, key, account)
        if target is not None:
            actions = ("ssm:GetParameter",) if ssm else ("secretsmanager:GetSecretValue",)
            out.append((target, actions, None, f"{field}={prefix + key}"))

    for i, d in enumerate(es.data):
        if uses(d.store_ref) and d.metadata_policy != "Fetch":
            one(d.remote_key, f"data[{i}].remoteRef.key")
    for i, df in enumerate(es.data_from):
        if df.generator or not uses(df.store_ref):
            continue
        if df.extract_key:
            one(df.extract_key, f"dataFrom[{i}].extract.key")
        elif df.find_path is not None or df.find_name_regexp is not None or df.find_tags:
            field = f"dataFrom[{i}].find"
            if ssm:
                path = df.find_path or "/"
                found = (
                    ctx.targets.all_parameters(account, region)
                    if df.find_tags
                    else ctx.targets.parameters_matching(df.find_name_regexp, account, region, path=path)
                )
                for p in found:
                    out.append((p, ("ssm:GetParametersByPath", "ssm:GetParameter"), path, f"{field} path={path}"))
            else:
                for s in ctx.targets.secrets_matching(df.find_name_regexp, account, region):
                    out.append((s, ("secretsmanager:GetSecretValue",), None, field))
    return out


StoreIndex = dict[tuple[str, str, str | None, str], ESOSecretStore]


def stores_by_key(ctx: BuildContext) -> StoreIndex:
    return {
        (s.cluster, s.kind, s.namespace if s.kind == "SecretStore" else None, s.name): s
        for s in ctx.snapshot.eso_stores
    }


def _expanded_external_secrets(ctx: BuildContext) -> list[ESOExternalSecret]:
    out = list(ctx.snapshot.eso_external_secrets)
    for ces in ctx.snapshot.eso_cluster_external_secrets:
        if ces.template is None:
            continue
        for ns in ctx.cluster_namespaces(ces.cluster):
            labels = ctx.namespaces[(ces.cluster, ns)].labels if (ces.cluster, ns) in ctx.namespaces else {}
            if ns in ces.namespaces or any(
                all(labels.get(k) == v for k, v in sel.items()) for sel in ces.namespace_selectors
            ):
                out.append(
                    dataclasses.replace(
                        ces.template,
                        cluster=ces.cluster,
                        namespace=ns,
                        name=ces.template.name or ces.name,
                        from_cluster_external_secret=ces.name,
                    )
                )
    return out


def add_eso_edges(ctx: BuildContext) -> None:
    # the nodes of the identities a SecretStore's author can start from exist before roles are
    # expanded and read, in the clusters where an edge can lead to them: a store there (the "someone
    # writes a store" edges below) or RBAC that may let someone create one (graph.rbac)
    authored = _store_author_clusters(ctx)
    for cluster, ns in list(ctx.sas_by_namespace):
        if cluster in authored:
            store_author_identities(ctx, cluster, ns)
    stores = stores_by_key(ctx)
    for store in stores.values():
        _store_node(ctx, store)
        referent = store.kind == "ClusterSecretStore" and (
            (store.jwt is not None and not store.jwt.namespace)
            or (store.secret_ref is not None and not store.secret_ref.namespace)
        )
        if not referent:
            snode = _store_node(ctx, store)
            for chain in store_chains(ctx, store, store.namespace or "-"):
                ctx.graph.add_edge(
                    snode,
                    chain.node,
                    leg_edge(
                        Mechanism.STORE_CREDENTIALS,
                        chain.leg,
                        evidence=(f"credentials of {store.kind} {store.name}", *chain.leg.evidence),
                        via=tuple(v for v in chain.via if v != snode),
                    ),
                    key=f"{Mechanism.STORE_CREDENTIALS}:{'>'.join(chain.via)}",
                )
    for es in _expanded_external_secrets(ctx):
        _external_secret(ctx, es, stores)
    for cluster in sorted({s.cluster for s in stores.values()}):
        for ns in ctx.cluster_namespaces(cluster):
            _synthetic(ctx, cluster, ns, [s for s in stores.values() if s.cluster == cluster])


def _store_author_clusters(ctx: BuildContext) -> set[str]:
    """Clusters with an ESO store or any RBAC role or binding: where :func:`store_author_identities`
    can get an edge (elsewhere their nodes would only be nodes nothing reaches)."""
    snap = ctx.snapshot
    return (
        {s.cluster for s in snap.eso_stores}
        | {r.cluster for r in snap.rbac_roles}
        | {b.cluster for b in snap.rbac_bindings}
    )


def store_author_identities(ctx: BuildContext, cluster: str, ns: str) -> list[tuple[str, tuple[str, ...]]]:
    """AWS identities a SecretStore written in ``ns`` can start from: the IRSA role of any annotated
    service account there (auth.jwt; ESO mints the token), or the ESO controller's own chain (no auth).
    The edge goes to the identity, not the service account: the store author gets the AWS session,
    not the service account's Kubernetes permissions."""
    out: dict[str, tuple[str, ...]] = {}
    for sa in ctx.sas_by_namespace.get((cluster, ns), []):
        # the store author picks serviceAccountRef.audiences: the trust is judged for any audience
        if sa.role_arn and token_leg(ctx, cluster, sa.subject, sa.role_arn, None) is not None:
            out.setdefault(ctx.role_node(sa.role_arn), (sa_id(cluster, ns, sa.name),))
    for c in ctx.snapshot.eso_controllers:
        if c.cluster == cluster:
            controller = sa_id(c.cluster, c.namespace, c.service_account)
            for r in ctx.default_chain(c.cluster, c.namespace, c.service_account):
                out.setdefault(r.node, (controller, *r.via))
    return list(out.items())


def lookup_store(stores: StoreIndex, cluster: str, namespace: str, ref: StoreRef) -> ESOSecretStore | None:
    """The store a reference from an object in ``namespace`` names (a SecretStore is namespaced)."""
    return stores.get((cluster, ref.kind, namespace if ref.kind == "SecretStore" else None, ref.name))


def _external_secret(ctx: BuildContext, es: ESOExternalSecret, stores: StoreIndex) -> None:
    g = ctx.graph
    es_node = external_secret_node(ctx, "ESO", es.cluster, es.namespace, es.name)
    secret_node = k8s_secret_node(ctx, es.cluster, es.namespace, es.target_name)
    g.add_edge(
        secret_node,
        es_node,
        EdgeData(
            mechanism=Mechanism.MATERIALISED_FROM,
            decision="allow",
            evidence=(
                f"ESO writes ExternalSecret {es.namespace}/{es.name} into Secret {es.namespace}/{es.target_name}",
            ),
        ),
    )
    refs = [es.store_ref, *(d.store_ref for d in es.data), *(d.store_ref for d in es.data_from)]
    used: dict[str, ESOSecretStore] = {}
    for ref in refs:
        if ref is None:
            continue
        store = lookup_store(stores, es.cluster, es.namespace, ref)
        if store is None:
            ctx.graph.add_gap(
                Gap(
                    what=f"ESO ExternalSecret {es.namespace}/{es.name} names {ref.kind} {ref.name}, not in the snapshot",
                    cluster=es.cluster,
                )
            )
            continue
        used[store_id(store.cluster, store.kind, store.namespace, store.name)] = store
    for store in used.values():
        admitted = admits(ctx, store, es.namespace)
        if admitted is None:
            continue
        for chain in store_chains(ctx, store, es.namespace):
            chain = dataclasses.replace(chain, leg=_and(chain.leg, admitted))
            account = account_of(chain.identity.role_arn) or ""
            for target, actions, path, field in _fetches(ctx, es, store, account):
                read = ctx.aws.read(chain.identity, target, actions, path=path)
                if read is None:
                    continue
                evidence = (f"ESO ExternalSecret {es.namespace}/{es.name} {field} via {store.kind} {store.name}",)
                add_controller_read(ctx, es_node, chain, target, read, Mechanism.ESO_READ, evidence=evidence)


def _and(a: Leg, b: Leg) -> Leg:
    out = combine([a, b])
    assert out is not None
    return out


def _synthetic(ctx: BuildContext, cluster: str, ns: str, stores: list[ESOSecretStore]) -> None:
    node: str | None = None
    for store in stores:
        admitted = admits(ctx, store, ns)
        if admitted is None:
            continue
        for chain in store_chains(ctx, store, ns):
            if node is None:
                node = external_secret_node(ctx, "ESO", cluster, ns, "*", synthetic=True)
            chain = dataclasses.replace(chain, leg=_and(chain.leg, admitted))
            add_synthetic_reads(
                ctx,
                node,
                chain,
                "eso",
                Mechanism.ESO_READ,
                f"an ExternalSecret in {ns} may use {store.kind} {store.name}",
            )
