"""Deep nesting in the files we read: a bound, and where it is broken, found without recursion.

Python's JSON and YAML readers recurse once per level, so ``[[[[...]]]]`` 10,000 deep raises
``RecursionError`` from inside them, and data a few hundred levels deep that they did read breaks
whatever walks it later (writing a snapshot, for one). No IAM policy or Kubernetes object comes
near :data:`MAX_DEPTH` levels, so deeper data is refused with :class:`TooDeep`, which names where
the nesting is (``Statement[0].Condition.StringEquals.x[0][0]...``), found by loops, not recursion.

>>> check_depth({"Statement": [{"Condition": [[["x"]]]}]}, limit=4)
Traceback (most recent call last):
...
irsa_lib.nesting.TooDeep: Statement[0].Condition[0]: nested more than 4 levels deep
>>> json_loads("[" * 10_000 + "]" * 10_000)
Traceback (most recent call last):
...
irsa_lib.nesting.TooDeep: [0][0][0][0][0][0][0][0][0][0][0][0]...(52 more): nested more than 64 levels deep
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "TooDeep", "check_depth", "deepest_in_json", "deepest_in_yaml", "json_loads", "path_text"]

MAX_DEPTH = 64
"""Levels of nested objects and lists a value may have (IAM policies have about six)."""
SHOWN = 12
"""Path components shown in a message before the rest is counted."""

Key = str | int


class TooDeep(ValueError):
    """Data nested deeper than the bound; ``path`` says where (relative to what was checked)."""

    def __init__(self, path: str, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"{path or 'the top level'}: nested more than {limit} levels deep")
        self.path = path
        self.limit = limit


def path_text(keys: Iterable[Key], prefix: str = "") -> str:
    """``a.b[0].c`` from keys, ``prefix`` first; long paths are cut after :data:`SHOWN` components."""
    keys = list(keys)
    out = prefix
    for key in keys[:SHOWN]:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    if len(keys) > SHOWN:
        out += f"...({len(keys) - SHOWN} more)"
    return out


def _is_container(value: Any) -> bool:
    """A mapping, list or tuple; the types JSON and YAML give are told apart without asking the
    Mapping ABC (it was half of the depth check of a snapshot's policy documents)."""
    t = type(value)
    if t is dict or t is list or t is tuple:
        return True
    if t is str or t is int or t is float or t is bool or value is None:
        return False
    return isinstance(value, Mapping | list | tuple)


def _containers(value: Any) -> Iterable[tuple[Key, Any]]:
    if type(value) is dict or isinstance(value, Mapping):
        return ((str(k), v) for k, v in value.items() if _is_container(v))
    if isinstance(value, list | tuple):
        return ((i, v) for i, v in enumerate(value) if _is_container(v))
    return ()


def check_depth(value: Any, *, limit: int = MAX_DEPTH, prefix: str = "") -> None:
    """Raise TooDeep when ``value`` holds objects or lists nested more than ``limit`` levels."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        for _, child in _containers(item):
            if depth + 1 >= limit:
                raise TooDeep(path_text(_path_to_depth(value, limit), prefix), limit)
            stack.append((child, depth + 1))


def _path_to_depth(value: Any, limit: int) -> list[Key]:
    """The keys down to the first container ``limit`` levels below ``value`` (one exists)."""
    stack: list[tuple[Any, list[Key]]] = [(value, [])]
    while stack:
        item, keys = stack.pop()
        for key, child in _containers(item):
            if len(keys) + 1 >= limit:
                return [*keys, key]
            stack.append((child, [*keys, key]))
    return []


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
"""JSON strings and punctuation: what tells where a value sits. Linear: the alternatives are disjoint."""


def deepest_in_json(text: str, keep: int = MAX_DEPTH) -> tuple[list[Key], int]:
    """The first ``keep`` keys down to the most deeply nested point of a JSON text, and its depth
    (read in one pass, without recursion)."""
    frames: list[list[Any]] = []  # [key or index, is_object]
    best: tuple[list[Key], int] = ([], 0)
    last = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("{", "["):
            frames.append([None if token == "{" else 0, token == "{"])
            if len(frames) > best[1]:
                best = ([f[0] for f in frames[: min(len(frames) - 1, keep)]], len(frames))
        elif token in ("}", "]"):
            if frames:
                frames.pop()
        elif token == ":":
            if frames and frames[-1][1]:
                frames[-1][0] = last
        elif token == ",":
            if frames and not frames[-1][1]:
                frames[-1][0] += 1
        else:
            try:
                last = str(json.loads(token))
            except ValueError:
                last = token
    return best


def json_loads(text: str, *, check: bool = True) -> Any:
    """``json.loads``, with data too deep for it refused by TooDeep; ``check``: also data deeper than
    :data:`MAX_DEPTH` (a caller that checks the parts that may nest, as the snapshot reader does, skips it)."""
    try:
        value = json.loads(text)
    except RecursionError:
        keys, _ = deepest_in_json(text)
        raise TooDeep(path_text(keys)) from None
    if check:
        check_depth(value)
    return value


def deepest_in_yaml(text: str, loader: Any) -> tuple[list[Key], int, int]:
    """Like :func:`deepest_in_json` for one YAML document, from the parser's events (no recursion):
    (the first keys down to the deepest point, its depth, its 1-based line). A parser error (libyaml
    stops at 1,000 levels) ends the reading: the deepest point seen so far is returned."""
    import yaml

    frames: list[list[Any]] = []  # [key or index, is_mapping, expecting_a_key]
    best: tuple[list[Key], int, int] = ([], 0, 0)

    def done() -> None:  # a node ended: the parent expects its next key, or counts the item
        if frames:
            frame = frames[-1]
            if frame[1]:
                frame[2] = not frame[2]
            else:
                frame[0] += 1

    events = yaml.parse(text, Loader=loader)
    while True:
        try:
            event = next(events)
        except (StopIteration, yaml.YAMLError):
            return best
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            mapping = isinstance(event, yaml.MappingStartEvent)
            frames.append([None if mapping else 0, mapping, True])
            if len(frames) > best[1]:
                keys = [f[0] for f in frames[: min(len(frames) - 1, MAX_DEPTH)]]
                mark = event.start_mark
                best = (keys, len(frames), mark.line + 1 if mark is not None else 0)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frames.pop()
            done()
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            if frames and frames[-1][1] and frames[-1][2]:
                frames[-1][0] = str(getattr(event, "value", "*"))
                frames[-1][2] = False
            else:
                done()
