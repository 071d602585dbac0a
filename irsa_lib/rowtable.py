"""Access rows as plain records: what a comparison keeps of an analysis, sends between processes and stores.

An :class:`~irsa_lib.access.AccessRow` is a frozen dataclass, and at an organisation's size (10^5
rows) building, pickling or storing them one object at a time costs more than comparing them. A
:class:`RowTable` holds the same fields as one tuple per row (:data:`ROW_FIELDS` order): it is made
with one C-level getter per row, pickles as plain tuples, is written as JSON with every distinct value
stored once (a row is a handful of small integers), and gives back dicts only for the rows a view shows
(:func:`irsa_lib.diff.row_to_dict` of ``dict(zip(ROW_FIELDS, record))``).

>>> from irsa_lib.access import AccessRow
>>> row = AccessRow(cluster="c", namespace=None, service_account="sa", secret_arn="arn:p", secret_name="/p",
...                 secret_kind="ssm-parameter", access="direct", decision="allow", path=("sa c/-/sa", "/p"),
...                 mechanisms=("irsa",))
>>> table = RowTable.of([row, row])
>>> RowTable.from_json(table.to_json()) == table
True
>>> table.to_json()["values"][:4]
['c', None, 'sa', 'arn:p']
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from irsa_lib.access import AccessRow

ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(AccessRow))
"""The fields of an access row, in the order a record holds them."""

_SEQUENCES = frozenset(("path", "mechanisms", "unresolved_keys", "unknown", "nodes", "hop_nodes"))
"""Fields holding a tuple of strings; every other field holds one value (a string, None or a bool)."""
_SCALAR_TYPES: dict[str, frozenset[type]] = {
    name: frozenset({str, type(None)} if name == "namespace" else {bool} if name == "complete" else {str})
    for name in ROW_FIELDS
    if name not in _SEQUENCES
}
_RECORD = operator.attrgetter(*ROW_FIELDS)

FORMAT = 1
"""Version of :meth:`RowTable.to_json`'s layout."""


def record_getter(names: Sequence[str]) -> operator.itemgetter[Any]:
    """A getter of the named fields of a record (a tuple of one field when ``names`` has one)."""
    return operator.itemgetter(*(ROW_FIELDS.index(n) for n in names))


@dataclass(frozen=True)
class RowTable:
    """Access rows as tuples in :data:`ROW_FIELDS` order."""

    records: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, rows: Iterable[AccessRow]) -> RowTable:
        return cls(tuple(map(_RECORD, rows)))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.records)

    def to_json(self) -> dict[str, Any]:
        """Columns of indexes into one list of the distinct values (strings, None and booleans)."""
        index: dict[Any, int] = {}  # the values are strings, None and booleans: no two of them compare equal
        columns: dict[str, list[Any]] = {}
        for name, column in zip(
            ROW_FIELDS, list(zip(*self.records, strict=True)) or [()] * len(ROW_FIELDS), strict=True
        ):
            if name in _SEQUENCES:
                columns[name] = [[index.setdefault(v, len(index)) for v in seq] for seq in column]
            else:
                columns[name] = [index.setdefault(v, len(index)) for v in column]
        return {"format": FORMAT, "rows": len(self.records), "values": list(index), "columns": columns}

    @classmethod
    def from_json(cls, data: Any) -> RowTable:
        """The table :meth:`to_json` wrote; ``ValueError`` naming what is wrong when ``data`` is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not an access-row table of this version")
        values, columns, count = data.get("values"), data.get("columns"), data.get("rows")
        if not isinstance(values, list) or not isinstance(columns, dict) or type(count) is not int:
            raise ValueError("an access-row table needs 'values', 'columns' and 'rows'")
        if set(columns) != set(ROW_FIELDS):
            raise ValueError(f"access-row table columns {sorted(columns)} are not {sorted(ROW_FIELDS)}")
        value = values.__getitem__
        decoded = []
        for name in ROW_FIELDS:
            ids = columns[name]
            if not isinstance(ids, list) or len(ids) != count:
                raise ValueError(f"column {name!r} does not hold {count} rows")
            try:
                if name in _SEQUENCES:
                    if not set(map(type, ids)) <= {list} or not set(map(type, chain.from_iterable(ids))) <= {int}:
                        raise TypeError
                    column = [tuple(map(value, seq)) for seq in ids]
                    kinds = {type(v) for seq in column for v in seq}
                    allowed: frozenset[type] = frozenset({str})
                else:
                    if not set(map(type, ids)) <= {int}:
                        raise TypeError
                    column = list(map(value, ids))
                    kinds, allowed = set(map(type, column)), _SCALAR_TYPES[name]
            except (IndexError, TypeError):
                raise ValueError(f"column {name!r} holds something other than indexes of its values") from None
            if not kinds <= allowed:
                raise ValueError(f"column {name!r} holds {sorted(k.__name__ for k in kinds - allowed)}")
            decoded.append(column)
        return cls(tuple(zip(*decoded, strict=True)))
