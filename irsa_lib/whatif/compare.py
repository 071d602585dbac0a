"""The answer of a what-if: the analysis of the snapshot against the analysis of its overlay.

Access rows gained, lost and changed (with both paths) and findings introduced and resolved come
from :mod:`irsa_lib.diff`; each is tied to the planned changes (Terraform addresses) or manifest
sources that touch a record on its path, so a review comment or a SARIF result can point at them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from irsa_lib.analysis import Analysis, analyse
from irsa_lib.collector import paused
from irsa_lib.diff import Drift, diff_findings, diff_rows, row_key
from irsa_lib.findings import Finding, Severity
from irsa_lib.rowtable import RowTable
from irsa_lib.snapshot import Snapshot
from irsa_lib.whatif.overlay import Overlay

_ARN_NODES = ("role:", "key:", "param:", "secret:", "oidc:")


@dataclass(frozen=True)
class WhatIf:
    """What the change would grant and take away, and which planned changes cause it."""

    overlay: Overlay
    drift: Drift
    row_causes: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    """Row key (:func:`irsa_lib.diff.row_key`) of a gained, lost or changed row -> causing addresses."""
    finding_causes: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    baseline: tuple[Sequence[Finding], RowTable] | None = None
    """The snapshot's own findings and rows the overlay was compared with (``irsa whatif --baseline`` keeps them)."""

    @property
    def gained(self) -> tuple[Mapping[str, Any], ...]:
        return self.drift.access_added

    @property
    def lost(self) -> tuple[Mapping[str, Any], ...]:
        return self.drift.access_removed

    @property
    def introduced(self) -> list[Finding]:
        """Failing findings that are new or became failing or more severe."""
        return self.drift.new_at_or_above(Severity.INFO)

    @property
    def resolved(self) -> tuple[Finding, ...]:
        return self.drift.findings_removed

    def new_access(self) -> list[Mapping[str, Any]]:
        """Rows of subjects reading a value they cannot read today, or only conditionally today."""
        widened = [
            c.new
            for c in self.drift.access_changed
            if c.old.get("decision") != "allow" and c.new.get("decision") == "allow"
        ]
        return [*self.drift.access_added, *widened]

    def causes_of_row(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return self.row_causes.get(row_key(row), ())


def node_record(node: str) -> str | None:
    """The record a graph node stands for, in the overlay's terms: an ARN or ``cluster/ns/Kind/name``."""
    for prefix in _ARN_NODES:
        if node.startswith(prefix):
            return node[len(prefix) :]
    if node.startswith("session:"):
        return node[len("session:") :].split("#", 1)[0]
    if node.startswith("sa:"):
        cluster, _, rest = node[3:].partition("/")
        ns, _, name = rest.partition("/")
        return f"{cluster}/{ns}/ServiceAccount/{name}"
    if node.startswith("workload:"):
        return node[len("workload:") :]
    return None


def _policies_of(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    """Role ARN -> the managed policies attached to it and its boundary: they decide what the role reaches."""
    return {
        r.arn: (*r.attached_policy_arns, *((r.permissions_boundary_arn,) if r.permissions_boundary_arn else ()))
        for r in snapshot.roles
    }


def _key_of(snapshot: Snapshot) -> dict[str, str]:
    """Value ARN -> the ARN of the key it is encrypted with (as far as the snapshot resolves it)."""
    keys: dict[str, str] = {}
    for k in snapshot.kms_keys:
        for ref in (k.arn, k.key_id, *k.aliases):
            keys[ref] = k.arn
    out = {}
    for p in snapshot.ssm_parameters:
        if p.key_id and p.key_id in keys:
            out[p.arn] = keys[p.key_id]
    for s in snapshot.secrets:
        if s.kms_key_id and s.kms_key_id in keys:
            out[s.arn] = keys[s.kms_key_id]
    return out


def _row_causes(
    rows: Iterable[Mapping[str, Any]],
    origins: Mapping[str, tuple[str, ...]],
    key_of: Mapping[str, str],
    policies_of: Mapping[str, tuple[str, ...]],
) -> dict[tuple[str, ...], tuple[str, ...]]:
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for row in rows:
        records = [node_record(n) for n in row.get("nodes") or ()]
        records += [p for r in records for p in policies_of.get(r or "", ())]
        secret = str(row.get("secret_arn", ""))
        records += [secret, key_of.get(secret)]
        found = list(out.get(row_key(row), ()))
        for r in records:
            for address in origins.get(r or "", ()):
                if address not in found:
                    found.append(address)
        out[row_key(row)] = tuple(found)
    return out


def _finding_causes(
    finding: Finding, origins: Mapping[str, tuple[str, ...]], policies_of: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """Addresses that changed the finding's resource, or a record its evidence names (a role and its policies)."""
    found = list(origins.get(finding.resource, ()))
    text = " ".join(finding.evidence)
    named = [r for r in origins if r in text]
    named += [p for r in named for p in policies_of.get(r, ())]
    for record in named:
        found.extend(a for a in origins.get(record, ()) if a not in found)
    return tuple(found)


PARALLEL_FROM_RECORDS = 5000
"""Below this many records an analysis takes about a second: a second process does not pay."""

_PENDING: list[Snapshot] = []


def _analysed(snapshot: Snapshot) -> tuple[tuple[Finding, ...], RowTable]:
    result = analyse(snapshot, rows_first=True)
    return result.findings, RowTable.of(result.rows)


def _analyse_pending() -> tuple[tuple[Finding, ...], RowTable]:
    """In the forked worker: the findings and rows of the snapshot the parent left in ``_PENDING``."""
    return _analysed(_PENDING[0])


def _both(
    snapshot: Snapshot, overlaid: Snapshot, parallel: bool | None
) -> tuple[tuple[tuple[Finding, ...], RowTable], Analysis]:
    """The findings and rows of ``snapshot`` and the analysis of ``overlaid``, in two processes when it pays.

    The worker is forked after ``snapshot`` is in place, so it is not sent over a pipe; only its findings
    and rows come back, the rows as plain tuples (a third of the time of pickling the row objects).
    """
    size = sum(snapshot.counts().values())
    if parallel is None:
        parallel = (os.cpu_count() or 1) >= 2 and size >= PARALLEL_FROM_RECORDS
    if not parallel or "fork" not in multiprocessing.get_all_start_methods():
        return _analysed(snapshot), analyse(overlaid, rows_first=True)
    _PENDING[:] = [snapshot]
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_analyse_pending)
            after = analyse(overlaid, rows_first=True)
            return future.result(), after
    finally:
        _PENDING.clear()


@paused
def what_if(
    snapshot: Snapshot,
    overlay: Overlay,
    *,
    baseline: tuple[Sequence[Finding], RowTable] | None = None,
    parallel: bool | None = None,
) -> WhatIf:
    """Analyse ``snapshot`` and ``overlay.snapshot`` and compare them.

    ``baseline``: the findings and access rows of ``snapshot`` when they are already at hand (else they
    are worked out and kept in the answer's :attr:`WhatIf.baseline`).
    ``parallel``: analyse the two snapshots at the same time in two processes (default: when the
    machine has two cores or more and the snapshot is large enough for it to pay).
    """
    if baseline is None:
        baseline, after = _both(snapshot, overlay.snapshot, parallel)
    else:
        after = analyse(overlay.snapshot, rows_first=True)
    old_f, old_r = baseline
    new_f, new_r = after.findings, after.rows
    fa, fr, fc = diff_findings(old_f, new_f)
    ra, rr, rc = diff_rows(old_r, new_r)
    drift = Drift(tuple(fa), tuple(fr), tuple(fc), tuple(ra), tuple(rr), tuple(rc))
    origins = overlay.origins()
    key_of = {**_key_of(snapshot), **_key_of(overlay.snapshot)}
    policies_of = {**_policies_of(snapshot), **_policies_of(overlay.snapshot)}
    changed_rows = [*ra, *rr, *(c.new for c in rc), *(c.old for c in rc)]
    row_causes = _row_causes(changed_rows, origins, key_of, policies_of)
    finding_causes = {}
    for f in [*fa, *fr, *(c.new for c in fc)]:
        causes = _finding_causes(f, origins, policies_of)
        if causes:
            finding_causes[f.key] = causes
    return WhatIf(overlay=overlay, drift=drift, row_causes=row_causes, finding_causes=finding_causes, baseline=baseline)
