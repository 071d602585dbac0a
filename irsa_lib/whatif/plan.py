"""Read ``terraform show -json PLAN`` (Terraform's documented JSON output format; OpenTofu writes the same).

Only what the analysis needs is kept: for every ``resource_changes`` entry of a resource type we
read (:data:`READ_ATTRIBUTES`), its actions, and the allow-listed attributes of ``before`` and
``after``. Every other attribute is dropped unread, so a parameter's ``value`` or
``insecure_value`` never leaves this module. Within the kept attributes, a value the plan marks
sensitive (``before_sensitive`` / ``after_sensitive``) is replaced by :class:`Withheld` without
being looked at, and a value the plan does not know until apply (``after_unknown``) by
:class:`Unknown`; both name the attribute path, so an answer that depends on them can say which.

``configuration`` gives, per attribute, the addresses of the resources its expression references,
so a value unknown until apply (``aws_kms_key.orders.arn``) can be tied to a resource planned in
the same plan.

>>> plan = parse_plan({"format_version": "1.2", "resource_changes": [{
...     "address": "aws_ssm_parameter.db", "mode": "managed", "type": "aws_ssm_parameter", "name": "db",
...     "change": {"actions": ["create"], "before": None,
...                "after": {"name": "/db", "type": "SecureString", "value": "hunter2"},
...                "after_unknown": {"arn": True}, "after_sensitive": {"value": True}}}]})
>>> change = plan.changes[0]
>>> change.kind, sorted(change.after), change.after["arn"]
('create', ['arn', 'name', 'type'], Unknown('aws_ssm_parameter.db.arn'))
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from irsa_lib.errors import IrsaError

ChangeKind = Literal["create", "update", "delete", "replace", "no-op"]

READ_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "aws_iam_role": (
        "arn",
        "name",
        "path",
        "unique_id",
        "assume_role_policy",
        "inline_policy",
        "managed_policy_arns",
        "permissions_boundary",
        "tags",
        "tags_all",
        "max_session_duration",
    ),
    "aws_iam_role_policy": ("name", "role", "policy"),
    "aws_iam_policy": ("arn", "name", "path", "policy"),
    "aws_iam_role_policy_attachment": ("role", "policy_arn"),
    "aws_iam_openid_connect_provider": ("arn", "url", "client_id_list"),
    "aws_kms_key": ("arn", "key_id", "policy", "is_enabled", "enable_key_rotation", "description", "key_usage"),
    "aws_kms_alias": ("name", "target_key_id", "target_key_arn"),
    "aws_kms_grant": (
        "grant_id",
        "name",
        "key_id",
        "grantee_principal",
        "operations",
        "constraints",
        "retiring_principal",
    ),
    "aws_ssm_parameter": ("arn", "name", "type", "tier", "key_id", "tags", "tags_all"),
    "aws_secretsmanager_secret": ("arn", "name", "kms_key_id", "policy", "tags", "tags_all"),
    "aws_secretsmanager_secret_policy": ("secret_arn", "policy"),
    "aws_eks_cluster": ("arn", "name", "version", "identity", "status"),
    "aws_eks_pod_identity_association": (
        "association_arn",
        "association_id",
        "cluster_name",
        "namespace",
        "service_account",
        "role_arn",
        "target_role_arn",
        "disable_session_tags",
    ),
    "kubernetes_service_account": ("metadata", "automount_service_account_token"),
    "kubernetes_service_account_v1": ("metadata", "automount_service_account_token"),
    "kubernetes_manifest": ("manifest",),
}
"""Resource types the overlay understands and the attributes read from each; nothing else is kept."""

_ACTIONS: Mapping[tuple[str, ...], ChangeKind] = {
    ("no-op",): "no-op",
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}
_INDEX = re.compile(r"\[[^\]]*\]")


class PlanError(IrsaError, ValueError):
    """A plan file that cannot be read as Terraform's JSON plan output; names the file and the field."""


@dataclass(frozen=True)
class Unknown:
    """A value Terraform knows only after apply: ``attribute`` (a path) of the resource at ``address``."""

    address: str
    attribute: str

    @property
    def path(self) -> str:
        return f"{self.address}.{self.attribute}"

    def __repr__(self) -> str:
        return f"Unknown({self.path!r})"


@dataclass(frozen=True)
class Withheld:
    """A value the plan marks sensitive: it is not read; ``address`` and ``attribute`` say which one."""

    address: str
    attribute: str

    @property
    def path(self) -> str:
        return f"{self.address}.{self.attribute}"

    def __repr__(self) -> str:
        return f"Withheld({self.path!r})"


