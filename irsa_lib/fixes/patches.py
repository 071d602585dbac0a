"""Kubernetes patches from an object before and after: JSON patch (RFC 6902), merge patch (RFC 7386), the manifest.

Both patches are computed from the two documents, so they say exactly what the fix changes:

* :func:`json_patch` -- ``kubectl patch --type json``: ``add`` / ``remove`` / ``replace`` operations
  with JSON pointers (RFC 6901). A list that only lost items gets one ``remove`` per item (last
  first); one that only gained items at its end gets ``add`` operations; any other list change
  replaces the list;
* :func:`merge_patch` -- ``kubectl patch --type merge``: the changed members, ``null`` for removed
  ones, lists written whole (RFC 7386 replaces lists).

:func:`manifest_text` writes an object as YAML, and :func:`replace_lines` puts it in place of the
object's lines in its file, so the rest of the file (other documents, comments) is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml


def pointer(path: Sequence[str | int]) -> str:
    """A JSON pointer (RFC 6901): ``~`` as ``~0``, ``/`` as ``~1``.

    >>> pointer(["metadata", "annotations", "iam.amazonaws.com/permitted"])
    '/metadata/annotations/iam.amazonaws.com~1permitted'
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def json_patch(before: Any, after: Any) -> list[dict[str, Any]]:
    """RFC 6902 operations turning ``before`` into ``after`` (see the module docstring)."""
    ops: list[dict[str, Any]] = []
    _diff(before, after, [], ops)
    return ops


def _diff(before: Any, after: Any, path: list[str | int], ops: list[dict[str, Any]]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in before:
            if key not in after:
                ops.append({"op": "remove", "path": pointer([*path, key])})
        for key, value in after.items():
            if key not in before:
                ops.append({"op": "add", "path": pointer([*path, key]), "value": value})
            else:
                _diff(before[key], value, [*path, key], ops)
        return
    if isinstance(before, list) and isinstance(after, list):
        _diff_list(before, after, path, ops)
        return
    if before != after or type(before) is not type(after):
        ops.append({"op": "replace", "path": pointer(path), "value": after})


def _diff_list(before: list[Any], after: list[Any], path: list[str | int], ops: list[dict[str, Any]]) -> None:
    if before == after:
        return
    if len(after) == len(before):
        for i, (old, new) in enumerate(zip(before, after, strict=True)):
            _diff(old, new, [*path, i], ops)
        return
    if len(after) > len(before) and after[: len(before)] == before:
        ops.extend(
            {"op": "add", "path": pointer([*path, i]), "value": v} for i, v in enumerate(after) if i >= len(before)
        )
        return
    removed = _removed(before, after)
    if removed is not None:
        ops.extend({"op": "remove", "path": pointer([*path, i])} for i in reversed(removed))
        return
    ops.append({"op": "replace", "path": pointer(path), "value": after})


def _removed(before: list[Any], after: list[Any]) -> list[int] | None:
    """Indexes of ``before`` whose removal leaves ``after`` (in order), or None."""
    out, j = [], 0
    for i, item in enumerate(before):
        if j < len(after) and item == after[j]:
            j += 1
        else:
            out.append(i)
    return out if j == len(after) else None


def merge_patch(before: Any, after: Any) -> Any:
    """An RFC 7386 merge patch turning ``before`` into ``after`` (an empty object when they are equal)."""
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return after
    out: dict[str, Any] = {k: None for k in before if k not in after}
    for key, value in after.items():
        if key not in before:
            out[key] = value
        elif before[key] != value:
            out[key] = (
                merge_patch(before[key], value)
                if isinstance(before[key], Mapping) and isinstance(value, Mapping)
                else value
            )
    return out


class _Dumper(yaml.SafeDumper):
    """Plain block YAML without anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def manifest_text(*objects: Mapping[str, Any]) -> str:
    """Objects as YAML documents separated by ``---``, keys in their written order."""
    return "---\n".join(
        yaml.dump(dict(o), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
        for o in objects
    )


def replace_lines(text: str, first: int, last: int, replacement: str) -> str:
    """``text`` with lines ``first``..``last`` (1-based, inclusive) replaced by ``replacement``."""
    lines = text.splitlines(keepends=True)
    new = replacement if replacement.endswith("\n") or not replacement else replacement + "\n"
    return "".join(lines[: first - 1]) + new + "".join(lines[last:])
