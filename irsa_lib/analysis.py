"""The one analysis pipeline: snapshot -> inventory -> access graph -> access rows and findings.

Every consumer (the CLI, the report and its notebooks, drift, onboarding's verification) calls
:func:`analyse` and reads the :class:`Analysis` it returns; none wires the stages itself. The rows
and the findings therefore come from the same inventory and the same graph and cannot disagree.

>>> from irsa_lib.snapshot import Snapshot
>>> a = analyse(Snapshot(created_at="2026-01-01T00:00:00Z"))
>>> a.rows, a.findings, len(a.rules)
((), (), 30)
>>> analyse(a.snapshot, rules=()).rules
()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from irsa_lib.access import AccessRow, effective_access
from irsa_lib.collector import paused
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

if TYPE_CHECKING:  # the rules are imported by the analyses that run some (not `irsa access`)
    from irsa_lib.findings import Finding

__all__ = ["Analysis", "analyse"]


@dataclass(frozen=True, kw_only=True, init=False)
class Analysis:
    """Everything derived from one snapshot, computed once."""

    snapshot: Snapshot
    inventory: Inventory
    """The evaluator's index of the snapshot (parsed policies), shared by the graph and the rules."""
    graph: AccessGraph
    findings: tuple[Finding, ...]
    """The findings of the rules in :attr:`rules`, sorted by severity, rule and resource."""
    rules: tuple[str, ...]
    """Ids of the rules that ran (empty: findings were not asked for)."""

    def __init__(
        self,
        *,
        snapshot: Snapshot,
        inventory: Inventory,
        graph: AccessGraph,
        findings: tuple[Finding, ...],
        rules: tuple[str, ...],
        rows: Iterable[AccessRow] | None = None,
    ) -> None:
        fill = object.__setattr__
        for name, value in (("snapshot", snapshot), ("inventory", inventory), ("graph", graph),
                            ("findings", findings), ("rules", rules)):  # fmt: skip
            fill(self, name, value)
        if rows is not None:
            self.__dict__["rows"] = tuple(rows)

    @cached_property
    def rows(self) -> tuple[AccessRow, ...]:
        """Effective access: one row per (subject, secret value), sorted (:func:`irsa_lib.access.effective_access`),
        built on first use (``irsa findings`` needs none of them unless a rule reads them)."""
        return tuple(effective_access(self.graph))


@paused
def analyse(
    snapshot: Snapshot,
    *,
    rules: Iterable[str] | None = None,
    writes: bool = True,
    graph: AccessGraph | None = None,
    rows_first: bool = False,
) -> Analysis:
    """Analyse ``snapshot``: its inventory, access graph, effective-access rows and findings.

    ``rules``: the ids of the rules to run (``None``: the whole catalogue; an empty collection: none,
    for views that show no findings). An unknown id is a ``UsageError``, raised before any work.
    The rows are built when first read (:attr:`Analysis.rows`), from the same graph. ``writes=False``
    (for views that only read, with no findings: a rule may judge who can overwrite a value) builds
    the graph without the edges that overwrite a value. ``graph``: the graph of this very snapshot,
    already built (read from :mod:`irsa_lib.cache`). ``rows_first``: build the rows before the rules,
    for callers that read both (a report, a comparison): the rules that ask who reaches which value
    then read the rows; without it they search the graph for that alone (a fifth of the rows' work,
    which a caller that reads no rows, ``irsa findings``, is spared the rest of).
    """
    wanted = None if rules is None else list(rules)
    ids: tuple[str, ...] = ()
    if wanted != []:
        from irsa_lib.findings import run_findings, select_rules

        ids = tuple(r.id for r in select_rules(wanted))
    if ids and not (writes if graph is None else graph.write_edges):
        raise ValueError("findings need the write edges: writes=False is for analyses without rules")
    inventory = Inventory.from_snapshot(snapshot)
    if graph is None:
        graph = build_graph(snapshot, inventory=inventory, writes=writes)
    rows = effective_access(graph) if rows_first else None
    findings = tuple(run_findings(snapshot, graph=graph, inventory=inventory, rules=ids)) if ids else ()
    return Analysis(snapshot=snapshot, inventory=inventory, graph=graph, findings=findings, rules=ids, rows=rows)
