"""A fix applied to a snapshot: the what-if :class:`~irsa_lib.whatif.overlay.Overlay` of its changes.

Pure: a snapshot and a fix in, the snapshot as it would be once the fix is applied out, with one
:class:`~irsa_lib.whatif.overlay.Effect` per change (address: the fix's id), so the same analysis
and the same comparison as a what-if judge it. A Kubernetes object's records are replaced by the
records of the object after the change, read by the collector's own parser (what ``irsa collect``
would read from the patched manifest).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from irsa_lib.collect.k8s_parse import K8S_RECORD_FIELDS, parse_object, snapshot_field
from irsa_lib.errors import IrsaError
from irsa_lib.fixes.model import Change, Fix, ImdsEdit, NewKey, ObjectEdit, PolicyEdit, Rekey
from irsa_lib.model import InlinePolicy, KMSKey
from irsa_lib.snapshot import Snapshot
from irsa_lib.whatif.overlay import Effect, Overlay


class FixError(IrsaError, ValueError):
    """A change that cannot be applied to the snapshot (its record is missing): names the change."""


class _Records:
    """The snapshot's records, indexed the way changes find them."""

    def __init__(self, base: Snapshot) -> None:
        self.base = base
        self.roles = {r.arn: r for r in base.roles}
        self.policies = {p.arn: p for p in base.managed_policies}
        self.keys = {k.arn: k for k in base.kms_keys}
        self.params = {p.arn: p for p in base.ssm_parameters}
        self.secrets = {s.arn: s for s in base.secrets}
        self.node_groups = {(g.cluster_name, g.name): g for g in base.node_groups}
        self.k8s: dict[str, list[Any]] = {name: list(getattr(base, name)) for name in K8S_RECORD_FIELDS}

    def snapshot(self) -> Snapshot:
        k8s: dict[str, Any] = {name: tuple(items) for name, items in self.k8s.items()}
        return dataclasses.replace(
            self.base,
            roles=tuple(self.roles.values()),
            managed_policies=tuple(self.policies.values()),
            kms_keys=tuple(self.keys.values()),
            ssm_parameters=tuple(self.params.values()),
            secrets=tuple(self.secrets.values()),
            node_groups=tuple(self.node_groups.values()),
            **k8s,
        )


def _missing(change: Change, what: str) -> FixError:
    return FixError(f"{change.describe()}: {what} is not in the snapshot")


def _policy(r: _Records, c: PolicyEdit) -> None:
    if c.kind == "managed":
        policy = r.policies.get(c.owner)
        if policy is None or c.after is None:
            raise _missing(c, "the managed policy")
        r.policies[c.owner] = dataclasses.replace(policy, document=c.after)
    elif c.kind == "key":
        key = r.keys.get(c.owner)
        if key is None or c.after is None:
            raise _missing(c, "the key")
        r.keys[c.owner] = dataclasses.replace(key, policy=c.after)
    else:
        role = r.roles.get(c.owner)
        if role is None:
            raise _missing(c, "the role")
        if c.kind == "trust":
            if c.after is None:
                raise FixError(f"{c.describe()}: a role always has a trust policy")
            r.roles[c.owner] = dataclasses.replace(role, trust_policy=c.after)
        else:
            kept = tuple(p for p in role.inline_policies if p.name != c.name)
            added = (InlinePolicy(name=c.name, document=c.after),) if c.after is not None else ()
            r.roles[c.owner] = dataclasses.replace(role, inline_policies=kept + added)


def _new_key(r: _Records, c: NewKey) -> None:
    for arn, key in list(r.keys.items()):
        if c.alias in key.aliases:  # an alias names one key: creating it elsewhere moves it
            r.keys[arn] = dataclasses.replace(key, aliases=tuple(a for a in key.aliases if a != c.alias))
    r.keys[c.arn] = KMSKey(
        arn=c.arn,
        key_id=c.arn.rsplit("/", 1)[-1],
        account_id=c.account_id,
        region=c.region,
        manager="CUSTOMER",
        aliases=(c.alias,),
        rotation_enabled=True,
        policy=c.policy,
        description=c.description,
        tags={},
    )


def _rekey(r: _Records, c: Rekey) -> None:
    if c.kind == "parameter":
        param = r.params.get(c.value_arn)
        if param is None:
            raise _missing(c, "the parameter")
        r.params[c.value_arn] = dataclasses.replace(param, key_id=c.key_after)
    else:
        secret = r.secrets.get(c.value_arn)
        if secret is None:
            raise _missing(c, "the secret")
        r.secrets[c.value_arn] = dataclasses.replace(secret, kms_key_id=c.key_after)


def _imds(r: _Records, c: ImdsEdit) -> None:
    group = r.node_groups.get((c.cluster, c.node_group))
    if group is None:
        raise _missing(c, "the node group")
    r.node_groups[(c.cluster, c.node_group)] = dataclasses.replace(group, metadata_options=c.after)


def _record_key(record: Any) -> tuple[str, ...]:
    return (
        type(record).__name__,
        record.cluster,
        getattr(record, "namespace", None) or "",
        getattr(record, "kind", None) or "",
        record.name,
    )


def _records_of(obj: Any, cluster: str, change: ObjectEdit) -> tuple[Any, ...]:
    try:
        return parse_object(obj, cluster=cluster).records
    except IrsaError as exc:
        raise FixError(f"{change.describe()}: the object cannot be read: {exc}") from exc


def _object(r: _Records, c: ObjectEdit) -> None:
    old = _records_of(c.before, c.cluster, c) if c.before is not None else ()
    new = _records_of(c.after, c.cluster, c) if c.after is not None else ()
    gone = {_record_key(x) for x in (*old, *new)}
    for name, items in r.k8s.items():
        r.k8s[name] = [x for x in items if _record_key(x) not in gone]
    for record in new:
        r.k8s[snapshot_field(record)].append(record)


def _apply(r: _Records, c: Change) -> None:
    if isinstance(c, PolicyEdit):
        _policy(r, c)
    elif isinstance(c, NewKey):
        _new_key(r, c)
    elif isinstance(c, Rekey):
        _rekey(r, c)
    elif isinstance(c, ImdsEdit):
        _imds(r, c)
    else:
        _object(r, c)


def _action(c: Change) -> str:
    if isinstance(c, NewKey):
        return "create"
    before, after = (c.before, c.after) if isinstance(c, PolicyEdit | ObjectEdit) else (True, True)
    return "create" if before is None else "delete" if after is None else "update"


def apply_changes(snapshot: Snapshot, changes: Iterable[Change], *, address: str) -> Overlay:
    """``snapshot`` with ``changes`` applied in order; each effect's address is ``address``."""
    records = _Records(snapshot)
    effects = []
    for c in changes:
        _apply(records, c)
        effects.append(Effect(address=address, action=_action(c), target=c.target, detail=c.describe()))
    return Overlay(snapshot=records.snapshot(), effects=tuple(effects))


def apply_fix(snapshot: Snapshot, fix: Fix) -> Overlay:
    """The snapshot as it would be once ``fix`` is applied."""
    return apply_changes(snapshot, fix.changes, address=fix.id)
