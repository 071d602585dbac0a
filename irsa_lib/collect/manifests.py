"""Kubernetes records from YAML/JSON manifests, so a GitOps repository can be analysed before it is applied.

Reads a file or a directory tree of ``.yaml``/``.yml``/``.json`` files: multi-document files,
``kind: List`` and ``*List`` dumps (``kubectl get -o yaml``), ``helm template`` output. Every object
goes through :func:`irsa_lib.collect.k8s_parse.parse_object`, the code the live collector uses.

A bad document never stops the rest: invalid YAML, a document without kind/apiVersion, an unknown
kind in a group we read, an unsupported CRD version, or a malformed field each become a ``failed``
coverage entry naming ``<file>#<document> <Kind>/<name>`` and what is wrong. Kinds the analysis does
not use (Services, ConfigMaps, Ingresses...) are counted as ``ignored``. Secrets keep only their
metadata and key names; their values are never kept.

Example
-------
>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "sa.yaml").write_text("apiVersion: v1\\nkind: ServiceAccount\\nmetadata: {name: web, namespace: shop}\\n")
>>> snap = load_manifests(d, cluster="demo")
>>> [(sa.namespace, sa.name) for sa in snap.service_accounts]
[('shop', 'web')]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from irsa_lib.collect.k8s_parse import ObjectError, RecordSet, identify, parse_object, split_api_version
from irsa_lib.errors import IrsaError
from irsa_lib.model import Coverage
from irsa_lib.nesting import TooDeep, deepest_in_yaml, json_loads, path_text
from irsa_lib.snapshot import Snapshot

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_NAMESPACE = "default"


class ManifestError(IrsaError):
    """A manifest path that cannot be read at all (missing, or holding no manifest files)."""


_SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (the wheels are): about ten times faster."""


class _Loader(_SAFE_LOADER):
    """YAML 1.1 as Kubernetes reads it, except that unquoted dates stay strings (as kubectl keeps them)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class _Document:
    location: str
    """``<file>#<index>`` (``#<index>.items[<j>]`` for an entry of a List)."""
    data: Any = None
    error: str | None = None


def load_manifests(path: str | os.PathLike[str], *, cluster: str) -> Snapshot:
    """Records of every Kubernetes object under ``path`` (a file or a directory, recursively).

    ``cluster`` is the EKS cluster the manifests are deployed to, so their ServiceAccounts meet its
    OIDC issuer. Raises ManifestError when the path does not exist or holds no manifest files.
    """
    root = Path(path)
    if not root.exists():
        raise ManifestError(f"{root}: no such file or directory")
    files = [root] if root.is_file() else list(_manifest_files(root))
    if not files:
        raise ManifestError(f"{root}: no {', '.join(MANIFEST_SUFFIXES)} files found")
    collector = _Collector(cluster)
    for file in files:
        for doc in _documents(file):
            collector.add(doc)
    return collector.snapshot()


