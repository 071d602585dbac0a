"""The snapshot: every collected record plus what was and was not collected, as versioned JSON.

Collection writes a snapshot; analysis reads only snapshots. A snapshot file is written atomically
(an unnamed file, named and renamed once complete) so an interrupted or killed run never leaves half a
file, and reading one is strict: a malformed file, a newer schema, data nested too deep or two records
of one resource fail with a message naming the file and the field.

Example
-------
>>> from irsa_lib.snapshot import Snapshot, merge_snapshots
>>> a = Snapshot(created_at="2026-01-01T00:00:00Z")
>>> merge_snapshots([a, a]).schema_version == SCHEMA_VERSION
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irsa_lib import __version__
from irsa_lib.codec import DecodeError, from_data, to_data
from irsa_lib.errors import IrsaError
from irsa_lib.model import (
    Account,
    Coverage,
    EKSCluster,
    ESOClusterExternalSecret,
    ESOController,
    ESOExternalSecret,
    ESOPushSecret,
    ESOSecretStore,
    Group,
    InstanceProfile,
    K8sSecret,
    KESController,
    KESExternalSecret,
    KMSKey,
    ManagedPolicy,
    Namespace,
    NodeGroup,
    OIDCProvider,
    PodIdentityAssociation,
    RBACBinding,
    RBACRole,
    Role,
    SecretProviderClass,
    SecretsManagerSecret,
    ServiceAccount,
    SSMParameter,
    User,
    Workload,
)
from irsa_lib.nesting import TooDeep, json_loads

SCHEMA_VERSION = 1
FORMAT_NAME = "irsa_lib.snapshot"


class SnapshotError(IrsaError, ValueError):
    """A snapshot file cannot be read: malformed, of another format, or of a newer schema."""


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """All records of one collection run (or of several merged), with their coverage."""

    created_at: str
    schema_version: int = SCHEMA_VERSION
    tool_version: str = __version__
    # AWS side
    accounts: tuple[Account, ...] = ()
    roles: tuple[Role, ...] = ()
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    managed_policies: tuple[ManagedPolicy, ...] = ()
    instance_profiles: tuple[InstanceProfile, ...] = ()
    oidc_providers: tuple[OIDCProvider, ...] = ()
    kms_keys: tuple[KMSKey, ...] = ()
    ssm_parameters: tuple[SSMParameter, ...] = ()
    secrets: tuple[SecretsManagerSecret, ...] = ()
    clusters: tuple[EKSCluster, ...] = ()
    pod_identity_associations: tuple[PodIdentityAssociation, ...] = ()
    node_groups: tuple[NodeGroup, ...] = ()
    # Kubernetes side
    namespaces: tuple[Namespace, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    workloads: tuple[Workload, ...] = ()
    k8s_secrets: tuple[K8sSecret, ...] = ()
    rbac_roles: tuple[RBACRole, ...] = ()
    rbac_bindings: tuple[RBACBinding, ...] = ()
    kes_external_secrets: tuple[KESExternalSecret, ...] = ()
    kes_controllers: tuple[KESController, ...] = ()
    eso_stores: tuple[ESOSecretStore, ...] = ()
    eso_external_secrets: tuple[ESOExternalSecret, ...] = ()
    eso_cluster_external_secrets: tuple[ESOClusterExternalSecret, ...] = ()
    eso_push_secrets: tuple[ESOPushSecret, ...] = ()
    eso_controllers: tuple[ESOController, ...] = ()
    secret_provider_classes: tuple[SecretProviderClass, ...] = ()
    # What was and was not collected
    coverage: tuple[Coverage, ...] = ()

    def incomplete(self) -> tuple[Coverage, ...]:
        """Coverage entries whose source could not be fully read (denied, throttled, failed...)."""
        return tuple(c for c in self.coverage if not c.complete)

    def counts(self) -> dict[str, int]:
        """Number of records per collection, for summaries."""
        return {
            f.name: len(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), tuple) and f.name != "coverage"
        }


RECORD_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(Snapshot) if f.name not in {"created_at", "schema_version", "tool_version"}
)


def now_utc() -> str:
    """The current time as an ISO 8601 UTC timestamp with a ``Z`` suffix."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def merge_snapshots(parts: Iterable[Snapshot], *, created_at: str | None = None) -> Snapshot:
    """Concatenate the records and coverage of several partial snapshots (one per source)."""
    parts = list(parts)
    merged: dict[str, list[Any]] = {name: [] for name in RECORD_FIELDS}
    for part in parts:
        for name in RECORD_FIELDS:
            merged[name].extend(getattr(part, name))
    stamp = created_at or (min(p.created_at for p in parts) if parts else now_utc())
    records: dict[str, Any] = {k: tuple(v) for k, v in merged.items()}
    return Snapshot(created_at=stamp, **records)


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as a JSON-ready object with its format marker."""
    data = to_data(snapshot)
    return {"format": FORMAT_NAME, **data}


def snapshot_from_json(data: Any, *, source: str = "<snapshot>") -> Snapshot:
    """Read a snapshot object, refusing other formats and newer schemas."""
    if not isinstance(data, dict):
        raise SnapshotError(f"{source}: not a snapshot (expected a JSON object, got {type(data).__name__})")
    if data.get("format") != FORMAT_NAME:
        raise SnapshotError(f'{source}: not an irsa_lib snapshot (missing "format": "{FORMAT_NAME}")')
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SnapshotError(f"{source}: schema_version is missing or not an integer")
    if version > SCHEMA_VERSION:
        raise SnapshotError(
            f"{source}: snapshot schema version {version} is newer than this irsa_lib ({__version__}) "
            f"reads (up to {SCHEMA_VERSION}); upgrade irsa_lib to analyse it"
        )
    if version < 1:
        raise SnapshotError(f"{source}: unknown snapshot schema version {version}")
    body = {k: v for k, v in data.items() if k != "format"}
    try:
        snapshot = from_data(Snapshot, body)
    except DecodeError as exc:
        raise SnapshotError(f"{source}: {exc}") from exc
    duplicate = first_duplicate(snapshot)
    if duplicate is not None:
        raise SnapshotError(f"{source}: {duplicate}")
    return snapshot


def first_duplicate(snapshot: Snapshot) -> str | None:
    """Two records of one collection with the same ARN, described, or None.

    Each AWS resource is collected once; a second copy (a hand-edited or concatenated file) would
    silently replace the first in every index the analysis builds, so the file is refused instead.
    """
    for name in RECORD_FIELDS:
        seen: dict[str, int] = {}
        for i, record in enumerate(getattr(snapshot, name)):
            key = getattr(record, "arn", None) or getattr(record, "association_arn", None)
            if not key:
                continue
            if key in seen:
                return f"{name}[{seen[key]}] and {name}[{i}] are the same resource ({key}): a snapshot holds each once"
            seen[key] = i
    return None


def read_snapshot_text(path: str | os.PathLike[str]) -> str:
    """The text of a snapshot file; errors name the file and why it cannot be read."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotError(f"{p}: no such snapshot file") from None
    except OSError as exc:
        raise SnapshotError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def load_snapshot(path: str | os.PathLike[str], *, text: str | None = None) -> Snapshot:
    """Read a snapshot file; errors name the file and what is wrong in it. ``text``: the file's text
    when the caller has read it already (:func:`read_snapshot_text`), so that it is read once."""
    p = Path(path)
    if text is None:
        text = read_snapshot_text(p)
    try:
        data = json_loads(text, check=False)  # the codec bounds the free-form parts (policy documents)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{p}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except TooDeep as exc:
        raise SnapshotError(f"{p}: {exc}") from None
    snapshot = snapshot_from_json(data, source=str(p))
    # remembered so that saving this snapshot again copies the file instead of re-encoding it
    object.__setattr__(snapshot, _LOADED_FROM, (p.resolve(), text_digest(text)))
    return snapshot