@dataclass(frozen=True)
class PlannedChange:
    """One resource instance's planned change, reduced to the attributes the overlay reads."""

    address: str
    type: str
    name: str
    module: str
    """Module path without instance keys (``module.a.module.b``), empty for the root module."""
    actions: tuple[str, ...]
    kind: ChangeKind
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per attribute: the references of its configuration expression, as absolute addresses."""
    configured: frozenset[str] = frozenset()
    """Attributes the configuration sets (an unknown attribute not set here is provider-computed)."""

    @property
    def config_address(self) -> str:
        """The resource's address without instance keys, as configuration references name it."""
        return _INDEX.sub("", self.address)


@dataclass(frozen=True)
class Plan:
    """The resource changes of a plan that the analysis reads, and what it left aside and why."""

    source: str
    format_version: str
    changes: tuple[PlannedChange, ...]
    skipped: tuple[str, ...] = ()
    """Resource changes not read: unsupported types, data sources, malformed entries (each says why)."""
    region: str | None = None
    """The AWS provider's region when the configuration gives it as a constant or a variable."""


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a ``terraform show -json`` file; PlanError names the file and what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{p}: no such plan file") from None
    except OSError as exc:
        raise PlanError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PlanError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{p}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg} "
            "(expected the output of `terraform show -json PLANFILE`)"
        ) from exc
    return parse_plan(data, source=str(p))


def parse_plan(data: Any, *, source: str = "<plan>") -> Plan:
    """A decoded plan object as a :class:`Plan` (see the module docstring)."""
    if not isinstance(data, Mapping):
        raise PlanError(f"{source}: not a Terraform plan (expected a JSON object, got {type(data).__name__})")
    version = data.get("format_version")
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+", version):
        raise PlanError(f"{source}: format_version is missing or not 'MAJOR.MINOR' (is this `terraform show -json`?)")
    if int(version.split(".")[0]) > 1:
        raise PlanError(f"{source}: plan format_version {version} is not supported (this irsa_lib reads 0.x and 1.x)")
    if "resource_changes" not in data and "planned_values" not in data and "prior_state" not in data:
        raise PlanError(
            f"{source}: no resource_changes: this looks like state, not a plan (`terraform show -json PLAN`)"
        )
    raw = data.get("resource_changes")
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise PlanError(f"{source}: resource_changes must be a list, got {type(raw).__name__}")
    config = _config_index(data.get("configuration"))
    changes: list[PlannedChange] = []
    skipped: list[str] = []
    for i, item in enumerate(raw):
        where = f"resource_changes[{i}]"
        try:
            change = _change(item, where, config)
        except PlanError as exc:
            skipped.append(f"{where}: {exc}")
            continue
        if isinstance(change, str):
            skipped.append(change)
        else:
            changes.append(change)
    return Plan(
        source=source,
        format_version=version,
        changes=tuple(changes),
        skipped=tuple(skipped),
        region=_provider_region(data),
    )


def _change(item: Any, where: str, config: Mapping[str, Mapping[str, Any]]) -> PlannedChange | str:
    if not isinstance(item, Mapping):
        raise PlanError("not an object")
    address, rtype, name = item.get("address"), item.get("type"), item.get("name")
    if not all(isinstance(v, str) and v for v in (address, rtype, name)):
        raise PlanError("address, type and name must be non-empty strings")
    assert isinstance(address, str) and isinstance(rtype, str) and isinstance(name, str)
    if item.get("mode", "managed") != "managed":
        return f"{address}: a data source (read during plan; its result is in the resources that use it)"
    if rtype not in READ_ATTRIBUTES:
        return f"{address}: type {rtype} is not read by the analysis"
    if item.get("deposed"):
        return f"{address}: deposed object {item['deposed']} (its replacement is read instead)"
    change = item.get("change")
    if not isinstance(change, Mapping):
        raise PlanError(f"{address}: change must be an object")
    actions = change.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise PlanError(f"{address}: change.actions must be a list of strings")
    kind = _ACTIONS.get(tuple(actions))
    if kind is None:
        if actions == ["read"]:
            return f"{address}: action read (nothing changes)"
        raise PlanError(f"{address}: change.actions {actions} is not one of Terraform's documented action lists")
    module = _INDEX.sub("", item.get("module_address") or "")
    wanted = READ_ATTRIBUTES[rtype]
    before = _values(change.get("before"), change.get("before_sensitive"), None, wanted, address, "before")
    after = _values(
        change.get("after"), change.get("after_sensitive"), change.get("after_unknown"), wanted, address, "after"
    )
    if kind == "create":
        before = None
    if kind == "delete":
        after = None
    if kind != "delete" and after is None:
        raise PlanError(f"{address}: change.after is missing for a {kind}")
    local = _INDEX.sub("", address)[len(module) + 1 if module else 0 :]
    cfg = config.get(f"{module}|{local}", {})
    references = {
        attr: tuple(_absolute(module, ref) for ref in refs) for attr, refs in cfg.items() if attr in wanted and refs
    }
    return PlannedChange(
        address=address,
        type=rtype,
        name=name,
        module=module,
        actions=tuple(actions),
        kind=kind,
        before=before,
        after=after,
        references=references,
        configured=frozenset(a for a in cfg if a in wanted),
    )


