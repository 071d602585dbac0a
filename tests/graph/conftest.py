"""Helpers to read access results as small sets that tests compare with hand-written tables."""

from __future__ import annotations

from typing import Any

import pytest

from irsa_lib.access import AccessRow, effective_access
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.snapshot import Snapshot

Row = tuple[str | None, str, str, str, str]


def rows(snap: Snapshot, *, kinds: tuple[str, ...] = ("ServiceAccount",), **filters: Any) -> list[AccessRow]:
    return [r for r in effective_access(build_graph(snap), **filters) if r.subject_kind in kinds]


def table(snap: Snapshot, *, kinds: tuple[str, ...] = ("ServiceAccount",), **filters: Any) -> set[Row]:
    """{(namespace, service account, secret name, access, decision)}"""
    return {
        (r.namespace, r.service_account, r.secret_name, r.access, r.decision)
        for r in rows(snap, kinds=kinds, **filters)
    }


@pytest.fixture
def graph_of() -> Any:
    def build(snap: Snapshot) -> AccessGraph:
        return build_graph(snap)

    return build
