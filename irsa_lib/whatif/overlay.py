"""Overlay a Terraform plan (and changed manifests) on a snapshot: the state the change would leave.

Pure: a :class:`~irsa_lib.whatif.plan.Plan` and a Snapshot in, a new Snapshot out, plus what was
done to which record and which values could not be known. Records are matched by ARN (from the
plan's ``before``/``after``) or by name; created, updated and replaced resources take the planned
values, deleted ones leave. A resource the snapshot does not hold yet gets its ARN from the plan's
known values, else one derived from its name, account and region (IAM, SSM, EKS, OIDC), else a
stated placeholder (``.../planned-<address>``; ``<name>-tfplan`` for a new secret, whose six random
characters AWS picks at apply).

A value known only after apply (or withheld as sensitive) that the analysis depends on never
becomes an allow or a silent no: a policy document becomes an unknown document
(:mod:`irsa_lib.policy.unknown`), so every decision it takes part in is ``conditional`` and names
the attribute; an unknown key, role or policy reference becomes a placeholder record holding such
documents. A reference to a resource planned in the same plan (``aws_kms_key.orders.arn``) is
resolved through the plan's configuration instead.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from irsa_lib.collect.documents import decode_policy
from irsa_lib.collect.k8s_parse import K8S_RECORD_FIELDS as K8S_FIELDS
from irsa_lib.collect.k8s_parse import ObjectError, parse_object, snapshot_field
from irsa_lib.errors import UsageError
from irsa_lib.model import (
    EKSCluster,
    Grant,
    GrantConstraints,
    InlinePolicy,
    KMSKey,
    ManagedPolicy,
    OIDCProvider,
    PodIdentityAssociation,
    PolicyDocument,
    Role,
    SecretsManagerSecret,
    SSMParameter,
)
from irsa_lib.policy.arn import parse_arn
from irsa_lib.policy.unknown import unknown_document
from irsa_lib.snapshot import Snapshot
from irsa_lib.whatif.plan import Plan, PlannedChange, Unknown, Withheld

SECRET_SUFFIX = "tfplan"
"""Stands for the six random characters AWS appends to a new secret's ARN."""

_FIRST = ("aws_iam_policy", "aws_iam_openid_connect_provider", "aws_kms_key", "aws_eks_cluster")
_SECOND = ("aws_iam_role", "aws_ssm_parameter", "aws_secretsmanager_secret")
# everything else (attachments, inline policies, aliases, grants, secret policies, associations,
# Kubernetes objects) is applied after the records it points at exist


@dataclass(frozen=True)
class Effect:
    """What the overlay did for one planned change."""

    address: str
    action: str
    target: str
    """The record changed: an ARN, or a Kubernetes id ``cluster/namespace/Kind/name``."""
    detail: str = ""


@dataclass(frozen=True)
class Overlay:
    """The snapshot after the change, and how it was made."""

    snapshot: Snapshot
    effects: tuple[Effect, ...] = ()
    unknowns: tuple[str, ...] = ()
    """Values known only after apply (or withheld as sensitive) that the analysis depends on."""
    unknown_addresses: Mapping[str, str] = field(default_factory=dict)
    """Each of ``unknowns`` -> the address of the resource whose value it is."""
    placeholders: tuple[str, ...] = ()
    """Identities made up for resources whose ARN the plan does not know, each saying so."""
    skipped: tuple[str, ...] = ()
    """Planned changes not applied, each with the reason."""

    def origins(self) -> dict[str, tuple[str, ...]]:
        """Changed record (ARN or Kubernetes id) -> the plan addresses or manifest sources that changed it."""
        out: dict[str, list[str]] = defaultdict(list)
        for e in self.effects:
            if e.address not in out[e.target]:
                out[e.target].append(e.address)
        return {k: tuple(v) for k, v in out.items()}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float | bool)}


