"""Analysed snapshots kept on disk, so the next command on the same snapshot file starts from its graph.

``irsa access``, ``irsa findings`` and ``irsa graph`` each analyse the snapshot file they are given,
and building the access graph is most of that work and the same for all of them (at 1,600 roles of
the root-trust shape, 2.3 s of the 2.9 s ``irsa findings`` takes). The first command on a file keeps
the snapshot as it read it and the graph it built; the next one reads them back (0.1 s there) and
does only its own part: its rows, its rules, its picture.

An entry is found by a digest of the snapshot file's text and path and of irsa_lib's own files and
the Python version, so a changed snapshot, or another version of irsa_lib, never meets
an entry made for another. The graph kept is the whole graph, the edges that overwrite a value
included, so that it serves every command: with the cache on, ``irsa access`` builds them too (none
of its rows follows them; 0.1 to 0.5 s of the build at 1,600 roles), and the commands after it need
not build again.

An entry is a pickle, and reading a pickle runs whatever its writer put in it: entries are read only
from a directory that is the user's own and that no one else may write (not a symbolic link), and
only when the entry is the user's own regular file that no one else may write. The directory is
made 0700 and entries 0600, each written whole under a temporary name and then renamed. A damaged
entry is skipped, removed and written again; an entry that cannot be written is not: the cache can
make a command faster, never change what it prints or stop it.

Where: ``IRSA_CACHE_DIR``, else ``$XDG_CACHE_HOME/irsa_lib``, else ``~/.cache/irsa_lib``.
``IRSA_CACHE=off`` (or a command's ``--no-cache``) turns it off. Past ``IRSA_CACHE_MAX_MB`` MiB of
entries (2,048 unless set) the least recently used are removed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from irsa_lib.analysis import Analysis, analyse
from irsa_lib.collector import collector_paused
from irsa_lib.errors import UsageError
from irsa_lib.graph import AccessGraph
from irsa_lib.snapshot import Snapshot, load_snapshot, read_snapshot_text, text_digest

__all__ = ["GraphCache", "analyse_file", "code_digest"]

FORMAT = 2
"""The layout of an entry; part of every key."""
ENV_DIR, ENV_SWITCH, ENV_MAX_MB = "IRSA_CACHE_DIR", "IRSA_CACHE", "IRSA_CACHE_MAX_MB"
DEFAULT_MAX_MB = 2048
OFF = frozenset({"off", "0", "no", "false"})
SUFFIX = ".graph"


@functools.cache
def code_digest() -> bytes:
    """What, besides the snapshot, decides the graph and how it pickles: every file of the installed
    irsa_lib (its code and its data), the Python version and the entry format (an entry holds
    irsa_lib's own objects and plain containers: no other package's)."""
    h = hashlib.sha256(f"{FORMAT}\0{sys.version}\0".encode())
    h.update(tree_digest(Path(__file__).parent))
    return h.digest()


def tree_digest(root: Path) -> bytes:
    """A digest of the names and contents of the files under ``root`` (compiled bytecode left out)."""
    h = hashlib.sha256()
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")  # walked in this order, bytecode left out
        for name in sorted(files):
            with open(os.path.join(top, name), "rb") as fh:
                data = fh.read()
            rel = os.path.relpath(os.path.join(top, name), root).replace(os.sep, "/")
            h.update(f"{rel}\0{len(data)}\0".encode())
            h.update(data)
    return h.digest()


def _owned_and_closed(st: os.stat_result) -> bool:
    """The user's own, and no one else may write it."""
    uid = getattr(os, "geteuid", None)
    return (uid is None or st.st_uid == uid()) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@dataclass