def _manifest_files(root: Path) -> Iterator[Path]:
    """Manifest files under ``root`` in a stable order, skipping hidden directories such as ``.git``."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                yield Path(dirpath) / name


def _documents(file: Path) -> Iterator[_Document]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        yield _Document(f"{file}", error=f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    except OSError as exc:
        yield _Document(f"{file}", error=f"cannot read: {exc.strerror or exc}")
        return
    if file.suffix.lower() == ".json":
        try:
            loaded = json_loads(text, check=False)
        except json.JSONDecodeError as exc:
            yield _Document(f"{file}#0", error=f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
            return
        except TooDeep as exc:
            yield _Document(f"{file}#0", error=f"{exc.path}: nested too deeply to read")
            return
        yield from _expand(f"{file}#0", loaded)
        return
    for index, (first_line, chunk) in enumerate(_split_documents(text)):
        location = f"{file}#{index}"
        try:
            loaded = yaml.load(chunk, Loader=_Loader)  # a (C)SafeLoader subclass
        except RecursionError:
            yield _Document(location, error=_too_deep(chunk, first_line))
            continue
        except yaml.YAMLError as exc:
            deep = "nesting depth" in str(getattr(exc, "problem", ""))  # libyaml stops at 1,000 levels
            yield _Document(location, error=_too_deep(chunk, first_line) if deep else _yaml_error(exc, first_line))
            continue
        if loaded is not None:
            yield from _expand(location, loaded)


def _split_documents(text: str) -> list[tuple[int, str]]:
    """Split a multi-document YAML stream at ``---`` lines, so one broken document loses only itself.

    Returns (first line number, text) per document; a blank or comment-only preamble is dropped.
    """
    chunks: list[tuple[int, list[str]]] = [(1, [])]
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        bare = line.rstrip("\r\n")
        if bare.startswith("---") and (len(bare) == 3 or bare[3] in " \t"):
            chunks.append((number, [" " * 3 + line[3:]]))
        elif bare.rstrip() == "...":
            chunks.append((number + 1, []))
        else:
            chunks[-1][1].append(line)
    out = [(start, "".join(lines)) for start, lines in chunks]
    if out and _blank(out[0][1]):
        out = out[1:]
    return out


def _blank(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _too_deep(chunk: str, first_line: int) -> str:
    """Where a document nests too deeply for the YAML reader: the field and the line."""
    keys, depth, line = deepest_in_yaml(chunk, yaml.SafeLoader)  # the pure-Python parser has no depth limit
    return f"{path_text(keys)}: nested {depth}+ levels deep (line {first_line + line - 1}), too deep to read"


def _yaml_error(exc: yaml.YAMLError, first_line: int) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {first_line + mark.line}, column {mark.column + 1}: {problem}"


def _expand(location: str, loaded: Any) -> Iterator[_Document]:
    """A document, or the entries of a ``List``/``*List`` document (items inherit the list's apiVersion)."""
    if isinstance(loaded, Mapping):
        kind = loaded.get("kind")
        items = loaded.get("items")
        if isinstance(kind, str) and kind.endswith("List") and "items" in loaded and not isinstance(items, list):
            yield _Document(location, error=f"{kind}: items must be a list, got {type(items).__name__}")
            return
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            item_kind = kind[: -len("List")] if kind != "List" else None
            for j, item in enumerate(items):
                if isinstance(item, Mapping) and item_kind and "kind" not in item:
                    item = {"kind": item_kind, "apiVersion": loaded.get("apiVersion"), **item}
                yield _Document(f"{location}.items[{j}]", data=item)
            return
    yield _Document(location, data=loaded)


class _Collector:
    """Parses documents into one record set and the coverage that says what happened to each."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self.records = RecordSet()
        self.coverage: list[Coverage] = []
        self.counts: dict[str, int] = {}
        self.ignored: dict[str, tuple[int, str]] = {}
        self.seen: dict[tuple[str, str, str | None, str], str] = {}

    def _failed(self, service: str, resource: str, error: str) -> None:
        self.coverage.append(
            Coverage(
                source="manifests", scope=self.cluster, service=service, status="failed", resource=resource, error=error
            )
        )

    def add(self, doc: _Document) -> None:
        data = doc.data if isinstance(doc.data, Mapping) else {}
        api_version, kind, name, _ = identify(data)
        described = f"{doc.location} {kind or '?'}/{name or '?'}"
        if doc.error is not None:
            self._failed("manifest", doc.location, doc.error)
            return
        try:
            parsed = parse_object(doc.data, cluster=self.cluster, default_namespace=DEFAULT_NAMESPACE)
        except ObjectError as exc:
            self._failed(kind or "manifest", described, str(exc))
            return
        if parsed.spec is None:
            group = split_api_version(api_version)[0]
            label = f"{kind}.{group}" if group else kind
            count, first = self.ignored.get(label, (0, described))
            self.ignored[label] = (count + 1, first)
            return
        key = (parsed.spec.group, parsed.kind, parsed.namespace, parsed.name)
        if key in self.seen:
            self._failed(parsed.spec.resource, described, f"duplicate of {self.seen[key]}; the first one is kept")
            return
        self.seen[key] = described
        self.records.add(parsed.records)
        self.counts[parsed.spec.resource] = self.counts.get(parsed.spec.resource, 0) + 1

    def snapshot(self) -> Snapshot:
        ok = [
            Coverage(source="manifests", scope=self.cluster, service=service, status="ok", count=count)
            for service, count in sorted(self.counts.items())
        ]
        ignored = [
            Coverage(
                source="manifests",
                scope=self.cluster,
                service=label,
                status="ignored",
                count=count,
                resource=first,
                error="kind not used by the analysis",
            )
            for label, (count, first) in sorted(self.ignored.items())
        ]
        return self.records.to_snapshot(ok + ignored + self.coverage)