class _State:
    """The records being overlaid, indexed the way planned changes find them."""

    def __init__(self, base: Snapshot, plan: Plan, account_id: str | None, region: str | None, cluster: str | None):
        self.base = base
        self.roles = {r.arn: r for r in base.roles}
        self.policies = {p.arn: p for p in base.managed_policies}
        self.providers = {p.arn: p for p in base.oidc_providers}
        self.keys = {k.arn: k for k in base.kms_keys}
        self.params = {p.arn: p for p in base.ssm_parameters}
        self.secrets = {s.arn: s for s in base.secrets}
        self.clusters = {c.name: c for c in base.clusters}
        self.associations = {a.association_arn: a for a in base.pod_identity_associations}
        self.k8s: dict[str, list[Any]] = {name: list(getattr(base, name)) for name in K8S_FIELDS}
        self.effects: list[Effect] = []
        self.unknowns: list[str] = []
        self.unknown_addresses: dict[str, str] = {}
        self.placeholders: list[str] = []
        self.skipped: list[str] = list(plan.skipped)
        self.identities: dict[str, dict[str, str]] = {}
        self.instances: dict[str, int] = defaultdict(int)
        for c in plan.changes:
            self.instances[c.config_address] += 1
        self._account = account_id
        self._region = region or plan.region
        known = {c.name for c in base.clusters} | {sa.cluster for sa in base.service_accounts}
        self.cluster = cluster or (next(iter(known)) if len(known) == 1 else None)
        """The cluster ``kubernetes_*`` resources apply to: given, or the snapshot's only one."""
        self.partition = next((a.partition for a in base.accounts), "aws")

    # --- where new resources live --------------------------------------------------------------
    def account(self, change: PlannedChange) -> str:
        if self._account:
            return self._account
        found = {a.account_id for a in self.base.accounts} or {r.account_id for r in self.base.roles}
        if len(found) == 1:
            self._account = found.pop()
            return self._account
        raise UsageError(
            f"{change.address}: cannot tell which AWS account it is planned in "
            f"(the snapshot holds {len(found) or 'no'} accounts); give --account"
        )

    def region(self, change: PlannedChange) -> str:
        if self._region:
            return self._region
        found = {r.region for r in self.base.kms_keys} | {p.region for p in self.base.ssm_parameters}
        found |= {c.region for c in self.base.clusters}
        if len(found) == 1:
            self._region = found.pop()
            return self._region
        raise UsageError(
            f"{change.address}: cannot tell which AWS region it is planned in (the plan's provider configuration "
            "does not say and the snapshot holds several or none); give --region"
        )

    # --- values ----------------------------------------------------------------------------------
    def value(self, change: PlannedChange, attr: str, side: str = "after") -> Any:
        """An attribute of ``after`` (or ``before``), an unknown one resolved through configuration references."""
        values = change.after if side == "after" else change.before
        v = (values or {}).get(attr)
        if isinstance(v, Unknown) and side == "after":
            resolved = self.reference(change, attr)
            if resolved is not None:
                return resolved
        return v

    def reference(self, change: PlannedChange, attr: str) -> str | None:
        for ref in change.references.get(attr, ()):
            address, _, name = ref.rpartition(".")
            ident = self.identities.get(address)
            if ident is not None and name in ident and self.instances.get(address, 0) == 1:
                return ident[name]
        return None

    def remember(self, change: PlannedChange, **identity: str | None) -> None:
        known = {k: v for k, v in identity.items() if v}
        self.identities.setdefault(change.config_address, {}).update(known)

    def note_unknown(self, v: Unknown | Withheld, meaning: str) -> str:
        why = "is known only after apply" if isinstance(v, Unknown) else "is sensitive in the plan and was not read"
        text = f"{v.path} {why}: {meaning}"
        if text not in self.unknowns:
            self.unknowns.append(text)
            self.unknown_addresses[text] = v.address
        return text

    def document(self, change: PlannedChange, attr: str, *, default: PolicyDocument | None = None) -> PolicyDocument:
        """A policy attribute (a JSON string in the plan) as a document; unknown or bad ones as unknown documents."""
        v = self.value(change, attr)
        if isinstance(v, Unknown | Withheld):
            if default is not None and attr not in change.configured:
                return default
            return unknown_document(self.note_unknown(v, "answers that depend on this policy are conditional"))
        if v is None or v == "":
            if default is not None:
                return default
            return {"Version": "2012-10-17", "Statement": []}
        try:
            return decode_policy(v)
        except ValueError as exc:
            reason = f"{change.address}.{attr} is not a JSON policy document ({exc})"
            if reason not in self.unknowns:
                self.unknowns.append(reason)
                self.unknown_addresses[reason] = change.address
            return unknown_document(reason)

    def placeholder(self, change: PlannedChange, what: str, arn: str) -> str:
        self.placeholders.append(f"{change.address}: {what} is known only after apply; shown as {arn}")
        return arn

    def effect(self, change: PlannedChange, target: str, detail: str = "", action: str | None = None) -> None:
        self.effects.append(Effect(change.address, action or change.kind, target, detail))

    def skip(self, change: PlannedChange, why: str) -> None:
        self.skipped.append(f"{change.address}: {why}")

    # --- lookups ---------------------------------------------------------------------------------
    def find_role(self, ref: str, account: str) -> Role | None:
        if ref in self.roles:
            return self.roles[ref]
        name = ref.rsplit("/", 1)[-1].lower()
        return next((r for r in self.roles.values() if r.account_id == account and r.name.lower() == name), None)

    def find_key(self, ref: str) -> KMSKey | None:
        if ref in self.keys:
            return self.keys[ref]
        tail = ref.rsplit(":", 1)[-1]
        for k in self.keys.values():
            if ref == k.key_id or tail in k.aliases or ref in k.aliases or tail == f"key/{k.key_id}":
                return k
        return None

    def unknown_key(self, change: PlannedChange, v: Unknown | Withheld) -> str:
        """A placeholder KMS key (unknown key policy) for a key reference known only after apply."""
        arn = f"arn:{self.partition}:kms:{self.region(change)}:{self.account(change)}:key/planned-{change.address}"
        if arn not in self.keys:
            reason = self.note_unknown(v, "values encrypted with it are read only if its key policy allows")
            self.keys[arn] = KMSKey(
                arn=arn,
                key_id=f"planned-{change.address}",
                account_id=self.account(change),
                region=self.region(change),
                manager="CUSTOMER",
                policy=unknown_document(reason),
            )
            self.placeholder(change, "the KMS key", arn)
        return arn

    def unknown_policy(self, change: PlannedChange, v: Unknown | Withheld) -> str:
        """A placeholder managed policy (unknown document) for a policy ARN known only after apply."""
        arn = f"arn:{self.partition}:iam::{self.account(change)}:policy/planned-{change.address}"
        if arn not in self.policies:
            reason = self.note_unknown(v, "the role's permissions are conditional")
            self.policies[arn] = ManagedPolicy(
                arn=arn, name=f"planned-{change.address}", document=unknown_document(reason)
            )
            self.placeholder(change, "the policy ARN", arn)
        return arn

    def snapshot(self) -> Snapshot:
        k8s: dict[str, Any] = {name: tuple(records) for name, records in self.k8s.items()}
        return dataclasses.replace(
            self.base,
            roles=tuple(self.roles.values()),
            managed_policies=tuple(self.policies.values()),
            oidc_providers=tuple(self.providers.values()),
            kms_keys=tuple(self.keys.values()),
            ssm_parameters=tuple(self.params.values()),
            secrets=tuple(self.secrets.values()),
            clusters=tuple(self.clusters.values()),
            pod_identity_associations=tuple(self.associations.values()),
            **k8s,
        )


