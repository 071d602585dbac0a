"""Where a record is written: a Terraform resource block, a manifest document, or a snapshot's JSON.

SARIF results must point at a file and line for code scanning to accept them. Three locators, each
built once and asked many times:

* :class:`TerraformLocator`: ``resource "<type>" "<name>"`` blocks of the ``.tf`` files under a
  directory, read with python-hcl2 (the optional extra ``irsa_lib[terraform]``);
* :class:`ManifestLocator`: the first line of each Kubernetes object in a manifest tree, by
  ``cluster/namespace/Kind/name`` (the id findings use);
* :class:`SnapshotLocator`: the line of a record in a snapshot file, by ARN or Kubernetes id.

A file that cannot be read is left out; a locator never raises for one bad file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from irsa_lib.errors import UsageError

_INDEX = re.compile(r"\[[^\]]*\]")
_SKIP_DIRS = {".git", ".terraform", "node_modules"}


@dataclass(frozen=True)
class Location:
    """A file and a 1-based line."""

    path: str
    line: int = 1


def files_under(root: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """``root`` itself when a file, else the files under it ending in ``suffixes`` (hidden and tool directories skipped), sorted."""
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(suffixes):
                yield Path(dirpath) / name


class TerraformLocator:
    """Resource blocks by ``<type>.<name>`` under a directory of Terraform files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        try:
            import hcl2
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise UsageError("--terraform-dir needs python-hcl2: pip install 'irsa_lib[terraform]'") from None
        self.root = Path(root)
        if not self.root.exists():
            raise UsageError(f"--terraform-dir {root}: no such directory")
        self.blocks: dict[str, list[Location]] = {}
        self.problems: list[str] = []
        for file in files_under(self.root, (".tf",)):
            try:
                tree = hcl2.parses_to_tree(file.read_text(encoding="utf-8"))
            except Exception as exc:  # python-hcl2 raises lark errors of many kinds
                self.problems.append(f"{file}: not readable as HCL ({type(exc).__name__})")
                continue
            for rtype, name, line in _resource_blocks(tree):
                self.blocks.setdefault(f"{rtype}.{name}", []).append(Location(str(file), line))

    def find(self, address: str) -> Location | None:
        """The block of a resource address (``module.x.aws_iam_role.app[0]`` -> ``aws_iam_role.app``).

        Root-module resources are preferred for an address without a module; otherwise the first
        block of that type and name (modules' directories are not known from the address).
        """
        parts = _INDEX.sub("", address).split(".")
        local = ".".join(parts[-2:])
        found = self.blocks.get(local, [])
        if not found:
            return None
        if not address.startswith("module."):
            root = [loc for loc in found if Path(loc.path).parent == self.root]
            if root:
                return root[0]
        return found[0]


def _resource_blocks(tree: Any) -> Iterator[tuple[str, str, int]]:
    for block in tree.iter_subtrees_topdown():
        if block.data != "block" or not block.children:
            continue
        head = block.children[0]
        if getattr(head, "data", None) != "identifier" or str(head.children[0]) != "resource":
            continue
        labels = [_string(c) for c in block.children[1:3]]
        if all(labels):
            yield str(labels[0]), str(labels[1]), int(block.meta.line)


def _string(node: Any) -> str | None:
    if getattr(node, "data", None) != "string":
        return None
    return "".join(str(t.children[0]) for t in node.children if getattr(t, "data", None) == "string_part")


class ManifestLocator:
    """Kubernetes objects of a manifest tree by ``cluster/namespace/Kind/name``."""

    def __init__(self, root: str | os.PathLike[str], *, cluster: str, default_namespace: str = "default") -> None:
        self.objects: dict[str, Location] = {}
        for file in files_under(Path(root), (".yaml", ".yml", ".json")):
            try:
                text = file.read_text(encoding="utf-8-sig")
                nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            for node in nodes:
                for obj in _objects(node):
                    kind, name, ns = (
                        _scalar(obj, "kind"),
                        _scalar(obj, "metadata", "name"),
                        _scalar(obj, "metadata", "namespace"),
                    )
                    if not kind or not name:
                        continue
                    loc = Location(str(file), obj.start_mark.line + 1)
                    for key in _ids(cluster, kind, name, ns or default_namespace):
                        self.objects.setdefault(key, loc)

    def find(self, resource: str) -> Location | None:
        return self.objects.get(resource)


def _ids(cluster: str, kind: str, name: str, namespace: str) -> tuple[str, str]:
    return f"{cluster}/{namespace}/{kind}/{name}", f"{cluster}/{kind}/{name}"


def _objects(node: Any) -> Iterator[Any]:
    """A document's object, or the items of a ``List``."""
    if not isinstance(node, yaml.MappingNode):
        return
    kind = _scalar(node, "kind")
    items = _child(node, "items")
    if kind and kind.endswith("List") and isinstance(items, yaml.SequenceNode):
        yield from (i for i in items.value if isinstance(i, yaml.MappingNode))
    else:
        yield node


def _child(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _scalar(node: Any, *path: str) -> str | None:
    for key in path:
        node = _child(node, key)
    return node.value if isinstance(node, yaml.ScalarNode) else None


class SnapshotLocator:
    """Records of a snapshot file (as :func:`irsa_lib.snapshot.save_snapshot` writes it) by ARN or Kubernetes id."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.lines: dict[str, int] = {}
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        current: dict[str, str] = {}
        start = 1
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("{"):
                current, start = {}, number
                continue
            m = re.match(r'"(arn|association_arn|cluster|namespace|name|kind)": ("(?:[^"\\]|\\.)*")', stripped)
            if m is None:
                continue
            try:
                value = json.loads(m.group(2))
            except json.JSONDecodeError:
                continue
            current[m.group(1)] = value
            if m.group(1) in ("arn", "association_arn"):
                self.lines.setdefault(value, number)
            elif m.group(1) == "name" and "cluster" in current:
                self._k8s(current, start)

    def _k8s(self, record: Mapping[str, str], line: int) -> None:
        cluster, name, ns = record["cluster"], record["name"], record.get("namespace")
        kind = record.get("kind")
        for k in (kind,) if kind else ("*",):
            key = f"{cluster}/{ns}/{k}/{name}" if ns else f"{cluster}/{k}/{name}"
            self.lines.setdefault(key, line)

    def find(self, resource: str) -> Location:
        """The record's line, or the first line of the snapshot when the record is not found."""
        line = self.lines.get(resource)
        if line is None:
            parts = resource.split("/")
            if len(parts) >= 3 and not resource.startswith("arn:"):
                wild = "/".join([*parts[:-2], "*", parts[-1]])
                line = self.lines.get(wild)
        return Location(self.path, line or 1)
