"""The planned decoder (``codec._plan``) accepts exactly what the walking decoder (``codec._decode``)
accepts and returns the same records: from_data reads with the first and falls back to the second
only for the error message, so a value the plan let through that the walk refuses would be a
snapshot read without its checks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.shapes import root_trust
from benchmarks.synthetic import generate
from irsa_lib.codec import DecodeError, _decode, _Mismatch, _plan, from_data, to_data
from irsa_lib.snapshot import Snapshot

TINY = generate("tiny")
DATA = to_data(TINY)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


def _outcome(decode: Any, data: Any) -> tuple[str, Any]:
    try:
        return "ok", decode(data)
    except (DecodeError, _Mismatch):
        return "refused", None
    except (TypeError, ValueError) as exc:  # a record's own checks (__post_init__), raised by both alike
        return type(exc).__name__, str(exc)


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``data`` (a key of an object, an index of a list), records of the first few of each list."""
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _places(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data[:2]):
            out += _places(v, (*path, i))
    return out


PLACES = _places(DATA)[1:]


def _replaced(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        out = dict(data)
        if not rest and how == "drop":
            del out[head]
        elif not rest and how == "add":
            out[f"{head}-extra"] = value
        else:
            out[head] = _replaced(data[head], rest, how, value)
        return out
    out_list = list(data)
    out_list[head] = _replaced(data[head], rest, how, value)
    return out_list


@pytest.mark.parametrize("snapshot", [TINY, root_trust(20)], ids=["tiny", "root-trust"])
def test_the_plan_reads_a_snapshot_as_the_walk_does(snapshot: Snapshot) -> None:
    data = to_data(snapshot)
    assert _plan(Snapshot)(data) == _decode(Snapshot, data, "") == snapshot == from_data(Snapshot, data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLACES), st.sampled_from(["set", "drop", "add"]), JSON)
def test_the_plan_refuses_what_the_walk_refuses(path: tuple[Any, ...], how: str, value: Any) -> None:
    data = _replaced(DATA, path, how, value)
    planned, walked = _outcome(_plan(Snapshot), data), _outcome(lambda d: _decode(Snapshot, d, ""), data)
    assert planned == walked


def test_an_error_still_names_the_field() -> None:
    data = _replaced(DATA, ("roles", 1, "max_session_duration"), "set", "long")
    with pytest.raises(DecodeError, match=r"^roles\[1\]\.max_session_duration: must be an integer"):
        from_data(Snapshot, data)