# --- IAM -----------------------------------------------------------------------------------------------


def _role(s: _State, c: PlannedChange) -> None:
    before_arn = _text(s.value(c, "arn", "before")) or _text(s.value(c, "name", "before"))
    existing = s.find_role(before_arn, s.account(c)) if before_arn else None
    if c.kind == "delete":
        if existing is None:
            s.skip(c, "the role to delete is not in the snapshot")
            return
        del s.roles[existing.arn]
        s.effect(c, existing.arn, "role deleted")
        return
    name = _text(s.value(c, "name"))
    path = _text(s.value(c, "path")) or (existing.path if existing else "/")
    arn = _text(s.value(c, "arn"))
    if arn is None and existing is not None and c.kind == "update":
        arn = existing.arn
    if arn is None and name is not None:
        arn = f"arn:{s.partition}:iam::{s.account(c)}:role{path}{name}"
    if arn is None:
        arn = s.placeholder(c, "the role name", f"arn:{s.partition}:iam::{s.account(c)}:role/planned-{c.address}")
    if existing is None:
        existing = s.find_role(arn, s.account(c))
    name = name or arn.rsplit("/", 1)[-1]
    inline = existing.inline_policies if existing else ()
    raw_inline = s.value(c, "inline_policy")
    if "inline_policy" in c.configured:
        if isinstance(raw_inline, Unknown | Withheld):
            inline = (InlinePolicy(name="(known after apply)", document=s.document(c, "inline_policy")),)
        elif isinstance(raw_inline, list):
            inline = tuple(_inline(s, c, i, item) for i, item in enumerate(raw_inline) if isinstance(item, Mapping))
    attached = existing.attached_policy_arns if existing else ()
    raw_managed = s.value(c, "managed_policy_arns")
    if "managed_policy_arns" in c.configured:
        if isinstance(raw_managed, Unknown | Withheld):
            attached = (s.unknown_policy(c, raw_managed),)
        elif isinstance(raw_managed, list):
            attached = tuple(
                s.unknown_policy(c, a) if isinstance(a, Unknown | Withheld) else str(a)
                for a in raw_managed
                if a is not None
            )
    boundary_raw = s.value(c, "permissions_boundary")
    boundary = (
        s.unknown_policy(c, boundary_raw) if isinstance(boundary_raw, Unknown | Withheld) else _text(boundary_raw)
    )
    tags_raw = s.value(c, "tags_all")
    if tags_raw is None or isinstance(tags_raw, Unknown | Withheld):
        tags_raw = s.value(c, "tags")
    if isinstance(tags_raw, Unknown | Withheld):
        s.note_unknown(tags_raw, "conditions on aws:PrincipalTag of this role read it as untagged")
    duration = s.value(c, "max_session_duration")
    role = Role(
        arn=arn,
        name=name,
        role_id=_text(s.value(c, "unique_id")) or (existing.role_id if existing else f"planned-{c.address}"),
        account_id=arn.split(":")[4],
        trust_policy=s.document(c, "assume_role_policy"),
        path=path,
        inline_policies=inline,
        attached_policy_arns=attached,
        permissions_boundary_arn=boundary,
        tags=_str_map(tags_raw),
        max_session_duration=duration if isinstance(duration, int) else 3600,
        instance_profile_arns=existing.instance_profile_arns if existing else (),
        service_linked=path.startswith("/aws-service-role/"),
    )
    if existing is not None and existing.arn != arn:
        del s.roles[existing.arn]
    s.roles[arn] = role
    s.remember(c, arn=arn, name=name, id=name, unique_id=role.role_id)
    s.effect(c, arn, f"role {name}")