class GraphCache:
    """The entries of one cache directory (see the module docstring)."""

    directory: Path
    max_bytes: int = DEFAULT_MAX_MB * 2**20
    warn: Callable[[str], None] = field(default=lambda _: None, repr=False)
    """Told, in one line, why an entry was not read or not written (the command goes on)."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, warn: Callable[[str], None] | None = None
    ) -> GraphCache | None:
        """The cache the environment asks for; None when it is turned off."""
        env = os.environ if environ is None else environ
        if env.get(ENV_SWITCH, "").strip().lower() in OFF:
            return None
        raw = env.get(ENV_MAX_MB, "").strip()
        if raw and not (raw.isascii() and raw.isdigit()):
            raise UsageError(f"{ENV_MAX_MB}: expected a whole number of MiB, got {raw!r}")
        max_mb = int(raw) if raw else DEFAULT_MAX_MB
        if env.get(ENV_DIR):
            directory = Path(env[ENV_DIR])
        else:
            base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
            directory = Path(base) / "irsa_lib"
        return cls(directory, max_mb * 2**20, warn or (lambda _: None))

    # --- keys ---------------------------------------------------------------------------------
    @staticmethod
    def key(snapshot_path: Path, digest: bytes) -> str:
        """The key of the entry of the snapshot file at ``snapshot_path`` whose text has ``digest``."""
        h = hashlib.sha256(code_digest())
        h.update(digest)
        h.update(os.fsencode(snapshot_path.resolve()))
        return h.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / f"{key}{SUFFIX}"

    # --- reading ------------------------------------------------------------------------------
    def load(self, key: str) -> tuple[Snapshot, AccessGraph] | None:
        """The snapshot and graph kept under ``key``; None when there is none to trust."""
        if not self._usable_directory(create=False):
            return None
        path = self._entry(key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.warn(f"cache entry {path} not read: {exc.strerror or exc}")
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or not _owned_and_closed(st):
                self.warn(f"cache entry {path} not read: not a file of yours that only you can write")
                return None
            try:
                with collector_paused():
                    entry = pickle.load(fh)
            except Exception as exc:  # a damaged entry: whatever unpickling raises, the snapshot is analysed again
                self.warn(f"cache entry {path} is damaged ({type(exc).__name__}); analysing the snapshot again")
                path.unlink(missing_ok=True)
                return None
        if not (
            isinstance(entry, dict)
            and entry.get("format") == FORMAT
            and entry.get("key") == key
            and isinstance(entry.get("snapshot"), Snapshot)
            and isinstance(entry.get("graph"), AccessGraph)
            and entry["graph"].write_edges
        ):
            self.warn(f"cache entry {path} is not an entry of this key; analysing the snapshot again")
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # recently used: eviction removes the least recently used first
        return entry["snapshot"], entry["graph"]

    def _usable_directory(self, *, create: bool) -> bool:
        """Whether the directory exists (made 0700 when ``create``) as the user's own, closed to others."""
        if create:
            try:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                self.warn(f"cache directory {self.directory} cannot be made: {exc.strerror or exc}")
                return False
        try:
            st = os.lstat(self.directory)
        except FileNotFoundError:
            return False
        except OSError as exc:
            self.warn(f"cache directory {self.directory} not used: {exc.strerror or exc}")
            return False
        if not stat.S_ISDIR(st.st_mode) or not _owned_and_closed(st):
            self.warn(f"cache directory {self.directory} not used: not a directory of yours that only you can write")
            return False
        return True

    # --- writing ------------------------------------------------------------------------------
    def store(self, key: str, snapshot: Snapshot, graph: AccessGraph) -> None:
        """Keep ``snapshot`` and its whole ``graph`` under ``key``; then remove the least recently used
        entries past the size limit."""
        if not graph.write_edges:
            raise ValueError("the cache keeps whole graphs: build it with writes=True")
        if not self._usable_directory(create=True):
            return
        path = self._entry(key)
        tmp = self.directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        entry = {"format": FORMAT, "key": key, "snapshot": snapshot, "graph": graph}
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            with os.fdopen(os.open(tmp, flags, 0o600), "wb") as fh:
                pickle.dump(entry, _Bounded(fh, self.max_bytes), protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except _TooLarge:  # larger than all the entries may be: not kept, and stopped as soon as known
            tmp.unlink(missing_ok=True)
            return
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            tmp.unlink(missing_ok=True)
            self.warn(f"cache entry {path} not written: {exc}")
            return
        self._evict(keep=path)

    def _evict(self, *, keep: Path) -> None:
        """Remove the least recently used entries until all of them fit in ``max_bytes``."""
        entries = []
        for path in self.directory.glob(f"*{SUFFIX}"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime_ns, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size

    def entries(self) -> list[Path]:
        """The entries kept, least recently used first."""
        return sorted(self.directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns)


class _TooLarge(Exception):
    """An entry grew past the cache's whole size limit while being written."""


class _Bounded:
    """A binary file that refuses to grow past ``limit`` bytes (pickling stops there, not at the end)."""

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self.file, self.left = file, limit

    def write(self, data: bytes) -> int:
        self.left -= len(data)
        if self.left < 0:
            raise _TooLarge
        return self.file.write(data)


def analyse_file(
    snapshot_path: str | os.PathLike[str],
    *,
    rules: Iterable[str] | None = None,
    writes: bool = True,
    cache: GraphCache | None = None,
    rows_first: bool = False,
) -> Analysis:
    """:func:`~irsa_lib.analysis.analyse` of a snapshot file, starting from the graph ``cache`` holds
    for it when there is one, and leaving the whole graph there when there is not (``writes=False``
    only applies without a cache; ``rows_first`` as :func:`~irsa_lib.analysis.analyse` has it)."""
    path = Path(snapshot_path)
    if cache is None:
        return analyse(load_snapshot(path), rules=rules, writes=writes, rows_first=rows_first)
    text = read_snapshot_text(path)  # read once: its digest finds the entry, and the load parses it
    key = cache.key(path, text_digest(text))
    found = cache.load(key)
    if found is not None:
        snapshot, graph = found
        return analyse(snapshot, rules=rules, graph=graph, rows_first=rows_first)
    snapshot = load_snapshot(path, text=text)
    analysis = analyse(snapshot, rules=rules, rows_first=rows_first)
    cache.store(key, snapshot, analysis.graph)  # made from the very text its key is the digest of
    return analysis
