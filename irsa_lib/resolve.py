"""From snapshot records to evaluator inputs: principals, their policies, and resource policies.

``Inventory.from_snapshot`` indexes a snapshot once (roles, users, groups, managed policies, keys by
ARN / key id / alias, parameters, secrets, accounts) and caches every parsed policy. A policy that
takes part but cannot be used (a managed policy not in the snapshot, an unreadable key, secret or
parameter resource policy, a malformed document, SCPs that could not be read) is listed in ``PolicySet.missing`` so the
decision says "uncertain" instead of silently treating it as "no policy".

>>> from irsa_lib.snapshot import Snapshot
>>> inv = Inventory.from_snapshot(Snapshot(created_at="2026-01-01T00:00:00Z"))
>>> inv.find_role("arn:aws:iam::111122223333:role/none") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from irsa_lib.errors import IrsaError, UsageError
from irsa_lib.model import Account, Group, KMSKey, ManagedPolicy, Role, SecretsManagerSecret, SSMParameter, User
from irsa_lib.policy import Policy, PolicyError, PolicySet, Principal, combine_policies, parse_policy
from irsa_lib.policy.arn import account_of, normalize_resource, parse_arn
from irsa_lib.policy.document import PolicyKind
from irsa_lib.policy.errors import UnknownDocumentError
from irsa_lib.policy.policyset import ResourceKind
from irsa_lib.policy.principals import SERVICE_LINKED_PATH, infer_principal, is_service_linked_arn
from irsa_lib.policy.unknown import unknown_reason
from irsa_lib.snapshot import Snapshot

KNOWN_AWS_MANAGED: tuple[ManagedPolicy, ...] = (
    # The secret-relevant statement of AmazonSSMManagedInstanceCore, often attached to node roles:
    # ssm:GetParameter(s) on every parameter (AWS managed policy reference). Used only when the
    # snapshot lacks the policy (hand-written snapshots); a collected copy always wins.
    ManagedPolicy(
        arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        name="AmazonSSMManagedInstanceCore",
        document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": "*"}],
        },
        aws_managed=True,
    ),
)


def unusable(error: PolicyError) -> str:
    """Why a policy that takes part cannot be read: not known yet, or malformed."""
    return str(error) if isinstance(error, UnknownDocumentError) else f"malformed policy: {error}"


class UnknownPrincipalError(IrsaError, LookupError):
    """A principal ARN that names no role or user in the snapshot."""


def parameter_paths(param: SSMParameter) -> list[tuple[str, str]]:
    """(path, path ARN) of every ancestor path GetParametersByPath could return this parameter from.

    The direct parent works with or without ``Recursive``; higher ancestors need ``Recursive``
    (which KES and ESO both can set). Names without a leading slash are not hierarchical.
    """
    if not param.name.startswith("/"):
        return []
    prefix = param.arn[: len(param.arn) - len(param.name.lstrip("/"))]  # "...:parameter/"
    segments = param.name.strip("/").split("/")[:-1]
    out = [("/", prefix)]
    for i in range(1, len(segments) + 1):
        path = "/" + "/".join(segments[:i])
        out.append((path, prefix + path.lstrip("/")))
    return out


def is_service_linked(role: Role) -> bool:
    """A service-linked role: flagged at collection, or on the ``/aws-service-role/`` path (a record from a
    source that did not set the flag); SCPs and RCPs do not apply to it."""
    return role.service_linked or role.path.startswith("/" + SERVICE_LINKED_PATH) or is_service_linked_arn(role.arn)


def principal_for_role(role: Role) -> Principal:
    """The evaluator's principal for (any session of) an IAM role."""
    return Principal(
        role.arn,
        "role",
        account_id=role.account_id,
        role_arn=role.arn,
        unique_id=role.role_id,
        tags=dict(role.tags),
        service_linked=is_service_linked(role),
    )


def principal_for_user(user: User) -> Principal:
    """The evaluator's principal for an IAM user."""
    return Principal(user.arn, "user", account_id=user.account_id, unique_id=user.user_id, tags=dict(user.tags))


