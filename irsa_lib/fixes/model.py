"""What a fix is: a finding, the changes that remove it (as data), and what a person must still do.

A change says what it changes (``target``: an ARN or a Kubernetes id) and how; nothing in here
applies or writes it: :mod:`irsa_lib.fixes.overlay` applies changes to a snapshot,
:mod:`irsa_lib.fixes.terraform` and :mod:`irsa_lib.fixes.patches` write them out.

AWS side: a policy document before and after (:class:`PolicyEdit`), a new customer managed key
(:class:`NewKey`), a value encrypted with another key (:class:`Rekey`), the instance metadata
settings of a node group (:class:`ImdsEdit`). Kubernetes side: one object before and after
(:class:`ObjectEdit`), created, changed or deleted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from irsa_lib.findings import Finding
from irsa_lib.model import MetadataOptions, PolicyDocument

PolicyKind = Literal["trust", "inline", "managed", "key"]


@dataclass(frozen=True, kw_only=True)
class PolicyEdit:
    """One policy document before and after: a role's trust or inline policy, a managed policy, a key policy."""

    owner: str
    """The role (trust, inline), the managed policy or the KMS key, by ARN."""
    kind: PolicyKind
    name: str = ""
    """The inline policy's name."""
    before: PolicyDocument | None
    """None: the policy is created."""
    after: PolicyDocument | None
    """None: the (inline) policy is deleted."""

    @property
    def target(self) -> str:
        return self.owner

    def describe(self) -> str:
        what = {"trust": "trust policy", "inline": f"inline policy {self.name}", "managed": "policy"}.get(
            self.kind, "key policy"
        )
        verb = "create" if self.before is None else "delete" if self.after is None else "change"
        return f"{verb} the {what} of {self.owner}"


@dataclass(frozen=True, kw_only=True)
class NewKey:
    """A customer managed key to create, with its alias and key policy."""

    arn: str
    """A stated placeholder (``key/planned-<alias>``): KMS picks the key id at creation."""
    alias: str
    account_id: str
    region: str
    policy: PolicyDocument
    description: str

    @property
    def target(self) -> str:
        return self.arn

    def describe(self) -> str:
        return f"create the customer managed key {self.alias} (rotation on) with the reference key policy"


@dataclass(frozen=True, kw_only=True)
class Rekey:
    """A parameter or secret to encrypt with another key (written again: see the fix's steps)."""

    value_arn: str
    value_name: str
    kind: Literal["parameter", "secret"]
    key_before: str
    key_after: str
    """The new key's alias."""

    @property
    def target(self) -> str:
        return self.value_arn

    def describe(self) -> str:
        return f"encrypt {self.kind} {self.value_name} with {self.key_after} instead of {self.key_before}"


@dataclass(frozen=True, kw_only=True)
class ImdsEdit:
    """Instance metadata settings of a node group: IMDSv2 required, the response hop limit."""

    cluster: str
    node_group: str
    before: MetadataOptions | None
    after: MetadataOptions
    source: str | None
    """Where the settings live (``launch-template``, ``instances``, ``eks-default``)."""

    @property
    def target(self) -> str:
        return f"{self.cluster}/NodeGroup/{self.node_group}"

    def describe(self) -> str:
        return (
            f"require IMDSv2 (HttpTokens={self.after.http_tokens}) with hop limit {self.after.hop_limit} "
            f"on node group {self.cluster}/{self.node_group}"
        )


@dataclass(frozen=True, kw_only=True)
class ObjectEdit:
    """One Kubernetes object before and after (None: created / deleted).

    ``before`` is the object as its manifest file holds it (``path`` and lines given), or, when no
    manifest holds it, as it is rebuilt from the snapshot's record (``rebuilt``): then only a
    merge patch is offered, since the live object may hold fields the record does not keep.
    """

    cluster: str
    target: str
    """The Kubernetes id: ``cluster/namespace/Kind/name`` (``cluster/Kind/name`` if cluster-scoped)."""
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    path: str | None = None
    """The manifest file holding the object (``before``)."""
    lines: tuple[int, int] | None = None
    """First and last line of the object's document in ``path`` (1-based, inclusive)."""
    rebuilt: bool = False

    def describe(self) -> str:
        where = f" ({self.path}:{self.lines[0]})" if self.path and self.lines else ""
        verb = "create" if self.before is None else "delete" if self.after is None else "patch"
        return f"{verb} {self.target}{where}"


Change = PolicyEdit | NewKey | Rekey | ImdsEdit | ObjectEdit


@dataclass(frozen=True, kw_only=True)
class Fix:
    """The mechanical fix of one finding: its changes, the steps left to a person, and caveats."""

    finding: Finding
    summary: str
    changes: tuple[Change, ...]
    steps: tuple[str, ...] = ()
    """What a person must do besides applying the changes (re-encrypting a value, reading a file)."""
    notes: tuple[str, ...] = ()
    """Caveats: choices the fix made that a reviewer should confirm."""

    @property
    def id(self) -> str:
        return fix_id(self.finding)


@dataclass(frozen=True, kw_only=True)
class NoFix:
    """A finding without a mechanical fix, and why."""

    finding: Finding
    reason: str

    @property
    def id(self) -> str:
        return fix_id(self.finding)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def fix_id(finding: Finding) -> str:
    """A file-name-safe id of a finding's fix, unique per (rule, resource): the rule, then the
    resource (an ARN from its region on, a Kubernetes id whole).

    >>> from irsa_lib.findings import Finding, Severity
    >>> f = Finding(rule="F01", slug="s", severity=Severity.HIGH, title="t", evidence=(), remediation="",
    ...             resource="arn:aws:iam::123456789012:role/reporting-role")
    >>> fix_id(f)
    'F01-123456789012-role-reporting-role'
    """
    resource = finding.resource
    if resource.startswith("arn:"):
        resource = ":".join(p for p in resource.split(":")[3:] if p)
    name = safe_name(resource)
    if len(name) >= 120 or name != safe_name(name):
        name = f"{name[:100]}-{hashlib.sha256(finding.resource.encode()).hexdigest()[:12]}"
    return f"{finding.rule}-{name}"


def safe_name(text: str) -> str:
    """``text`` as a file name: runs of other characters than letters, digits, ``.``, ``_``, ``-`` become ``-``.

    >>> safe_name("demo/payments/Deployment/payments-api")
    'demo-payments-Deployment-payments-api'
    """
    return _UNSAFE.sub("-", text.replace("/", "-")).strip("-.")[:120] or "resource"
