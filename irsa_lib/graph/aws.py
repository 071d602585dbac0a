"""AWS-side questions the edge builders ask, answered with the policy evaluator and cached.

``AwsView`` is the graph's one door to ``irsa_lib.policy`` / ``irsa_lib.resolve``: can this
principal assume that role, does this role's trust accept that web-identity token, can this
principal read (and decrypt) that parameter with these actions. Each answer is a
:class:`~irsa_lib.graph.legs.Leg` (allow / conditional with evidence) or None (denied).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from irsa_lib.graph.keys import KeyIndex
from irsa_lib.graph.legs import Leg, combine, from_decision
from irsa_lib.graph.patterns import (
    EVERYTHING,
    AllowStatement,
    PrefixIndex,
    allow_statements,
    covered_patterns,
    principal_values,
    wildcard_match,
)
from irsa_lib.graph.sharing import Relevant, policy_part, shared_layers, signature
from irsa_lib.model import KMSKey, OIDCProvider, Role, SecretsManagerSecret, SSMParameter
from irsa_lib.policy import Decision, Policy, PolicyError, PolicySet, Principal, Request, evaluate, parse_policy
from irsa_lib.policy.kms import key_state_blocks
from irsa_lib.resolve import Inventory, UnknownPrincipalError, parameter_paths, policy_set_for, principal_for_role
from irsa_lib.snapshot import Snapshot

SSM_READ_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory")
"""Every SSM action that returns a parameter's value (what a workload's own code could call)."""
SM_READ_ACTIONS = ("secretsmanager:GetSecretValue",)
ALL_READ_ACTIONS = SSM_READ_ACTIONS + SM_READ_ACTIONS
SSM_WRITE_ACTION = "ssm:PutParameter"
SM_WRITE_ACTION = "secretsmanager:PutSecretValue"
ALL_WRITE_ACTIONS = (SSM_WRITE_ACTION, SM_WRITE_ACTION)
"""What overwrites a value (ESO PushSecret, or poisoning by anyone holding the identity)."""

SecretRecord = SSMParameter | SecretsManagerSecret
_IMPLICIT_DENY = Decision("deny", False, (), (), ("no identity policy statement allows it",))


@dataclass(frozen=True)
class SessionPolicy:
    """An inline session policy (a Pod Identity association's ``policy``), hashable for the caches."""

    source: str
    """Where it comes from (names it in decisions); one source, one document."""
    text: str
    """The document as canonical JSON."""

    @classmethod
    def of(cls, document: Mapping[str, Any], *, source: str) -> SessionPolicy:
        return cls(source, json.dumps(document, sort_keys=True, separators=(",", ":")))


@dataclass(frozen=True)
class Identity:
    """An AWS identity as the graph uses it: a role, optionally with session tags and a session policy.

    The session policy intersects with the role's permissions for every request of the session
    (IAM UG policy evaluation: "session policy ... must also allow"); it is not carried into roles
    the session assumes, whereas transitive session tags are.
    """

    role_arn: str
    tags: tuple[tuple[str, str], ...] = ()
    session_policy: SessionPolicy | None = None

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True, kw_only=True)
class ReadLeg:
    """Read + decrypt of one value: both decisions are kept, the combination decides."""

    leg: Leg
    actions: tuple[str, ...]
    read: Leg
    decrypt: Leg


@dataclass(frozen=True)
class KeyFilter:
    """The KMS keys an identity may use, per KMS action, and which action a value needs."""

    keys: Mapping[str, frozenset[str]]
    kms_of: Callable[[SecretRecord], str]


def read_kms_action(_target: SecretRecord) -> str:
    """What the service calls on a value's key to return its plaintext."""
    return "kms:Decrypt"


def write_kms_action(target: SecretRecord) -> str:
    """What the service calls on a value's key to encrypt a new value: SSM standard tier
    kms:Encrypt; advanced tier and Secrets Manager kms:GenerateDataKey."""
    standard = isinstance(target, SSMParameter) and target.tier.lower() == "standard"
    return "kms:Encrypt" if standard else "kms:GenerateDataKey"


def partition_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else None


def is_plaintext(target: SecretRecord) -> bool:
    """A ``String`` / ``StringList`` parameter: Parameter Store returns its value in plain text, with no
    KMS key involved (SSM UG, parameter types), so reading it needs the read action alone."""
    return isinstance(target, SSMParameter) and target.type != "SecureString"


def plaintext_leg(target: SecretRecord, action: str) -> Leg:
    """The KMS leg of a plaintext parameter: there is none to ask."""
    assert isinstance(target, SSMParameter)
    return Leg(
        decision="allow",
        evidence=(f"{action}: not needed, {target.name} is a {target.type} parameter (plain text, no KMS key)",),
    )


def _no_resource_policy(target: SecretRecord) -> bool:
    """The value is known to have no resource policy (collected, and there was none)."""
    if isinstance(target, SSMParameter):
        return target.resource_policy_readable and not target.resource_policies
    return target.resource_policy_readable and target.resource_policy is None


def _unique(roles: list[Role]) -> list[Role]:
    seen: dict[str, Role] = {}
    for r in roles:
        seen.setdefault(r.arn, r)
    return list(seen.values())


_AWS_MANAGED_ALIASES = {"ssm": "alias/aws/ssm", "secretsmanager": "alias/aws/secretsmanager"}


def web_principal(provider: OIDCProvider) -> Principal:
    """The caller of ``sts:AssumeRoleWithWebIdentity`` with a token of ``provider``."""
    return Principal(arn=provider.arn, kind="federated", account_id=provider.account_id)


