"""Access rows as plain records: every field survives the JSON file, and a file that is not a table is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irsa_lib.access import AccessRow
from irsa_lib.diff import row_to_dict
from irsa_lib.rowtable import ROW_FIELDS, RowTable

# names from people we do not trust: quotes, separators, control characters, non-ASCII, "null" and "true"
HOSTILE = ["", "null", "true", "0", '"', "\\", "a,b\nc", "\x00\x1b[31m", "<script>", "\u2028", "名前"]
TEXT = st.sampled_from(HOSTILE) | st.text(max_size=6)
TEXTS = st.lists(TEXT, max_size=3).map(tuple)


ACCESS_ROWS = st.builds(
    AccessRow,
    cluster=TEXT,
    namespace=st.none() | TEXT,
    service_account=TEXT,
    secret_arn=TEXT,
    secret_name=TEXT,
    secret_kind=st.sampled_from(["ssm-parameter", "secretsmanager-secret"]),
    access=st.sampled_from(["direct", "potential"]),
    decision=st.sampled_from(["allow", "conditional"]),
    path=TEXTS,
    mechanisms=TEXTS,
    unresolved_keys=TEXTS,
    complete=st.booleans(),
    unknown=TEXTS,
    subject_kind=TEXT,
    nodes=TEXTS,
    hop_nodes=TEXTS,
    kms_key_arn=TEXT,
    kms_key_alias=TEXT,
    kms_key_manager=TEXT,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACCESS_ROWS, max_size=5))
def test_every_field_of_every_row_survives_the_file(rows: list[AccessRow]) -> None:
    table = RowTable.of(rows)
    again = RowTable.from_json(json.loads(json.dumps(table.to_json())))
    assert again == table
    assert [row_to_dict(dict(zip(ROW_FIELDS, r, strict=True))) for r in again] == [row_to_dict(r) for r in rows]


def _table() -> dict[str, Any]:
    row = AccessRow(
        cluster="c",
        namespace="ns",
        service_account="sa",
        secret_arn="arn:p",
        secret_name="/p",
        secret_kind="ssm-parameter",
        access="direct",
        decision="allow",
        path=("sa c/ns/sa", "parameter /p"),
        mechanisms=("irsa",),
    )
    return RowTable.of([row, row]).to_json()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d.update(format=2), "not an access-row table of this version"),
        (lambda d: d["columns"].pop("hop_nodes"), "columns"),
        (lambda d: d["columns"]["path"].pop(), "column 'path' does not hold 2 rows"),
        (lambda d: d["columns"]["path"].__setitem__(0, [0, 10**6]), "column 'path' holds something other"),
        (lambda d: d["columns"]["path"].__setitem__(0, "0"), "column 'path' holds something other"),
        (lambda d: d["columns"]["path"].__setitem__(0, [True]), "column 'path' holds something other"),
        (lambda d: d["columns"]["cluster"].__setitem__(0, 0.0), "column 'cluster' holds something other"),
        # an index that names a value of the wrong kind: a boolean where a name belongs, a name for `complete`
        (lambda d: d["columns"]["cluster"].__setitem__(0, d["values"].index(True)), "column 'cluster' holds ['bool']"),
        (lambda d: d["columns"]["complete"].__setitem__(0, 0), "column 'complete' holds ['str']"),
        (lambda d: d.update(rows="2"), "needs 'values', 'columns' and 'rows'"),
    ],
)
def test_a_spoilt_table_is_refused_saying_what(spoil: Any, message: str) -> None:
    data = _table()
    spoil(data)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RowTable.from_json(data)


def test_fields_are_those_of_an_access_row() -> None:
    assert set(_table()["columns"]) == set(ROW_FIELDS) and "kms_key_arn" in ROW_FIELDS