def _inline(s: _State, c: PlannedChange, i: int, item: Mapping[str, Any]) -> InlinePolicy:
    name = _text(item.get("name")) or f"inline_policy[{i}]"
    raw = item.get("policy")
    document: PolicyDocument
    if isinstance(raw, Unknown | Withheld):
        document = unknown_document(s.note_unknown(raw, "answers that depend on this policy are conditional"))
    else:
        try:
            document = decode_policy(raw) if raw else {"Version": "2012-10-17", "Statement": []}
        except ValueError as exc:
            document = unknown_document(f"{c.address}.inline_policy[{i}].policy is not a JSON policy ({exc})")
    return InlinePolicy(name=name, document=document)


def _role_for(s: _State, c: PlannedChange, side: str) -> Role | None:
    ref = s.value(c, "role", side)
    if isinstance(ref, Unknown | Withheld):
        s.note_unknown(ref, "the policy cannot be placed on its role; it is left out")
        return None
    return s.find_role(str(ref), s.account(c)) if _text(ref) else None


def _role_policy(s: _State, c: PlannedChange) -> None:
    if c.kind in ("delete", "replace") and c.before is not None:
        old = _role_for(s, c, "before")
        old_name = _text(s.value(c, "name", "before"))
        if old is not None and old_name:
            keep = tuple(p for p in old.inline_policies if p.name != old_name)
            s.roles[old.arn] = dataclasses.replace(old, inline_policies=keep)
            if c.kind == "delete":
                s.effect(c, old.arn, f"inline policy {old_name} removed")
        elif c.kind == "delete":
            s.skip(c, "its role is not in the snapshot")
    if c.kind == "delete":
        return
    role = _role_for(s, c, "after")
    if role is None:
        s.skip(c, "its role is neither in the snapshot nor planned")
        return
    name = _text(s.value(c, "name")) or c.name
    doc = s.document(c, "policy")
    policies = (*tuple(p for p in role.inline_policies if p.name != name), InlinePolicy(name=name, document=doc))
    s.roles[role.arn] = dataclasses.replace(role, inline_policies=policies)
    s.effect(c, role.arn, f"inline policy {name}")


def _policy(s: _State, c: PlannedChange) -> None:
    before = _text(s.value(c, "arn", "before"))
    if c.kind == "delete":
        if before and s.policies.pop(before, None) is not None:
            s.effect(c, before, "managed policy deleted")
        else:
            s.skip(c, "the policy to delete is not in the snapshot")
        return
    name = _text(s.value(c, "name"))
    path = _text(s.value(c, "path")) or "/"
    arn = _text(s.value(c, "arn")) or before
    if arn is None and name:
        arn = f"arn:{s.partition}:iam::{s.account(c)}:policy{path}{name}"
    if arn is None:
        arn = s.placeholder(c, "the policy name", f"arn:{s.partition}:iam::{s.account(c)}:policy/planned-{c.address}")
    s.policies[arn] = ManagedPolicy(
        arn=arn, name=name or arn.rsplit("/", 1)[-1], document=s.document(c, "policy"), path=path
    )
    s.remember(c, arn=arn, id=arn, name=name)
    s.effect(c, arn, f"managed policy {name or arn}")


def _attachment(s: _State, c: PlannedChange) -> None:
    if c.kind in ("delete", "replace", "update") and c.before is not None:
        old = _role_for(s, c, "before")
        old_arn = _text(s.value(c, "policy_arn", "before"))
        if old is not None and old_arn:
            s.roles[old.arn] = dataclasses.replace(
                old, attached_policy_arns=tuple(a for a in old.attached_policy_arns if a != old_arn)
            )
            if c.kind == "delete":
                s.effect(c, old.arn, f"detached {old_arn}")
        elif c.kind == "delete":
            s.skip(c, "its role is not in the snapshot")
    if c.kind == "delete":
        return
    role = _role_for(s, c, "after")
    if role is None:
        s.skip(c, "its role is neither in the snapshot nor planned")
        return
    raw = s.value(c, "policy_arn")
    arn = s.unknown_policy(c, raw) if isinstance(raw, Unknown | Withheld) else _text(raw)
    if arn is None:
        s.skip(c, "no policy_arn")
        return
    if arn not in role.attached_policy_arns:
        role = dataclasses.replace(role, attached_policy_arns=(*role.attached_policy_arns, arn))
    s.roles[role.arn] = role
    s.effect(c, role.arn, f"attached {arn}")


def _provider(s: _State, c: PlannedChange) -> None:
    before = _text(s.value(c, "arn", "before"))
    if c.kind == "delete":
        if before and s.providers.pop(before, None) is not None:
            s.effect(c, before, "OIDC provider deleted")
        else:
            s.skip(c, "the OIDC provider to delete is not in the snapshot")
        return
    url_raw = s.value(c, "url")
    if not _text(url_raw):
        s.skip(c, "its url is not known until apply")
        if isinstance(url_raw, Unknown | Withheld):
            s.note_unknown(url_raw, "IRSA through this provider cannot be judged")
        return
    url = str(url_raw).removeprefix("https://")
    arn = _text(s.value(c, "arn")) or f"arn:{s.partition}:iam::{s.account(c)}:oidc-provider/{url}"
    clients = s.value(c, "client_id_list")
    if before and before != arn:
        s.providers.pop(before, None)
    s.providers[arn] = OIDCProvider(
        arn=arn,
        url=url,
        account_id=arn.split(":")[4],
        client_ids=tuple(str(x) for x in clients if isinstance(x, str)) if isinstance(clients, list) else (),
    )
    s.remember(c, arn=arn, id=arn, url=str(url_raw))
    s.effect(c, arn, f"OIDC provider {url}")


