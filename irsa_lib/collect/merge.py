"""A canonical order for collected records, so merged partial snapshots are byte-identical however they arrive.

Collection fans out (threads, Dask workers) and parts finish in any order. Every record list of the
merged snapshot is sorted by a stable key (its ARN, else where it lives and its name) with the record's
whole canonical JSON as the tie-breaker, and exact duplicates (an AWS managed policy read in every
account) are kept once: the same parts give the same bytes whatever their order.

>>> from irsa_lib.model import Coverage
>>> a = Coverage(source="aws", scope="1/global", service="iam", status="ok", count=1)
>>> b = Coverage(source="aws", scope="0/global", service="iam", status="ok", count=2)
>>> [c.scope for c in canonical_records([a, b, a])]
['0/global', '1/global']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from irsa_lib.codec import to_data
from irsa_lib.snapshot import RECORD_FIELDS, Snapshot, merge_snapshots


def sort_key(record: Any) -> tuple[str, ...]:
    """A stable primary order: by ARN, else by where the record lives and its name (self-managed node groups,
    Kubernetes objects, coverage entries)."""
    for attr in ("arn", "association_arn"):
        value = getattr(record, attr, None)
        if value:
            return (str(value),)
    return tuple(
        str(getattr(record, a, None) or "")
        for a in (
            "account_id",
            "region",
            "cluster",
            "cluster_name",
            "namespace",
            "scope",
            "service",
            "name",
            "resource",
        )
    )


def _canonical_json(record: Any) -> str:
    return json.dumps(to_data(record), sort_keys=True, separators=(",", ":"), default=str)


def canonical_records(records: Iterable[Any]) -> tuple[Any, ...]:
    """The records in canonical order, exact duplicates once."""
    keyed = {(sort_key(r), _canonical_json(r)): r for r in records}
    return tuple(keyed[k] for k in sorted(keyed))


def canonical(snapshot: Snapshot) -> Snapshot:
    """The same snapshot with every record list (and the coverage) in canonical order."""
    fields: dict[str, Any] = {name: canonical_records(getattr(snapshot, name)) for name in RECORD_FIELDS}
    return Snapshot(
        created_at=snapshot.created_at,
        schema_version=snapshot.schema_version,
        tool_version=snapshot.tool_version,
        **fields,
    )


def merge_canonical(parts: Sequence[Snapshot], *, created_at: str) -> Snapshot:
    """Merge partial snapshots deterministically: the result does not depend on the order of ``parts``."""
    return canonical(merge_snapshots(parts, created_at=created_at))