def _values(
    value: Any, sensitive: Any, unknown: Any, wanted: Sequence[str], address: str, side: str
) -> dict[str, Any] | None:
    """The wanted attributes of one side, sensitive ones withheld and unknown ones marked."""
    if value is None and not isinstance(unknown, Mapping):
        return None
    if value is not None and not isinstance(value, Mapping):
        raise PlanError(f"{address}: change.{side} must be an object")
    value = value or {}
    out: dict[str, Any] = {}
    for attr in wanted:
        s = sensitive.get(attr) if isinstance(sensitive, Mapping) else (sensitive is True or None)
        u = unknown.get(attr) if isinstance(unknown, Mapping) else None
        if attr not in value and not u:
            continue
        out[attr] = _mask(value.get(attr), s, u, address, attr)
    return out


def _mask(value: Any, sensitive: Any, unknown: Any, address: str, path: str) -> Any:
    """``value`` with sensitive leaves withheld (never copied) and unknown leaves marked."""
    if sensitive is True:
        return Withheld(address, path)
    if unknown is True:
        return Unknown(address, path)
    if isinstance(value, Mapping):
        keys = set(value) | (set(unknown) if isinstance(unknown, Mapping) else set())
        return {
            str(k): _mask(
                value.get(k),
                sensitive.get(k) if isinstance(sensitive, Mapping) else None,
                unknown.get(k) if isinstance(unknown, Mapping) else None,
                address,
                f"{path}.{k}",
            )
            for k in sorted(keys, key=str)
        }
    if isinstance(value, list) or isinstance(unknown, list):
        items = list(value) if isinstance(value, list) else []
        u_items = unknown if isinstance(unknown, list) else []
        s_items = sensitive if isinstance(sensitive, list) else []
        n = max(len(items), len(u_items))
        return [
            _mask(
                items[i] if i < len(items) else None,
                s_items[i] if i < len(s_items) else None,
                u_items[i] if i < len(u_items) else None,
                address,
                f"{path}[{i}]",
            )
            for i in range(n)
        ]
    return value


# --- configuration ------------------------------------------------------------------------------------


def _config_index(configuration: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    """``"<module>|<type>.<name>"`` -> attribute -> references (module-relative), over the module tree."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    root = configuration.get("root_module") if isinstance(configuration, Mapping) else None
    for module, body in _modules(root, ""):
        for res in body.get("resources") or ():
            if not isinstance(res, Mapping) or res.get("mode", "managed") != "managed":
                continue
            expressions = res.get("expressions")
            if not isinstance(expressions, Mapping):
                continue
            local = f"{res.get('type')}.{res.get('name')}"
            out[f"{module}|{local}"] = {
                str(attr): tuple(_references(expr)) for attr, expr in expressions.items() if isinstance(attr, str)
            }
    return out


def _modules(body: Any, path: str, depth: int = 0) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(body, Mapping) or depth > 50:
        return
    yield path, body
    calls = body.get("module_calls")
    for name, call in calls.items() if isinstance(calls, Mapping) else ():
        if isinstance(call, Mapping):
            sub = f"{path}.module.{name}" if path else f"module.{name}"
            yield from _modules(call.get("module"), sub, depth + 1)


def _references(expr: Any, depth: int = 0) -> Iterator[str]:
    """Every reference string in an expression or (nested) block expressions."""
    if depth > 20:
        return
    if isinstance(expr, Mapping):
        refs = expr.get("references")
        if isinstance(refs, list):
            yield from (r for r in refs if isinstance(r, str))
        for key, value in expr.items():
            if key not in ("references", "constant_value"):
                yield from _references(value, depth + 1)
    elif isinstance(expr, list):
        for value in expr:
            yield from _references(value, depth + 1)


def _absolute(module: str, ref: str) -> str:
    return f"{module}.{ref}" if module and not ref.startswith(("var.", "local.", "each.", "count.")) else ref


def _provider_region(data: Mapping[str, Any]) -> str | None:
    """The root AWS provider's region: a constant, or a variable's planned value."""
    config = data.get("configuration")
    providers = config.get("provider_config") if isinstance(config, Mapping) else None
    aws = providers.get("aws") if isinstance(providers, Mapping) else None
    expressions = aws.get("expressions") if isinstance(aws, Mapping) else None
    region = expressions.get("region") if isinstance(expressions, Mapping) else None
    if not isinstance(region, Mapping):
        return None
    constant = region.get("constant_value")
    if isinstance(constant, str):
        return constant
    variables = data.get("variables")
    for ref in region.get("references") or ():
        if isinstance(ref, str) and ref.startswith("var.") and isinstance(variables, Mapping):
            value = variables.get(ref[4:], {})
            if isinstance(value, Mapping) and isinstance(value.get("value"), str):
                return str(value["value"])
    return None