def aws_managed_key_policy(service: str, account_id: str, region: str) -> dict[str, Any]:
    """The documented key policy of ``aws/ssm`` / ``aws/secretsmanager`` (fixed by AWS).

    Used when the key is not in the snapshot or its policy could not be read: every principal of
    the account may use it through the service.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"Allow access through {service} for all principals in the account",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            }
        ],
    }


class AwsView:
    """Indexes over the AWS records plus cached evaluations."""

    def __init__(self, snapshot: Snapshot, inventory: Inventory) -> None:
        self.snapshot = snapshot
        self.inventory = inventory
        self.roles: dict[str, Role] = {r.arn: r for r in snapshot.roles}
        self.roles_by_id: dict[str, Role] = {r.role_id: r for r in snapshot.roles}
        # from the inventory, which may know documented AWS managed policies the snapshot lacks
        self.managed: dict[str, Mapping[str, Any]] = {a: p.document for a, p in inventory.managed_policies.items()}
        # an account whose IAM could not be read (denied, throttled, a bad response) is not collected:
        # a role missing from it may well exist, so chains through it are gaps, not dead ends
        iam_gaps = {c.scope.split("/")[0] for c in snapshot.incomplete() if c.source == "aws" and c.service == "iam"}
        self.collected_accounts: set[str] = (
            {a.account_id for a in snapshot.accounts} | {r.account_id for r in snapshot.roles}
        ) - iam_gaps
        # One issuer may be registered as a provider in several accounts (cross-account IRSA): keep them all.
        self.oidc_by_url: dict[str, list[OIDCProvider]] = {}
        for provider in snapshot.oidc_providers:
            self.oidc_by_url.setdefault(provider.url.removeprefix("https://"), []).append(provider)
        self.parameters = list(snapshot.ssm_parameters)
        self.secrets = list(snapshot.secrets)
        self._keys_by_ref: dict[str, KMSKey] = {}
        for k in snapshot.kms_keys:
            self._keys_by_ref[k.arn] = k
            self._keys_by_ref[k.key_id] = k
            for alias in k.aliases:
                self._keys_by_ref[f"{k.account_id}/{k.region}/{alias}"] = k
                self._keys_by_ref[f"arn:{partition_of(k.arn)}:kms:{k.region}:{k.account_id}:{alias}"] = k
        self._targets: PrefixIndex[SecretRecord] = PrefixIndex(
            [(p.arn, p, tuple(a for _, a in parameter_paths(p))) for p in self.parameters]
            + [(s.arn, s, ()) for s in self.secrets]
        )
        self._resource_policy_principals: list[tuple[SecretRecord, set[str]]] = []
        for p in self.parameters:
            if p.resource_policies:
                names: set[str] = set()
                for doc in p.resource_policies:
                    names |= principal_values(doc)
                self._resource_policy_principals.append((p, names))
        for s in self.secrets:
            if s.resource_policy:
                self._resource_policy_principals.append((s, principal_values(s.resource_policy)))
        self._trust_index: dict[str, list[Role]] | None = None
        self._federated_index: dict[str, list[Role]] | None = None
        self._account_trusts: dict[str, PrefixIndex[int]] = {}
        self._principals: dict[Identity, Principal] = {}
        self._known: dict[str, bool] = {}
        self._cache: dict[tuple[Any, ...], Decision] = {}
        # Controllers ask the same read question once per namespace (synthetic ExternalSecrets) and
        # once per chain: answer each (identity, value, actions, path) once. Values are keyed by id():
        # they are the snapshot's records, alive as long as this view.
        self._reads: dict[tuple[Any, ...], ReadLeg | None] = {}
        self._candidates: dict[tuple[Identity, tuple[str, ...]], list[SecretRecord]] = {}
        self._sub_dependent: dict[str, bool] = {}
        self._key_indexes: dict[str, KeyIndex] = {}
        self._allow_patterns: dict[tuple[str, str], set[str]] = {}
        self._doc_patterns: dict[tuple[int, tuple[str, ...]], frozenset[str]] = {}
        self._doc_allows: dict[int, tuple[AllowStatement, ...]] = {}
        self._relevant: dict[tuple[int, str, str], Relevant | None] = {}
        self._shared: dict[Hashable, Decision] = {}
        self._shared_reads: dict[Hashable, ReadLeg | None] = {}
        self._read_sides: dict[tuple[Any, ...], bool] = {}
        self._policy_parts: dict[tuple[Any, ...], tuple[tuple[int, ...], ...] | None] = {}
        self._read_requests: dict[tuple[Any, ...], tuple[tuple[str, str], ...]] = {}
        self._paths: dict[int, list[tuple[str, str]]] = {}
        self._documented: dict[tuple[str, str, str], Policy] = {}
        self._sets_of: Identity | None = None
        self._sets: dict[str, PolicySet] = {}
        self._trust_sets: dict[tuple[str, str], PolicySet] = {}
        self._incomplete: dict[Identity, bool] = {}
        self._key_of: dict[int, str | None] = {}
        self._values_by_key: dict[str | None, list[SecretRecord]] | None = None
        self.evaluations = 0

    # --- principals ---------------------------------------------------------------------------
    def has_role(self, arn: str) -> bool:
        return arn in self.roles

    def account_collected(self, account_id: str | None) -> bool:
        """The account's IAM was read: a role it lacks does not exist."""
        return account_id is not None and account_id in self.collected_accounts

    def knows(self, identity: Identity) -> bool:
        """The identity's policies are in the snapshot (a role, or a user the inventory resolves).

        An unknown identity's requests are not evaluated: what it may do is unknown, and the builder
        that reached it records the gap (see ``chains.note_missing_role``, the IMDS builder).
        """
        known = self._known.get(identity.role_arn)
        if known is None:
            try:
                self.inventory.principal(identity.role_arn)
                known = True
            except UnknownPrincipalError:
                known = False
            self._known[identity.role_arn] = known
        return known

    def principal(self, identity: Identity) -> Principal:
        p = self._principals.get(identity)
        if p is None:
            role = self.roles.get(identity.role_arn)
            # an IAM user (the findings ask about users too) is resolved by the inventory
            p = principal_for_role(role) if role is not None else self.inventory.principal(identity.role_arn)
            if identity.tags:
                p = dataclasses.replace(p, tags={**p.tags, **identity.tag_map})
            self._principals[identity] = p
        return p

    def allow_patterns(self, role: Role, actions: Sequence[str]) -> set[str]:
        """:func:`allowed_resource_patterns` of the role's identity documents, worked out once per
        document and actions (managed policies are shared by many roles)."""
        wanted = tuple(actions)
        out: set[str] = set()
        for doc in self.identity_documents(role):
            key = (id(doc), wanted)
            hit = self._doc_patterns.get(key)
            if hit is None:
                allows = self._doc_allows.get(id(doc))
                if allows is None:
                    allows = self._doc_allows[id(doc)] = allow_statements(doc)
                hit = self._doc_patterns[key] = frozenset(covered_patterns(allows, wanted))
            out |= hit
        return out

    def identity_documents(self, role: Role) -> list[Mapping[str, Any]]:
        docs: list[Mapping[str, Any]] = [ip.document for ip in role.inline_policies]
        docs.extend(self.managed[a] for a in role.attached_policy_arns if a in self.managed)
        return docs

    def policies(self, identity: Identity, resource: str) -> PolicySet:
        """The policy set of a request by ``identity`` on ``resource``, its session policy included.

        The sets of the identity asked about last are kept: the builders ask one identity's questions
        together (every action on a value, its key, its paths), and keeping only those bounds memory."""
        if identity is not self._sets_of and identity != self._sets_of:
            self._sets_of, self._sets = identity, {}
        hit = self._sets.get(resource)
        if hit is None:
            hit = self._sets[resource] = self._policies(identity, resource)
        return hit

    def _policies(self, identity: Identity, resource: str) -> PolicySet:
        policies = policy_set_for(self.inventory, identity.role_arn, resource)
        sp = identity.session_policy
        if sp is None:
            return policies
        parsed = self.inventory.policy(json.loads(sp.text), source=sp.source, kind="session")
        if isinstance(parsed, PolicyError):
            return dataclasses.replace(policies, missing=(*policies.missing, f"malformed session policy: {parsed}"))
        return dataclasses.replace(policies, session=(*policies.session, parsed))

    def _evaluate(
        self,
        request: Request,
        policies: PolicySet,
        cache_key: tuple[Any, ...],
        *,
        keep: bool = True,
    ) -> Decision:
        """The evaluator's answer, once per ``cache_key`` and once per :func:`.sharing.signature`;
        ``keep=False``: the answer cache is read, and nothing is added to it or to the signatures' (whose
        memo of relevant statements grows with policies x resources asked about)."""
        hit = self._cache.get(cache_key)
        if hit is None and not keep:
            self.evaluations += 1
            return evaluate(request, policies)
        if hit is None:
            shared = signature(request, policies, self._relevant)
            hit = None if shared is None else self._shared.get(shared)
            if hit is None:
                self.evaluations += 1
                hit = evaluate(request, policies)
                if shared is not None:
                    self._shared[shared] = hit
            self._cache[cache_key] = hit
        return hit

    # --- trust --------------------------------------------------------------------------------
    def roles_trusting_federated(self, provider_arn: str) -> list[Role]:
        """Candidate roles for web identity from this provider (index of Federated principals)."""
        if self._federated_index is None:
            index: dict[str, list[Role]] = defaultdict(list)
            for r in self.snapshot.roles:
                for value in principal_values(r.trust_policy, kinds=("Federated", "AWS")):
                    if value == EVERYTHING or (value.startswith("arn:") and ":oidc-provider/" in value):
                        index[value].append(r)
            self._federated_index = dict(index)
        return _unique(self._federated_index.get(provider_arn, []) + self._federated_index.get("*", []))

    def web_identity(
        self, provider: OIDCProvider, role: Role, *, sub: str, aud: str | tuple[str, ...] | None
    ) -> Decision:
        """sts:AssumeRoleWithWebIdentity with a service-account token.

        ``aud``: the token's audience(s), or None when whoever mints the token picks them (the
        context is then incomplete and a condition on ``<issuer>:aud`` stays unresolved).
        """
        # A trust that never looks at the token's sub answers every service account alike (e.g. an
        # "AWS": "*" trust guarded by aws:PrincipalOrgID): ask it once per audience, not per account.
        key = ("web", provider.arn, role.arn, sub if self.trust_reads_sub(role) else None, aud)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        host = provider.url.removeprefix("https://")
        principal = web_principal(provider)
        context: dict[str, str | Sequence[str]] = {f"{host}:sub": sub}
        if aud is not None:
            context[f"{host}:aud"] = aud if isinstance(aud, str) else list(aud)
        request = Request(
            principal=principal,
            action="sts:AssumeRoleWithWebIdentity",
            resource=role.arn,
            context=context,
            context_complete=aud is not None,
        )
        return self._evaluate(request, self.trust_policies(provider, role), key)

    def trust_policies(self, provider: OIDCProvider, role: Role) -> PolicySet:
        """The policies of a web-identity request from ``provider`` to ``role`` (the same for every token)."""
        key = (provider.arn, role.arn)
        hit = self._trust_sets.get(key)
        if hit is None:
            hit = self._trust_sets[key] = policy_set_for(self.inventory, provider.arn, role.arn)
        return hit

    def trust_reads_sub(self, role: Role) -> bool:
        """Whether the trust policy could depend on the ``sub`` claim: a key ending in ``:sub`` or a
        policy variable anywhere in it (a textual over-approximation, so never a wrong reuse)."""
        hit = self._sub_dependent.get(role.arn)
        if hit is None:
            text = json.dumps(role.trust_policy).lower()
            hit = self._sub_dependent[role.arn] = ":sub" in text or "${" in text
        return hit

    def service_assume(
        self, service: str, role_arn: str, actions: Sequence[str], context: Mapping[str, str | Sequence[str]]
    ) -> Leg | None:
        """A service principal (``pods.eks.amazonaws.com``) assuming a role: every action must be allowed."""
        if role_arn not in self.roles:
            return None
        principal = Principal(arn=service, kind="service")
        policies = policy_set_for(self.inventory, service, role_arn)
        ctx_key = tuple(sorted((k, str(v)) for k, v in context.items()))
        legs: list[Leg | None] = []
        for action in actions:
            request = Request(
                principal=principal, action=action, resource=role_arn, context=dict(context), context_complete=False
            )
            decision = self._evaluate(request, policies, ("svc", service, role_arn, action, ctx_key))
            legs.append(from_decision(decision, f"trust of {role_arn}: {action} by {service}"))
        return combine(legs)

    def roles_trusting(self, source: Role) -> list[Role]:
        """Candidate destination roles for sts:AssumeRole from ``source`` (index of trust principals).

        A destination is a candidate when its trust names the source's ARN, its unique id, a session
        of it, ``*``, or its account (root or bare id). An account trust also needs an identity Allow,
        so those candidates are kept only if the source has some Allow that may cover
        sts:AssumeRole on them (the only pre-filter; the evaluator decides every candidate).
        """
        if self._trust_index is None:
            index: dict[str, list[Role]] = defaultdict(list)
            for r in self.snapshot.roles:
                for value in principal_values(r.trust_policy):
                    key = value
                    if value.startswith("arn:") and ":assumed-role/" in value:
                        key = "session:" + value.split(":assumed-role/", 1)[1].split("/", 1)[0]
                    elif value.endswith(":root") and value.startswith("arn:"):
                        key = "account:" + (account_of(value) or "")
                    elif value.isdigit() and len(value) == 12:
                        key = "account:" + value
                    index[key].append(r)
            self._trust_index = dict(index)
        ti = self._trust_index
        named = ti.get(source.arn, []) + ti.get(source.role_id, []) + ti.get("session:" + source.name, [])
        # "AWS": "*" needs no identity allow for same-account callers: always a candidate
        named += ti.get("*", [])
        broad = ti.get("account:" + source.account_id, [])
        if broad:
            patterns = self.allow_patterns(source, ["sts:AssumeRole"])
            if EVERYTHING not in patterns:
                found = self._account_trust_index(source.account_id, broad).matching(patterns)
                broad = [broad[i] for i in sorted(found)]
        # Cross-account named trusts also need an identity allow; the evaluator decides that.
        named_arns = {r.arn for r in named}
        return [r for r in _unique(named + broad) if r.arn != source.arn or r.arn in named_arns]

    def _account_trust_index(self, account: str, trusting: list[Role]) -> PrefixIndex[int]:
        """Positions in ``trusting`` (the roles whose trust names ``account``) by role ARN, so the
        sts:AssumeRole patterns of a caller find their roles without a pass over all of them."""
        hit = self._account_trusts.get(account)
        if hit is None:
            hit = self._account_trusts[account] = PrefixIndex([(r.arn, i, ()) for i, r in enumerate(trusting)])
        return hit

    def assume(
        self,
        source: Identity,
        target_arn: str,
        *,
        context: Mapping[str, str | Sequence[str]] | None = None,
        what: str | None = None,
        action: str = "sts:AssumeRole",
    ) -> Leg | None:
        """sts:AssumeRole (or ``action``, e.g. sts:TagSession) from ``source`` to ``target_arn``.

        None when denied or either side is unknown.
        """
        if target_arn not in self.roles or not self.knows(source):
            return None
        ctx = dict(context or {})
        request = Request(
            principal=self.principal(source),
            action=action,
            resource=target_arn,
            context=ctx,
            context_complete=False,
        )
        policies = self.policies(source, target_arn)
        key = ("assume", action, source, target_arn, tuple(sorted((k, str(v)) for k, v in ctx.items())))
        decision = self._evaluate(request, policies, key)
        label = what or f"{action} {source.role_arn} -> {target_arn}"
        return from_decision(decision, label)

    def decide(self, principal_arn: str, action: str, resource: str, *, keep: bool = True) -> Decision:
        """The evaluator's answer to one request with no context by a role or user of the snapshot, as
        :meth:`assume` asks it (shared and cached with those answers; never the implicit-deny shortcut,
        so an explicit deny and the reasons are the evaluator's own). Raises UnknownPrincipalError.

        ``keep=False``: use what is cached but add nothing, for a rule that asks about every value of a
        pattern once per principal (kept, those answers grow with principals x values)."""
        identity = Identity(principal_arn)
        key = ("assume", action, identity, resource, ())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        request = Request(
            principal=self.principal(identity), action=action, resource=resource, context={}, context_complete=False
        )
        return self._evaluate(request, self.policies(identity, resource), key, keep=keep)

    # --- read + decrypt -----------------------------------------------------------------------
    def candidate_targets(self, identity: Identity, actions: tuple[str, ...] = ALL_READ_ACTIONS) -> list[SecretRecord]:
        """Parameters and secrets this identity might read (or call ``actions`` on): identity Allow
        patterns + resource policies. Memoised per (identity, actions); callers get a fresh list."""
        key = (identity, tuple(actions))
        hit = self._candidates.get(key)
        if hit is None:
            hit = self._candidates[key] = self._candidate_targets(identity, key[1])
        return list(hit)

    def _candidate_targets(self, identity: Identity, actions: tuple[str, ...]) -> list[SecretRecord]:
        """Values an Allow pattern of the identity's policies names for an action of the value's own
        service, or whose resource policy may name the identity; for reads or writes, only values
        whose KMS key the identity may use for the KMS action the service calls (:mod:`.keys`).

        A value in another account whose resource policy is known to be absent is left out: without
        a resource-side Allow a cross-account request is denied (the evaluator's rule 3).
        """
        role = self.roles.get(identity.role_arn)
        if role is None:
            return []  # its policies are unknown (a user's candidates are not indexed)
        usable = self._key_filter(identity, role, actions)
        found: list[SecretRecord] = []
        for kind, prefix in ((SSMParameter, "ssm:"), (SecretsManagerSecret, "secretsmanager:")):
            own = [a for a in actions if a.lower().startswith(prefix)]
            patterns = self.allow_patterns(role, own) if own else set()
            if patterns:
                found.extend(
                    t
                    for t in self._by_pattern(patterns, kind, usable)
                    if t.account_id == role.account_id or not _no_resource_policy(t)
                )
        names = {
            "*",
            role.arn,
            role.role_id,
            role.account_id,
            f"arn:{partition_of(role.arn)}:iam::{role.account_id}:root",
        }
        session = f":assumed-role/{role.name.lower()}/"  # a resource policy may name one session of the role
        seen = {id(t) for t in found}
        for target, principals in self._resource_policy_principals:
            if id(target) in seen:
                continue
            if principals & names or any("*" in p or "?" in p or session in p.lower() for p in principals):
                if usable is None or self._admits(usable, target):
                    found.append(target)
                seen.add(id(target))
        return found

    def _key_filter(self, identity: Identity, role: Role, actions: tuple[str, ...]) -> KeyFilter | None:
        """The keys the identity may use for the KMS action that reading (all ``actions`` read) or
        writing (all write) a value needs, as far as key policies and grants tell; None otherwise."""
        kms_of: Callable[[SecretRecord], str]
        kms_actions: tuple[str, ...]
        if all(a in ALL_READ_ACTIONS for a in actions):
            kms_of, kms_actions = read_kms_action, ("kms:Decrypt",)
        elif all(a in ALL_WRITE_ACTIONS for a in actions):
            kms_of, kms_actions = write_kms_action, ("kms:Encrypt", "kms:GenerateDataKey")
        else:
            return None
        if self._principal_incomplete(identity):
            return None  # a policy that was not collected makes every key's answer conditional
        principal = self.principal(identity)
        usable = {
            a: frozenset(self._key_index(a).usable(principal, self.allow_patterns(role, [a]))) for a in kms_actions
        }
        return KeyFilter(usable, kms_of)

    def _principal_incomplete(self, identity: Identity) -> bool:
        """Whether a policy on the identity's side (identity, boundary, session, SCPs) was not collected
        or is malformed: the evaluator then answers every request "conditional", never "deny"."""
        hit = self._incomplete.get(identity)
        if hit is None:
            _, _, missing = self.inventory.identity(identity.role_arn)
            self.inventory.org_policies(self.principal(identity).account_id, "scps", missing)
            sp = identity.session_policy
            if sp is not None:
                parsed = self.inventory.policy(json.loads(sp.text), source=sp.source, kind="session")
                missing += [str(parsed)] if isinstance(parsed, PolicyError) else []
            hit = self._incomplete[identity] = bool(missing)
        return hit

    def _key_index(self, action: str) -> KeyIndex:
        hit = self._key_indexes.get(action)
        if hit is None:

            def policy_of(key: KMSKey) -> Policy | None:
                """The key policy; None (any principal may use the key) when unreadable, malformed, or
                when the key's account's RCPs could not be read (its answers are then conditional)."""
                rcp_missing: list[str] = []
                self.inventory.org_policies(key.account_id, "rcps", rcp_missing)
                if key.policy is None or rcp_missing:
                    return None
                parsed = self.inventory.policy(key.policy, source=f"{key.arn} key policy", kind="key")
                return None if isinstance(parsed, PolicyError) else parsed

            hit = self._key_indexes[action] = KeyIndex.build(self.snapshot.kms_keys, policy_of, action)
        return hit

    def _by_key(self) -> dict[str | None, list[SecretRecord]]:
        """Values by the ARN of their key record (None: the key is not in the snapshot), in ARN order."""
        if self._values_by_key is None:
            self._values_by_key = {}
            for t in self._targets.all():
                key = self.key_for(t)[0]
                self._key_of[id(t)] = arn = None if key is None else key.arn
                self._values_by_key.setdefault(arn, []).append(t)
        return self._values_by_key

    def _admits(self, usable: KeyFilter, target: SecretRecord) -> bool:
        self._by_key()
        key = self._key_of[id(target)]
        return key is None or key in usable.keys[usable.kms_of(target)]

    def _by_pattern(self, patterns: set[str], kind: type, usable: KeyFilter | None) -> list[SecretRecord]:
        """Values of ``kind`` an Allow pattern names (and whose key ``usable`` admits), in ARN order.

        Found from whichever side is smaller: the values sharing a pattern's literal prefix, or the
        values under the keys the identity may use (with identity policies on ``*`` and keys that
        name their users, the key side is a handful where the pattern side is every value).
        """
        if usable is None:
            found = [t for t in self._targets.matching(patterns) if isinstance(t, kind)]
        else:
            by_key = self._by_key()
            keys = {k for ks in usable.keys.values() for k in ks}
            groups = [by_key.get(k, ()) for k in (None, *keys)]
            if sum(map(len, groups)) < self._targets.span(patterns):
                found = [t for g in groups for t in g if isinstance(t, kind) and self._targets.matches(t, patterns)]
            else:
                found = [t for t in self._targets.matching(patterns) if isinstance(t, kind)]
            found = [t for t in found if self._admits(usable, t)]
        return sorted(found, key=self._targets.position)

    def all_targets(self) -> list[SecretRecord]:
        return list(self._targets.all())

    def read(
        self, identity: Identity, target: SecretRecord, actions: Iterable[str], *, path: str | None = None
    ) -> ReadLeg | None:
        """Can ``identity`` read the plaintext of ``target`` with one of ``actions``? Read AND decrypt.

        ``path``: for GetParametersByPath, the one path the consumer asks for (default: any ancestor).
        Memoised per (identity, value, actions, path).
        """
        actions = tuple(actions)
        if not self.knows(identity):
            return None
        key = (identity, id(target), actions, path)
        if key in self._reads:
            return self._reads[key]
        shared = self._read_signature(identity, target, actions, path)
        if shared is not None and shared in self._shared_reads:
            result = self._shared_reads[shared]
        else:
            result = self._read(identity, target, actions, path)
            if shared is not None:
                self._shared_reads[shared] = result
        self._reads[key] = result
        return result

    def _read_signature(
        self, identity: Identity, target: SecretRecord, actions: tuple[str, ...], path: str | None
    ) -> Hashable | None:
        """What decides a read + decrypt of ``target`` by ``identity`` as a whole, when every request of
        it has a :func:`.sharing.signature` (the rule for one request, applied to all of them at once);
        None otherwise (the read is worked out on its own).

        Two principals of one kind and account with the same signature here get, request by request,
        the same signatures (the same statements of their own policies take part, position by
        position; the value's, key's and account's layers are the same objects), hence the same
        Decisions and the same read. The value's side is judged once per account and value.
        """
        if identity.session_policy is not None:
            return None
        principal = self.principal(identity)
        requests = self.read_requests(target, actions, path)
        side_key = (principal.account_id, principal.kind, id(target), actions, path)
        side = self._read_sides.get(side_key)
        if side is None:
            side = self._read_sides[side_key] = all(
                shared_layers(self._request_policies(identity, target, resource), action, resource, self._relevant)
                for action, resource in requests
            )
        if not side:
            return None
        # a statement of a policy only this principal holds takes part: no other principal can share
        # the read (the same role with the same tags is the same identity, answered from the memo)
        for policy in self.inventory.private_policies(identity.role_arn):
            part = self._policy_part(policy, target, actions, path, requests)
            if part is None or any(part):
                return None
        # the principal's own layers (the rest of a policy set is the value's, the same for every principal)
        _, own, boundary, own_missing = self.inventory.principal_side(identity.role_arn)
        parts: list[tuple[tuple[int, ...], ...]] = []
        for policy in (*own, *(() if boundary is None else (boundary,))):
            part = self._policy_part(policy, target, actions, path, requests)
            if part is None:
                return None
            parts.append(part)
        return (
            id(target),
            actions,
            path,
            principal.kind,
            principal.account_id,
            principal.service_linked,
            identity.tags,
            own_missing,
            len(own),
            boundary is not None,
            tuple(parts),
        )

    def _policy_part(
        self,
        policy: Policy,
        target: SecretRecord,
        actions: tuple[str, ...],
        path: str | None,
        requests: tuple[tuple[str, str], ...],
    ) -> tuple[tuple[int, ...], ...] | None:
        """:func:`.sharing.policy_part` of ``policy`` for a read of ``target``, once per policy and read."""
        key = (id(policy), id(target), actions, path)
        part = self._policy_parts.get(key, ())
        if part == ():
            part = self._policy_parts[key] = policy_part(policy, requests, self._relevant)
        return part

    def read_requests(
        self, target: SecretRecord, actions: tuple[str, ...], path: str | None
    ) -> tuple[tuple[str, str], ...]:
        """Every (action, resource) a read of ``target`` with ``actions`` may ask the evaluator: each read
        action on the value (GetParametersByPath on each path it may use) and kms:Decrypt on its key."""
        key = (id(target), actions, path)
        hit = self._read_requests.get(key)
        if hit is None:
            out: list[tuple[str, str]] = []
            is_param = isinstance(target, SSMParameter)
            for action in actions:
                if is_param != action.startswith("ssm:"):
                    continue
                if action == "ssm:GetParametersByPath":
                    out.extend((action, arn) for _, arn in self._by_path(target, path))
                else:
                    out.append((action, target.arn))
            if not is_plaintext(target):
                out.append(("kms:Decrypt", self.key_for(target)[1]))
            hit = self._read_requests[key] = tuple(out)
        return hit

    def _by_path(self, target: SecretRecord, only_path: str | None) -> list[tuple[str, str]]:
        """(path, path ARN) a GetParametersByPath of ``only_path`` (default: any ancestor) returns
        ``target`` from, nearest first is last (:func:`parameter_paths` order)."""
        assert isinstance(target, SSMParameter)
        paths = self._paths.get(id(target))
        if paths is None:
            paths = self._paths[id(target)] = parameter_paths(target)
        if only_path is not None:
            wanted = "/" + only_path.strip("/") if only_path.strip("/") else "/"
            paths = [(p, a) for p, a in paths if p == wanted]
        return paths

    def _request_policies(self, identity: Identity, target: SecretRecord, resource: str) -> PolicySet:
        """The policies a request of a read of ``target`` on ``resource`` is evaluated with."""
        if resource == target.arn or not resource.startswith(f"arn:{partition_of(resource)}:kms:"):
            return self.policies(identity, resource)
        return self._kms_policies(identity, target)[0]

    def _read(
        self, identity: Identity, target: SecretRecord, actions: tuple[str, ...], path: str | None
    ) -> ReadLeg | None:
        read_legs: list[tuple[str, Leg]] = []
        for action in actions:
            leg = self._read_leg(identity, target, action, path)
            if leg is not None:
                read_legs.append((action, leg))
        if not read_legs:
            return None
        decrypt = self.decrypt_leg(identity, target)
        if decrypt is None:
            return None
        allowed = [(a, leg) for a, leg in read_legs if leg.decision == "allow"]
        chosen = allowed or read_legs
        read = combine([chosen[0][1]])
        assert read is not None
        leg = combine([read, decrypt])
        assert leg is not None
        return ReadLeg(leg=leg, actions=tuple(a for a, _ in read_legs), read=read, decrypt=decrypt)

    def write(self, identity: Identity, target: SecretRecord) -> ReadLeg | None:
        """Can ``identity`` overwrite ``target``? The put action AND the KMS action the service calls
        to encrypt the new value (SSM standard tier: kms:Encrypt; advanced tier and Secrets Manager:
        kms:GenerateDataKey), with the same ViaService and encryption context as reading."""
        if not self.knows(identity):
            return None
        is_param = isinstance(target, SSMParameter)
        action = SSM_WRITE_ACTION if is_param else SM_WRITE_ACTION
        put = from_decision(self._request(identity, action, target.arn, {}, ()), f"{action} on {target.arn}")
        if put is None:
            return None
        encrypt = self.kms(identity, target, write_kms_action(target))
        leg = combine([put, encrypt])
        if leg is None or encrypt is None:
            return None
        return ReadLeg(leg=leg, actions=(action,), read=put, decrypt=encrypt)

    def _read_leg(self, identity: Identity, target: SecretRecord, action: str, only_path: str | None) -> Leg | None:
        is_param = isinstance(target, SSMParameter)
        if is_param != action.startswith("ssm:"):
            return None
        if action == "ssm:GetParametersByPath":
            assert isinstance(target, SSMParameter)
            best: Leg | None = None
            for path, path_arn in reversed(self._by_path(target, only_path)):
                d = self._request(identity, action, path_arn, {}, ("path", path_arn))
                leg = from_decision(d, f"{action} Path={path} (returns {target.name})")
                if leg is not None and (best is None or (best.decision == "conditional" and leg.decision == "allow")):
                    best = leg
                if best is not None and best.decision == "allow":
                    break
            return best
        d = self._request(identity, action, target.arn, {}, ())
        return from_decision(d, f"{action} on {target.arn}")

    def _request(
        self, identity: Identity, action: str, resource: str, context: Mapping[str, Any], extra: tuple[Any, ...]
    ) -> Decision:
        key = ("req", identity, action, resource, *extra)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        policies = self.policies(identity, resource)
        if self._no_allow_can_cover(identity, action, resource, policies):
            # half the requests of a read end here, before a request or its signature is made; the
            # answer is never shared (the shared answers are the evaluator's own)
            self._cache[key] = _IMPLICIT_DENY
            return _IMPLICIT_DENY
        request = Request(
            principal=self.principal(identity),
            action=action,
            resource=resource,
            context=context,
            context_complete=False,
        )
        return self._evaluate(request, policies, key)

    def _no_allow_can_cover(self, identity: Identity, action: str, resource: str, policies: PolicySet) -> bool:
        """True when only an identity Allow could allow this request and none can cover it.

        That holds for a role's request in its own account on a resource without a resource policy,
        with every policy collected: the evaluator then allows only through an identity statement
        for the action whose Resource matches, and :func:`allowed_resource_patterns` over-approximates
        those. The answer is an implicit deny, known without evaluating the policies.
        """
        role = self.roles.get(identity.role_arn)
        if (
            role is None
            or policies.missing
            or policies.resource is not None
            or policies.resource_kind != "generic"
            or account_of(resource) != role.account_id
        ):
            return False
        key = (role.arn, action)
        patterns = self._allow_patterns.get(key)
        if patterns is None:
            patterns = self._allow_patterns[key] = self.allow_patterns(role, [action])
        return not any(wildcard_match(p, resource) for p in patterns)

    def key_for(self, target: SecretRecord) -> tuple[KMSKey | None, str, str | None]:
        """The KMS key of a value: (record or None, key ARN used for evaluation, AWS-managed service or None).

        Only for encrypted values (SecureString parameters and secrets); see :func:`is_plaintext`."""
        if isinstance(target, SSMParameter):
            ref, service = target.key_id, "ssm"
        else:
            ref, service = target.kms_key_id, "secretsmanager"
        if ref is None or ref in (_AWS_MANAGED_ALIASES[service], f"alias/aws/{service}"):
            ref = _AWS_MANAGED_ALIASES[service]
        key = self._keys_by_ref.get(ref) or self._keys_by_ref.get(f"{target.account_id}/{target.region}/{ref}")
        if key is not None:
            return key, key.arn, service if key.manager == "AWS" else None
        if ref == _AWS_MANAGED_ALIASES[service]:
            arn = f"arn:{partition_of(target.arn)}:kms:{target.region}:{target.account_id}:{ref}"
            return None, arn, service
        if ref.startswith("arn:"):
            return None, ref, None
        if ref.startswith("alias/"):
            return None, f"arn:{partition_of(target.arn)}:kms:{target.region}:{target.account_id}:{ref}", None
        return None, f"arn:{partition_of(target.arn)}:kms:{target.region}:{target.account_id}:key/{ref}", None

    def _kms_policies(self, identity: Identity, target: SecretRecord) -> tuple[PolicySet, bool]:
        """The policies of a request on the value's key, and whether they hold the documented key
        policy of an AWS managed key (used when the key or its policy is not in the snapshot; parsed
        once per service, account and region)."""
        key, key_arn, managed_service = self.key_for(target)
        policies = self.policies(identity, key_arn)
        if managed_service is None or (key is not None and key.policy is not None):
            return policies, False
        where = (managed_service, target.account_id, target.region)
        documented = self._documented.get(where)
        if documented is None:
            doc = aws_managed_key_policy(*where)
            source = f"documented key policy of alias/aws/{managed_service}"
            documented = self._documented[where] = parse_policy(doc, source=source, kind="key")
        policies = dataclasses.replace(
            policies,
            resource=documented,
            resource_account=target.account_id,
            resource_kind="kms-key",
            grants=(),
            rcps=None,
            rcp_missing=(),
            missing=tuple(m for m in policies.missing if key_arn not in m),
        )
        return policies, True

    def decrypt_leg(self, identity: Identity, target: SecretRecord) -> Leg | None:
        """kms:Decrypt as the service does it for this value (ViaService, CallerAccount, encryption context)."""
        return self.kms(identity, target, "kms:Decrypt")

    def kms(self, identity: Identity, target: SecretRecord, action: str) -> Leg | None:
        """A KMS ``action`` as the service calls it for this value (ViaService, CallerAccount, context);
        none for a plaintext parameter."""
        if is_plaintext(target):
            return plaintext_leg(target, action)
        key, key_arn, managed_service = self.key_for(target)
        principal = self.principal(identity)
        if isinstance(target, SSMParameter):
            service = "ssm"
            ec = {"kms:EncryptionContext:PARAMETER_ARN": target.arn, "kms:EncryptionContextKeys": ["PARAMETER_ARN"]}
        else:
            service = "secretsmanager"
            ec = {
                "kms:EncryptionContext:SecretARN": target.arn,
                "kms:EncryptionContextKeys": ["SecretARN", "SecretVersionId"],
            }
        context: dict[str, str | Sequence[str]] = {
            "kms:ViaService": f"{service}.{target.region}.amazonaws.com",
            "kms:CallerAccount": principal.account_id or "",
            **ec,
        }
        what = f"{action} on {key_arn} via {service} for {target.name}"
        request = Request(principal=principal, action=action, resource=key_arn, context=context, context_complete=False)
        cache_key = (action, identity, key_arn, target.arn)
        policies, documented = self._kms_policies(identity, target)
        if documented:
            leg = from_decision(self._evaluate(request, policies, cache_key), what)
            note = f"{what}: AWS managed key alias/aws/{managed_service}; its documented key policy was used"
            return None if leg is None else dataclasses.replace(leg, evidence=(note, *leg.evidence))
        if key is None:
            return Leg(
                decision="conditional",
                evidence=(f"{what}: key {key_arn} is not in the snapshot; its use cannot be judged",),
                unresolved=("kms:key-policy",),
            )
        decision = self._evaluate(request, policies, cache_key)
        if key.policy is None:
            # Unreadable key policy: an allow cannot be established, but neither can a deny (unless
            # explicit, or the key's state refuses the operation whatever the policy says).
            if decision.outcome == "deny" and (decision.explicit_deny or key_state_blocks(key.key_state, action)):
                return None
            return Leg(
                decision="conditional",
                evidence=(f"{what}: key policy of {key_arn} could not be read",),
                unresolved=("kms:key-policy",),
            )
        return from_decision(decision, what)


ReadConsumer = Literal["direct", "kes", "eso", "csi"]


def consumer_actions(consumer: ReadConsumer, target: SecretRecord, *, by_path: bool = False) -> tuple[str, ...]:
    """The exact API actions a consumer calls to fetch ``target`` (see domain-spec §1.3, §2.4, §3.1)."""
    if isinstance(target, SecretsManagerSecret):
        return SM_READ_ACTIONS
    if consumer == "direct":
        return SSM_READ_ACTIONS
    if consumer == "csi":
        return ("ssm:GetParameters",)
    return ("ssm:GetParametersByPath",) if by_path else ("ssm:GetParameter",)