# --- KMS ------------------------------------------------------------------------------------------------


def default_key_policy(partition: str, account: str) -> dict[str, Any]:
    """The key policy KMS applies when none is given: the account root may use and manage the key."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def _key(s: _State, c: PlannedChange) -> None:
    before = _text(s.value(c, "arn", "before"))
    existing = s.keys.get(before) if before else None
    if c.kind == "delete":
        if existing is None:
            s.skip(c, "the key to delete is not in the snapshot")
            return
        s.keys[existing.arn] = dataclasses.replace(existing, key_state="PendingDeletion")
        s.effect(c, existing.arn, "key scheduled for deletion (PendingDeletion: nothing decrypts with it)")
        return
    arn = _text(s.value(c, "arn"))
    if arn is None and existing is not None and c.kind != "replace":
        arn = existing.arn
    if arn is None:
        arn = s.placeholder(
            c, "the key id", f"arn:{s.partition}:kms:{s.region(c)}:{s.account(c)}:key/planned-{c.address}"
        )
    parsed = parse_arn(arn)
    account = parsed.account if parsed else s.account(c)
    region = parsed.region if parsed else s.region(c)
    key_id = _text(s.value(c, "key_id")) or arn.rsplit("/", 1)[-1]
    enabled = s.value(c, "is_enabled")
    rotation = s.value(c, "enable_key_rotation")
    if existing is not None and c.kind == "replace":
        s.keys[existing.arn] = dataclasses.replace(existing, key_state="PendingDeletion", aliases=())
    s.keys[arn] = KMSKey(
        arn=arn,
        key_id=key_id,
        account_id=account,
        region=region,
        manager="CUSTOMER",
        key_state="Disabled" if enabled is False else "Enabled",
        key_usage=_text(s.value(c, "key_usage")) or "ENCRYPT_DECRYPT",
        aliases=existing.aliases if existing is not None else (),
        rotation_enabled=rotation if isinstance(rotation, bool) else None,
        policy=s.document(c, "policy", default=default_key_policy(s.partition, account)),
        grants=existing.grants if existing is not None and c.kind != "replace" else (),
        description=_text(s.value(c, "description")) or "",
    )
    s.remember(c, arn=arn, key_id=key_id, id=key_id)
    s.effect(c, arn, f"KMS key {key_id}")


def _key_for(s: _State, c: PlannedChange, attr: str) -> KMSKey | None:
    raw = s.value(c, attr)
    if isinstance(raw, Unknown | Withheld):
        return s.keys[s.unknown_key(c, raw)]
    return s.find_key(str(raw)) if _text(raw) else None


def _alias(s: _State, c: PlannedChange) -> None:
    old_name = _text(s.value(c, "name", "before"))
    if old_name:
        for k in list(s.keys.values()):
            if old_name in k.aliases:
                s.keys[k.arn] = dataclasses.replace(k, aliases=tuple(a for a in k.aliases if a != old_name))
                if c.kind == "delete":
                    s.effect(c, k.arn, f"alias {old_name} removed")
    if c.kind == "delete":
        return
    name = _text(s.value(c, "name")) or c.name
    key = _key_for(s, c, "target_key_id")
    if key is None:
        s.skip(c, "its target key is neither in the snapshot nor planned")
        return
    for k in list(s.keys.values()):
        if name in k.aliases and k.arn != key.arn:
            s.keys[k.arn] = dataclasses.replace(k, aliases=tuple(a for a in k.aliases if a != name))
    key = s.keys[key.arn]
    if name not in key.aliases:
        s.keys[key.arn] = dataclasses.replace(key, aliases=(*key.aliases, name))
    s.effect(c, key.arn, f"alias {name}")


def _grant(s: _State, c: PlannedChange) -> None:
    old_id = _text(s.value(c, "grant_id", "before"))
    if old_id:
        for k in list(s.keys.values()):
            if any(g.grant_id == old_id for g in k.grants):
                s.keys[k.arn] = dataclasses.replace(k, grants=tuple(g for g in k.grants if g.grant_id != old_id))
                if c.kind == "delete":
                    s.effect(c, k.arn, f"grant {old_id} retired")
    if c.kind == "delete":
        return
    key = _key_for(s, c, "key_id")
    grantee = s.value(c, "grantee_principal")
    if key is None or isinstance(grantee, Unknown | Withheld) or not _text(grantee):
        if isinstance(grantee, Unknown | Withheld):
            s.note_unknown(grantee, "the grant is left out (whom it lets decrypt is not known)")
        s.skip(c, "its key or grantee is not known")
        return
    operations = s.value(c, "operations")
    constraints = s.value(c, "constraints")
    first = constraints[0] if isinstance(constraints, list) and constraints else None
    grant = Grant(
        grant_id=_text(s.value(c, "grant_id")) or f"planned-{c.address}",
        grantee_principal=str(grantee),
        operations=tuple(str(o) for o in operations if isinstance(o, str)) if isinstance(operations, list) else (),
        name=_text(s.value(c, "name")),
        retiring_principal=_text(s.value(c, "retiring_principal")),
        constraints=GrantConstraints(
            encryption_context_equals=_str_map(first.get("encryption_context_equals")) or None,
            encryption_context_subset=_str_map(first.get("encryption_context_subset")) or None,
        )
        if isinstance(first, Mapping)
        else None,
    )
    s.keys[key.arn] = dataclasses.replace(key, grants=(*key.grants, grant))
    s.effect(c, key.arn, f"grant to {grantee}")


# --- SSM and Secrets Manager ----------------------------------------------------------------------------


def _parameter(s: _State, c: PlannedChange) -> None:
    before = _text(s.value(c, "arn", "before"))
    if before is None and _text(s.value(c, "name", "before")):
        name_before = str(s.value(c, "name", "before"))
        before = next((p.arn for p in s.params.values() if p.name == name_before), None)
    if c.kind in ("delete", "replace") and before:
        s.params.pop(before, None)
    if c.kind == "delete":
        s.effect(c, before or c.address, "parameter deleted")
        return
    name = _text(s.value(c, "name"))
    if name is None:
        s.skip(c, "its name is not known until apply")
        return
    arn = _text(s.value(c, "arn")) or (
        f"arn:{s.partition}:ssm:{s.region(c)}:{s.account(c)}:parameter/{name.lstrip('/')}"
    )
    existing = s.params.get(arn)
    ptype = _text(s.value(c, "type")) or "String"
    if ptype not in ("String", "StringList", "SecureString"):
        s.skip(c, f"unknown parameter type {ptype!r}")
        return
    key_id: str | None = None
    if ptype == "SecureString":
        raw = s.value(c, "key_id")
        if isinstance(raw, Unknown | Withheld):
            key_id = s.unknown_key(c, raw) if "key_id" in c.configured else "alias/aws/ssm"
        else:
            key_id = _text(raw) or "alias/aws/ssm"
    parsed = parse_arn(arn)
    s.params[arn] = SSMParameter(
        arn=arn,
        name=name,
        account_id=parsed.account if parsed else s.account(c),
        region=parsed.region if parsed else s.region(c),
        type=ptype,  # type: ignore[arg-type]
        tier=_text(s.value(c, "tier")) or "Standard",
        key_id=key_id,
        resource_policies=existing.resource_policies if existing else (),
        resource_policy_readable=existing.resource_policy_readable if existing else True,
    )
    s.remember(c, arn=arn, name=name, id=name)
    s.effect(c, arn, f"{ptype} parameter {name}" + (f" (key {key_id})" if key_id else ""))


def _secret(s: _State, c: PlannedChange) -> None:
    before = _text(s.value(c, "arn", "before"))
    existing = s.secrets.get(before) if before else None
    if c.kind in ("delete", "replace") and before:
        s.secrets.pop(before, None)
    if c.kind == "delete":
        s.effect(c, before or c.address, "secret deleted")
        return
    name = _text(s.value(c, "name"))
    arn = _text(s.value(c, "arn"))
    if arn is None and existing is not None and c.kind != "replace":
        arn = existing.arn
    if arn is None:
        shown = name or f"planned-{c.address}"
        arn = s.placeholder(
            c,
            "the secret ARN",
            f"arn:{s.partition}:secretsmanager:{s.region(c)}:{s.account(c)}:secret:{shown}-{SECRET_SUFFIX}",
        )
    raw_key = s.value(c, "kms_key_id")
    if isinstance(raw_key, Unknown | Withheld):
        key_id: str | None = s.unknown_key(c, raw_key) if "kms_key_id" in c.configured else None
    else:
        key_id = _text(raw_key)
    policy = existing.resource_policy if existing else None
    if "policy" in c.configured:
        raw = s.value(c, "policy")
        policy = s.document(c, "policy") if raw not in (None, "") else None
    tags = s.value(c, "tags_all")
    parsed = parse_arn(arn)
    s.secrets[arn] = SecretsManagerSecret(
        arn=arn,
        name=name or arn.rsplit(":", 1)[-1],
        account_id=parsed.account if parsed else s.account(c),
        region=parsed.region if parsed else s.region(c),
        kms_key_id=key_id,
        resource_policy=policy,
        tags=_str_map(tags if isinstance(tags, Mapping) else s.value(c, "tags")),
    )
    s.remember(c, arn=arn, id=arn, name=name)
    s.effect(c, arn, f"secret {name or arn}")


def _secret_policy(s: _State, c: PlannedChange) -> None:
    side = "before" if c.kind == "delete" else "after"
    raw = s.value(c, "secret_arn", side)
    if isinstance(raw, Unknown | Withheld):
        s.note_unknown(raw, "the policy cannot be placed on its secret; it is left out")
        s.skip(c, "its secret is not known")
        return
    secret = s.secrets.get(str(raw)) if _text(raw) else None
    if secret is None:
        s.skip(c, "its secret is neither in the snapshot nor planned")
        return
    policy = None if c.kind == "delete" else s.document(c, "policy")
    s.secrets[secret.arn] = dataclasses.replace(secret, resource_policy=policy, resource_policy_readable=True)
    s.effect(c, secret.arn, "resource policy removed" if policy is None else "resource policy")


# --- EKS and Kubernetes ---------------------------------------------------------------------------------


def _cluster(s: _State, c: PlannedChange) -> None:
    old = _text(s.value(c, "name", "before"))
    gone = s.clusters.pop(old, None) if c.kind in ("delete", "replace") and old else None
    if c.kind == "delete":
        s.effect(c, gone.arn if gone else old or c.address, "cluster deleted")
        return
    name = _text(s.value(c, "name"))
    if name is None:
        s.skip(c, "its name is not known until apply")
        return
    arn = _text(s.value(c, "arn")) or f"arn:{s.partition}:eks:{s.region(c)}:{s.account(c)}:cluster/{name}"
    issuer: Any = None
    identity = s.value(c, "identity")
    if isinstance(identity, list) and identity and isinstance(identity[0], Mapping):
        oidc = identity[0].get("oidc")
        if isinstance(oidc, list) and oidc and isinstance(oidc[0], Mapping):
            issuer = oidc[0].get("issuer")
    elif isinstance(identity, Unknown | Withheld):
        issuer = identity
    if isinstance(issuer, Unknown | Withheld):
        s.note_unknown(issuer, f"IRSA trust for cluster {name} cannot be judged until its OIDC issuer exists")
        issuer = None
    parsed = parse_arn(arn)
    version = s.value(c, "version")
    s.clusters[name] = EKSCluster(
        name=name,
        arn=arn,
        account_id=parsed.account if parsed else s.account(c),
        region=parsed.region if parsed else s.region(c),
        version=_text(version),
        oidc_issuer=_text(issuer),
    )
    s.remember(c, arn=arn, name=name, id=name)
    s.effect(c, arn, f"EKS cluster {name}")


def _association(s: _State, c: PlannedChange) -> None:
    old = _text(s.value(c, "association_arn", "before"))
    if c.kind in ("delete", "replace") and old:
        s.associations.pop(old, None)
    if c.kind == "delete":
        s.effect(c, old or c.address, "Pod Identity association deleted")
        return
    fields = {a: s.value(c, a) for a in ("cluster_name", "namespace", "service_account", "role_arn")}
    for attr, v in fields.items():
        if isinstance(v, Unknown | Withheld):
            s.note_unknown(v, "the association is left out")
            s.skip(c, f"its {attr} is not known")
            return
    if not all(_text(v) for v in fields.values()):
        s.skip(c, "cluster_name, namespace, service_account and role_arn are required")
        return
    role_arn = str(fields["role_arn"])
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else s.account(c)
    arn = _text(s.value(c, "association_arn")) or old
    if arn is None:
        arn = s.placeholder(
            c,
            "the association ARN",
            f"arn:{s.partition}:eks:{s.region(c)}:{account}:podidentityassociation/{fields['cluster_name']}/planned-{c.address}",
        )
    target = s.value(c, "target_role_arn")
    s.associations[arn] = PodIdentityAssociation(
        association_arn=arn,
        association_id=_text(s.value(c, "association_id")) or arn.rsplit("/", 1)[-1],
        cluster_name=str(fields["cluster_name"]),
        namespace=str(fields["namespace"]),
        service_account=str(fields["service_account"]),
        role_arn=role_arn,
        account_id=account,
        region=s.region(c),
        target_role_arn=_text(target),
        disable_session_tags=s.value(c, "disable_session_tags") is True,
    )
    s.effect(c, arn, f"Pod Identity {fields['namespace']}/{fields['service_account']} -> {role_arn}")


def _k8s_object(s: _State, c: PlannedChange, side: str) -> dict[str, Any] | None:
    """The Kubernetes object a kubernetes_* resource describes, unknown leaves resolved or dropped."""
    if c.type == "kubernetes_manifest":
        obj = s.value(c, "manifest", side)
        return _known(s, c, obj, "manifest") if isinstance(obj, Mapping) else None
    meta = s.value(c, "metadata", side)
    if not (isinstance(meta, list) and meta and isinstance(meta[0], Mapping)):
        return None
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _known(
            s, c, {k: meta[0].get(k) for k in ("name", "namespace", "annotations", "labels")}, "metadata"
        ),
    }
    automount = s.value(c, "automount_service_account_token", side)
    if isinstance(automount, bool):
        body["automountServiceAccountToken"] = automount
    return body


def _known(s: _State, c: PlannedChange, value: Any, attr: str) -> Any:
    """``value`` with unknown leaves resolved through references, or dropped (and noted)."""
    if isinstance(value, Unknown | Withheld):
        refs = [r for r in c.references.get(attr, ()) if r.endswith(".arn")]
        resolved = {s.identities.get(r.rpartition(".")[0], {}).get("arn") for r in refs} - {None}
        if len(resolved) == 1:
            return resolved.pop()
        s.note_unknown(value, "left out of the Kubernetes object")
        return None
    if isinstance(value, Mapping):
        out = {k: _known(s, c, v, attr) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, list):
        return [_known(s, c, v, attr) for v in value]
    return value


def _kubernetes(s: _State, c: PlannedChange) -> None:
    cluster = s.cluster
    if cluster is None:
        s.skip(c, "which cluster it applies to is not known: give --kubernetes-cluster")
        return
    for side in ("before", "after"):
        if (side == "before" and c.kind == "create") or (side == "after" and c.kind == "delete"):
            continue
        obj = _k8s_object(s, c, side)
        if obj is None:
            continue
        try:
            parsed = parse_object(obj, cluster=cluster)
        except ObjectError as exc:
            s.skip(c, f"not a readable Kubernetes object: {exc}")
            return
        if parsed.ignored:
            s.skip(c, f"kind {parsed.kind} is not used by the analysis")
            return
        target = (
            f"{cluster}/{parsed.namespace}/{parsed.kind}/{parsed.name}"
            if parsed.namespace
            else (f"{cluster}/{parsed.kind}/{parsed.name}")
        )
        if side == "before":
            _drop(s, parsed.records)
            if c.kind == "delete":
                s.effect(c, target, f"{parsed.kind} deleted")
        else:
            _drop(s, parsed.records)
            for record in parsed.records:
                s.k8s[snapshot_field(record)].append(record)
            s.effect(c, target, f"{parsed.kind} {parsed.name}")


def _record_key(record: Any) -> tuple[str, ...]:
    return (type(record).__name__, record.cluster, getattr(record, "namespace", None) or "", record.name)


def _drop(s: _State, records: Iterable[Any]) -> None:
    keys = {_record_key(r) for r in records}
    for name, items in s.k8s.items():
        s.k8s[name] = [r for r in items if _record_key(r) not in keys]


_HANDLERS: Mapping[str, Callable[[_State, PlannedChange], None]] = {
    "aws_iam_role": _role,
    "aws_iam_role_policy": _role_policy,
    "aws_iam_policy": _policy,
    "aws_iam_role_policy_attachment": _attachment,
    "aws_iam_openid_connect_provider": _provider,
    "aws_kms_key": _key,
    "aws_kms_alias": _alias,
    "aws_kms_grant": _grant,
    "aws_ssm_parameter": _parameter,
    "aws_secretsmanager_secret": _secret,
    "aws_secretsmanager_secret_policy": _secret_policy,
    "aws_eks_cluster": _cluster,
    "aws_eks_pod_identity_association": _association,
    "kubernetes_service_account": _kubernetes,
    "kubernetes_service_account_v1": _kubernetes,
    "kubernetes_manifest": _kubernetes,
}


def _phase(change: PlannedChange) -> int:
    return 0 if change.type in _FIRST else 1 if change.type in _SECOND else 2


def apply_plan(
    snapshot: Snapshot,
    plan: Plan,
    *,
    account_id: str | None = None,
    region: str | None = None,
    kubernetes_cluster: str | None = None,
) -> Overlay:
    """The snapshot as it would be after ``plan`` is applied (see the module docstring).

    ``account_id`` / ``region``: where resources the plan creates live, when neither the plan nor
    the snapshot tells; ``kubernetes_cluster``: the EKS cluster ``kubernetes_*`` resources are
    applied to (default: the snapshot's only cluster).
    """
    state = _State(snapshot, plan, account_id, region, kubernetes_cluster)
    for change in sorted(plan.changes, key=_phase):
        if change.kind == "no-op":
            continue
        _HANDLERS[change.type](state, change)
    return Overlay(
        snapshot=state.snapshot(),
        effects=tuple(state.effects),
        unknowns=tuple(state.unknowns),
        unknown_addresses=dict(state.unknown_addresses),
        placeholders=tuple(state.placeholders),
        skipped=tuple(state.skipped),
    )


def replace_cluster(overlay: Overlay, cluster: str, manifests: Snapshot, source: str) -> Overlay:
    """``overlay`` with the Kubernetes side of ``cluster`` replaced by ``manifests`` (loaded for that cluster)."""
    base = overlay.snapshot
    fields: dict[str, Any] = {}
    for name in K8S_FIELDS:
        kept = [r for r in getattr(base, name) if r.cluster != cluster]
        fields[name] = tuple(kept) + tuple(getattr(manifests, name))
    coverage = tuple(
        c for c in base.coverage if not (c.source in ("kubernetes", "manifests") and c.scope == cluster)
    ) + tuple(manifests.coverage)
    snapshot = dataclasses.replace(base, coverage=coverage, **fields)
    effects = [
        Effect(source, "replace", _k8s_target(r), f"{type(r).__name__} {r.name} from {source}")
        for name in K8S_FIELDS
        for r in getattr(manifests, name)
    ]
    return dataclasses.replace(overlay, snapshot=snapshot, effects=(*overlay.effects, *effects))


def _k8s_target(record: Any) -> str:
    kind = getattr(record, "kind", None) or type(record).__name__
    ns = getattr(record, "namespace", None)
    return f"{record.cluster}/{ns}/{kind}/{record.name}" if ns else f"{record.cluster}/{kind}/{record.name}"