@dataclass
class Inventory:
    """Snapshot records indexed for evaluation, with parsed policies cached."""

    snapshot: Snapshot
    roles: dict[str, Role] = field(default_factory=dict)
    roles_by_name: dict[tuple[str, str], Role] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[tuple[str, str], Group] = field(default_factory=dict)
    managed_policies: dict[str, ManagedPolicy] = field(default_factory=dict)
    keys: dict[str, KMSKey] = field(default_factory=dict)
    """By key ARN, key id, alias name (``alias/x``) and alias ARN."""
    parameters: dict[str, SSMParameter] = field(default_factory=dict)
    secrets: dict[str, SecretsManagerSecret] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Policies that could not be parsed (each names the record and the statement)."""
    _parsed: dict[tuple[str, str], Policy | PolicyError] = field(default_factory=dict, repr=False)
    _principal_sides: dict[str, tuple[Principal, tuple[Policy, ...], Policy | None, tuple[str, ...]]] = field(
        default_factory=dict, repr=False
    )
    _private: dict[str, tuple[Policy, ...]] = field(default_factory=dict, repr=False)
    _resource_sides: dict[
        str, tuple[Policy | None, ResourceKind, tuple[Any, ...], str | None, KMSKey | None, tuple[str, ...], bool]
    ] = field(default_factory=dict, repr=False)
    _paths: set[str] | None = field(default=None, repr=False)
    _tags: dict[str, Mapping[str, str] | None] = field(default_factory=dict, repr=False)
    _org_levels: dict[tuple[str | None, str], tuple[list[list[Policy]] | None, tuple[str, ...]]] = field(
        default_factory=dict, repr=False
    )

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as :meth:`from_snapshot` builds it: without the parsed policies and what derives from
        them (they hold compiled matchers and are rebuilt on use). Dask moves an inventory between
        worker processes while another task may be filling these caches."""
        state = dict(self.__dict__)
        for f in fields(self):
            if f.name.startswith("_") or f.name == "problems":
                state[f.name] = f.default_factory() if f.default_factory is not MISSING else f.default
        return state

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> Inventory:
        """Index every record of ``snapshot``."""
        inv = cls(snapshot)
        for r in snapshot.roles:
            inv.roles[r.arn] = r
            inv.roles_by_name[(r.account_id, r.name.lower())] = r
        inv.users = {u.arn: u for u in snapshot.users}
        inv.groups = {(g.account_id, g.name): g for g in snapshot.groups}
        inv.managed_policies = {p.arn: p for p in KNOWN_AWS_MANAGED}
        inv.managed_policies.update({p.arn: p for p in snapshot.managed_policies})
        for k in snapshot.kms_keys:
            inv.keys[k.arn] = k
            inv.keys[k.key_id] = k
            for alias in k.aliases:
                inv.keys[alias] = k
                inv.keys[f"arn:aws:kms:{k.region}:{k.account_id}:{alias}"] = k
        for p in snapshot.ssm_parameters:
            inv.parameters[normalize_resource(p.arn)] = p
        for s in snapshot.secrets:
            inv.secrets[s.arn] = s
        inv.accounts = {a.account_id: a for a in snapshot.accounts}
        return inv

    # -- policies -------------------------------------------------------------------------------
    def policy(self, document: Mapping[str, Any], *, source: str, kind: PolicyKind) -> Policy | PolicyError:
        """The parsed policy (cached by source and kind), or the error that made it unusable."""
        key = (source, kind)
        found = self._parsed.get(key)
        if found is None:
            reason = unknown_reason(document)
            if reason is not None:
                found = UnknownDocumentError(f"{source}: {reason}")
                self._parsed[key] = found
                return found
            try:
                found = parse_policy(document, source=source, kind=kind)
            except PolicyError as exc:
                found = exc
                self.problems.append(str(exc))
            self._parsed[key] = found
        return found

    def _collect(
        self, document: Mapping[str, Any], source: str, kind: PolicyKind, out: list[Policy], missing: list[str]
    ) -> None:
        parsed = self.policy(document, source=source, kind=kind)
        if isinstance(parsed, PolicyError):
            missing.append(unusable(parsed))
        else:
            out.append(parsed)

    def _managed(self, arn: str, owner: str, kind: PolicyKind, out: list[Policy], missing: list[str]) -> None:
        mp = self.managed_policies.get(arn)
        if mp is None:
            missing.append(f"managed policy {arn} (attached to {owner}) is not in the snapshot")
        else:
            self._collect(mp.document, arn, kind, out, missing)

    # -- principals -----------------------------------------------------------------------------
    def find_role(self, arn: str) -> Role | None:
        """A role by ARN, or by account and name (role names are case-insensitive)."""
        role = self.roles.get(arn)
        if role is None:
            parsed = parse_arn(arn)
            if parsed is not None and parsed.resource.startswith("role/"):
                role = self.roles_by_name.get((parsed.account, parsed.resource.rsplit("/", 1)[-1].lower()))
        return role

    def principal(self, arn: str) -> Principal:
        """The principal an ARN names: a role, a user, a role session, an account root, a provider or service."""
        role = self.find_role(arn)
        if role is not None:
            return principal_for_role(role)
        user = self.users.get(arn)
        if user is not None:
            return principal_for_user(user)
        parsed = parse_arn(arn)
        if parsed is not None and parsed.resource.startswith("assumed-role/"):
            parts = parsed.resource.split("/")
            role = self.roles_by_name.get((parsed.account, parts[1].lower())) if len(parts) >= 3 else None
            if role is None:
                raise UnknownPrincipalError(
                    f"no role {parts[1] if len(parts) > 1 else '?'} in account {parsed.account} for session {arn}"
                )
            return Principal(
                arn, "session", role.account_id, role.arn, role.role_id, dict(role.tags), is_service_linked(role)
            )
        if parsed is not None and parsed.resource.startswith(("role/", "user/")):
            raise UnknownPrincipalError(f"principal {arn} is not in the snapshot")
        try:
            return infer_principal(arn)
        except PolicyError as exc:
            raise UnknownPrincipalError(str(exc)) from None

    def identity(self, principal_arn: str) -> tuple[list[Policy], Policy | None, list[str]]:
        """Identity policies, permission boundary and what is missing, for a role, session or user."""
        out: list[Policy] = []
        missing: list[str] = []
        boundary: list[Policy] = []
        holder = self._holder(self.principal(principal_arn))
        if holder is None:
            return out, None, missing
        user = holder if isinstance(holder, User) else None
        self._inline(holder, out, missing)
        for arn in holder.attached_policy_arns:
            self._managed(arn, holder.arn, "identity", out, missing)
        if user is not None:
            for gname in user.group_names:
                group = self.groups.get((user.account_id, gname))
                if group is None:
                    missing.append(f"group {gname} of {user.arn} is not in the snapshot")
                    continue
                self._inline(group, out, missing)
                for arn in group.attached_policy_arns:
                    self._managed(arn, group.arn, "identity", out, missing)
        if holder.permissions_boundary_arn:
            self._managed(holder.permissions_boundary_arn, holder.arn, "boundary", boundary, missing)
            if not boundary:  # unknown boundary: keep it from being read as "no boundary"
                boundary.append(
                    Policy(source=holder.permissions_boundary_arn, kind="boundary", version=None, statements=())
                )
        return out, (boundary[0] if boundary else None), missing

    # -- organizations --------------------------------------------------------------------------
    def org_policies(self, account_id: str | None, attr: str, missing: list[str]) -> list[list[Policy]] | None:
        """SCP or RCP levels of an account; None when none apply (no org, management account)."""
        acct = self.accounts.get(account_id or "")
        if acct is None or acct.management_account:
            return None
        levels = acct.scps if attr == "scps" else acct.rcps
        if levels is None:
            if acct.organization_id:
                missing.append(f"{attr.upper()[:-1]}s of account {acct.account_id} could not be read")
            return None
        kind: PolicyKind = "scp" if attr == "scps" else "rcp"
        out: list[list[Policy]] = []
        for level in levels:
            policies: list[Policy] = []
            for op in level:
                self._collect(
                    op.document, f"{kind} {op.name} ({op.policy_id}) on {op.target_id}", kind, policies, missing
                )
            out.append(policies)
        return out

    # -- resources ------------------------------------------------------------------------------
    def find_key(self, ref: str) -> KMSKey | None:
        """A KMS key by key ARN, key id, alias name or alias ARN."""
        return self.keys.get(ref)

    def resource_side(
        self, resource_arn: str, missing: list[str]
    ) -> tuple[Policy | None, ResourceKind, Sequence[Any], str | None]:
        """The resource policy, kind, grants and account of a resource."""
        parsed = parse_arn(resource_arn)
        account = parsed.account if parsed else None
        if parsed is None:
            return None, "generic", (), None
        if parsed.service == "iam" and parsed.resource.startswith("role/"):
            role = self.find_role(resource_arn)
            if role is None:
                missing.append(f"role {resource_arn} is not in the snapshot (trust policy unknown)")
                return None, "role-trust", (), account
            trust = self.policy(role.trust_policy, source=f"{role.arn} trust policy", kind="trust")
            if isinstance(trust, PolicyError):
                missing.append(unusable(trust))
                return None, "role-trust", (), account
            return trust, "role-trust", (), role.account_id
        if parsed.service == "kms":
            key = self.find_key(resource_arn)
            if key is None:
                missing.append(f"KMS key {resource_arn} is not in the snapshot (key policy unknown)")
                return None, "kms-key", (), account
            if key.policy is None:
                missing.append(f"key policy of {key.arn} could not be read")
                return None, "kms-key", key.grants, key.account_id
            kp = self.policy(key.policy, source=f"{key.arn} key policy", kind="key")
            if isinstance(kp, PolicyError):
                missing.append(unusable(kp))
                return None, "kms-key", key.grants, key.account_id
            return kp, "kms-key", key.grants, key.account_id
        if parsed.service == "ssm":
            param = self.parameters.get(normalize_resource(resource_arn))
            if param is not None and not param.resource_policy_readable:
                missing.append(f"resource policies of parameter {param.arn} could not be read")
                return None, "generic", (), param.account_id
            if param is None or not param.resource_policies:
                return None, "generic", (), account
            docs: list[Policy] = []
            for i, doc in enumerate(param.resource_policies):
                self._collect(doc, f"{param.arn} resource policy {i}", "resource", docs, missing)
            return (
                combine_policies(docs, source=f"{param.arn} resource policies", kind="resource"),
                "generic",
                (),
                param.account_id,
            )
        if parsed.service == "secretsmanager":
            secret = self.secrets.get(resource_arn)
            if secret is not None and not secret.resource_policy_readable:
                missing.append(f"resource policy of secret {secret.arn} could not be read")
                return None, "generic", (), secret.account_id
            if secret is None or secret.resource_policy is None:
                return None, "generic", (), account
            sp = self.policy(secret.resource_policy, source=f"{secret.arn} resource policy", kind="resource")
            if isinstance(sp, PolicyError):
                missing.append(unusable(sp))
                return None, "generic", (), secret.account_id
            return sp, "generic", (), secret.account_id
        return None, "generic", (), account

    def policy_set_for(self, principal_arn: str, resource_arn: str) -> PolicySet:
        """Every policy deciding whether ``principal_arn`` may act on ``resource_arn``.

        Built from three memoised parts (the principal's policies, the resource's, each account's
        SCP/RCP levels): the graph and the findings ask about every principal x resource pair, and
        the inventory does not change once built.
        """
        p, identity, boundary, id_missing = self.principal_side(principal_arn)
        resource, kind, grants, resource_account, key, res_missing, complete = self._resource_side(resource_arn)
        scps, scp_missing = self._org(p.account_id, "scps")
        rcps, rcp_missing = (
            (None, ()) if key is not None and key.manager == "AWS" else self._org(resource_account, "rcps")
        )
        return PolicySet(
            identity=identity,
            boundary=boundary,
            resource=resource,
            resource_account=resource_account,
            resource_kind=kind,
            grants=grants,
            scps=scps,
            rcps=rcps,
            missing=(*id_missing, *res_missing),
            scp_missing=scp_missing,
            rcp_missing=rcp_missing,
            resource_complete=complete,
            key_state=key.key_state if key is not None else None,
            resource_tags=self._resource_tags(resource_arn),
        )

    def resource_tags(self, resource_arn: str) -> Mapping[str, str] | None:
        """The tags of the resource a request is on, when the snapshot knows them: a role (GAAD), a
        secret (ListSecrets), a KMS key or a parameter whose tags were collected. None otherwise (a
        parameter path, an uncollected resource): ``aws:ResourceTag`` conditions then stay unresolved."""
        parsed = parse_arn(resource_arn)
        if parsed is None:
            return None
        if parsed.service == "iam" and parsed.resource.startswith("role/"):
            role = self.find_role(resource_arn)
            return role.tags if role is not None else None
        if parsed.service == "kms":
            key = self.find_key(resource_arn)
            return key.tags if key is not None else None
        if parsed.service == "ssm":
            param = self.parameters.get(normalize_resource(resource_arn))
            return param.tags if param is not None else None
        if parsed.service == "secretsmanager":
            secret = self.secrets.get(resource_arn)
            return secret.tags if secret is not None else None
        return None

    def _resource_tags(self, resource_arn: str) -> Mapping[str, str] | None:
        """:meth:`resource_tags`, once per resource (every request on a value asks for them)."""
        if resource_arn not in self._tags:
            self._tags[resource_arn] = self.resource_tags(resource_arn)
        return self._tags[resource_arn]

    def alias_policy_set(
        self, principal_arn: str, action: str, alias: str, target_key: str | None = None
    ) -> tuple[str, PolicySet]:
        """The alias ARN and policies of KMS alias management (CreateAlias / UpdateAlias / DeleteAlias).

        The alias side is the principal's policies (an alias has no resource policy, KMS dev guide
        alias-access); ``alias_keys`` holds each key the request affects: the key the alias points to
        (UpdateAlias, DeleteAlias) and ``target_key`` (CreateAlias, UpdateAlias). A key that is needed
        but not known is kept as a placeholder whose policy is missing, so the answer stays uncertain.
        """
        current = self.find_key(alias)
        target = self.find_key(target_key) if target_key else None
        if target_key and target is None and not target_key.startswith("arn:"):
            raise UsageError(f"--target-key {target_key}: no such KMS key in the snapshot (give its ARN)")
        where = current or target
        if alias.startswith("arn:"):
            alias_arn = alias
        elif where is not None and alias.startswith("alias/"):
            alias_arn = f"arn:{where.arn.split(':')[1]}:kms:{where.region}:{where.account_id}:{alias}"
        else:
            raise UsageError(f"{alias}: give the alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME)")
        op = action.split(":", 1)[-1].lower()
        keys: list[tuple[str, PolicySet]] = []
        if op in ("updatealias", "deletealias"):
            keys.append(self._alias_key(principal_arn, current.arn if current else None, f"the key {alias} points to"))
        if op in ("createalias", "updatealias"):
            arn = target.arn if target else target_key
            keys.append(self._alias_key(principal_arn, arn, "the target key (--target-key)"))
        p, identity, boundary, missing = self.principal_side(principal_arn)
        scps, scp_missing = self._org(p.account_id, "scps")
        parsed = parse_arn(alias_arn)
        account = parsed.account if parsed is not None else None
        rcps, rcp_missing = self._org(account, "rcps")
        policies = PolicySet(
            identity=identity,
            boundary=boundary,
            resource_account=account,
            scps=scps,
            rcps=rcps,
            missing=missing,
            scp_missing=scp_missing,
            rcp_missing=rcp_missing,
            alias_keys=tuple(keys),
        )
        return alias_arn, policies

    def _alias_key(self, principal_arn: str, key_arn: str | None, what: str) -> tuple[str, PolicySet]:
        if key_arn is None:
            return what, PolicySet(resource_kind="kms-key", missing=(f"{what} is not known",))
        return key_arn, self.policy_set_for(principal_arn, key_arn)

    def principal_side(
        self, principal_arn: str
    ) -> tuple[Principal, tuple[Policy, ...], Policy | None, tuple[str, ...]]:
        """The principal, its identity policies, boundary and what of them could not be read: the part of
        every policy set of the principal that does not depend on the resource (memoised)."""
        hit = self._principal_sides.get(principal_arn)
        if hit is None:
            p = self.principal(principal_arn)  # raises for an unknown principal: not memoised
            identity, boundary, missing = self.identity(principal_arn)
            hit = self._principal_sides[principal_arn] = (p, tuple(identity), boundary, tuple(missing))
        return hit

    def private_policies(self, principal_arn: str) -> tuple[Policy, ...]:
        """The identity policies no other principal holds: the role's or user's own inline policies, as
        :meth:`identity` parses them (a group's and managed policies are shared). Memoised."""
        hit = self._private.get(principal_arn)
        if hit is None:
            found: list[Policy] = []
            holder = self._holder(self.principal(principal_arn))
            if holder is not None:
                self._inline(holder, found, [])
            hit = self._private[principal_arn] = tuple(found)
        return hit

    def _holder(self, p: Principal) -> Role | User | None:
        """The role or user whose policies ``p`` has (a role session: its role)."""
        role = self.find_role(p.role_arn) if p.role_arn else None
        return role or (self.users.get(p.arn) if p.kind == "user" else None)

    def _inline(self, owner: Role | User | Group, out: list[Policy], missing: list[str]) -> None:
        """The inline policies of ``owner``, parsed (once) into ``out``; the unusable ones named in ``missing``."""
        for ip in owner.inline_policies:
            self._collect(ip.document, f"{owner.arn} inline {ip.name}", "identity", out, missing)

    def _resource_side(
        self, resource_arn: str
    ) -> tuple[Policy | None, ResourceKind, tuple[Any, ...], str | None, KMSKey | None, tuple[str, ...], bool]:
        hit = self._resource_sides.get(resource_arn)
        if hit is None:
            missing: list[str] = []
            resource, kind, grants, account = self.resource_side(resource_arn, missing)
            key = self.find_key(resource_arn) if kind == "kms-key" else None
            complete = not missing and self._is_value(resource_arn)
            hit = (resource, kind, tuple(grants), account, key, tuple(missing), complete)
            self._resource_sides[resource_arn] = hit
        return hit

    def closed_account(self, resource_arn: str) -> str | None:
        """The account of a resource known to have no resource-based policy (a parameter, a path above
        collected parameters, a secret whose policy was read and is absent); None otherwise. Across
        accounts a request on such a resource is denied, whatever the principal's policies say."""
        resource, kind, _, account, _, _, complete = self._resource_side(resource_arn)
        if resource is not None or kind != "generic" or not complete:
            return None
        return account or account_of(normalize_resource(resource_arn))

    def _is_value(self, resource_arn: str) -> bool:
        """A parameter or secret of the snapshot (whose resource policies were collected with it), or
        a path above collected parameters (what GetParametersByPath is authorised on): paths carry no
        resource policy, and one that names no collected parameter is none, since collection lists
        every parameter of an account and region."""
        parsed = parse_arn(resource_arn)
        if parsed is None:
            return False
        if parsed.service == "ssm":
            arn = normalize_resource(resource_arn)
            return arn in self.parameters or arn in self._parameter_paths()
        return parsed.service == "secretsmanager" and resource_arn in self.secrets

    def _parameter_paths(self) -> set[str]:
        """ARNs of every path above a collected parameter (``.../parameter/a``, ``.../parameter/a/b``)."""
        if self._paths is None:
            self._paths = {normalize_resource(arn) for p in self.parameters.values() for _, arn in parameter_paths(p)}
        return self._paths

    def _org(self, account_id: str | None, attr: str) -> tuple[list[list[Policy]] | None, tuple[str, ...]]:
        key = (account_id, attr)
        hit = self._org_levels.get(key)
        if hit is None:
            missing: list[str] = []
            levels = self.org_policies(account_id, attr, missing)
            hit = self._org_levels[key] = (levels, tuple(missing))
        return hit


def identity_policies(inventory: Inventory, principal_arn: str) -> list[Policy]:
    """The identity policies of a role, role session or user (a user's groups included), as every
    policy set of the principal holds them (collected once per principal)."""
    return list(inventory.principal_side(principal_arn)[1])


def policy_set_for(inventory: Inventory, principal_arn: str, resource_arn: str) -> PolicySet:
    """The PolicySet for one principal and one resource (see :meth:`Inventory.policy_set_for`)."""
    return inventory.policy_set_for(principal_arn, resource_arn)