_LOADED_FROM = "_loaded_from"
"""The attribute where :func:`load_snapshot` notes the file and the digest of the text it read
(instances made otherwise, ``dataclasses.replace`` and merges included, have none)."""


def text_digest(text: str) -> bytes:
    """The digest of a snapshot file's text (what the graph cache finds entries by, and what
    :func:`load_snapshot` notes to know the file unchanged since)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def save_snapshot(snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Write the snapshot atomically: readers see the old file or the whole new one, never half.

    A snapshot as :func:`load_snapshot` read it is written as the text of its file when that file
    still holds that text (checked by digest): the same records, and at an organisation's size seconds
    less than encoding them again."""
    return write_atomic(path, _loaded_text(snapshot) or json.dumps(snapshot_to_json(snapshot), indent=1) + "\n")


def _loaded_text(snapshot: Snapshot) -> str | None:
    """The text of the file ``snapshot`` was loaded from, if that file is unchanged since; else None."""
    loaded = getattr(snapshot, _LOADED_FROM, None)
    if loaded is None:
        return None
    source, digest = loaded
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if text_digest(text) == digest else None


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write text to ``path`` so that readers, and a crash, see the old file or the whole new one.

    On Linux the text goes to an unnamed file in the target's directory (``O_TMPFILE``): killed while
    writing, the process leaves nothing behind. Only once the text is complete does the file get a
    temporary name, to be renamed over ``path`` at once. Elsewhere a named temporary file is used. Either
    way a temporary left by a process that died (its PID is in the name) is removed by the next write.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(p)
    data = text.encode("utf-8")
    tmp = p.parent / f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        if not _write_unnamed(data, tmp):
            with open(tmp, "xb", opener=lambda f, flags: os.open(f, flags | os.O_CLOEXEC, 0o600)) as fh:
                fh.write(data)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


def _write_unnamed(data: bytes, name: Path) -> bool:
    """Write ``data`` to an unnamed file in ``name``'s directory, then name it ``name``. False (and
    nothing named) where the system cannot: no ``O_TMPFILE`` (another OS, some file systems) or no /proc."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return False
    try:
        fd = os.open(name.parent, flag | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
        # os.link calls linkat (which can follow the /proc link to the open file) only with a directory fd
        directory = os.open(name.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.link(f"/proc/self/fd/{fd}", name.name, dst_dir_fd=directory, follow_symlinks=True)
        except OSError:
            return False
        finally:
            os.close(directory)
        return True
    finally:
        os.close(fd)


def _remove_stale_temporaries(target: Path) -> None:
    """Remove ``.<name>.<pid>.<random>.tmp`` files next to ``target`` whose writing process is gone."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = leftover.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True
