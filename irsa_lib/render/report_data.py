"""The report's data: every access row, value, subject and finding in one compact JSON document.

The report page renders its tables and focused graphs in the browser from this one block (see
:mod:`irsa_lib.render.report_page`), so no row is left out of the page however large the
organisation: strings are stored once in tables and rows refer to them by index.

Layout (all lists; ``-1`` means none):

- ``labels``: every hop label; ``types``: the node type of each label's node (parallel list);
  ``node_ids``: the graph node id of each (parallel list: the same label may name two nodes, e.g. two
  roles of one name in two accounts, so labels are per node, not per text).
- ``subjects``: ``[display, kind, cluster, namespace]``; ``values``: ``[name,
  arn, kind, key label, key ARN, owner namespace]``.
- ``rows``: columns ``s`` (subject), ``v`` (value), ``k`` (access index * 4 + decision index * 2 +
  1 when complete, see :data:`ACCESS_CODES` and :data:`DECISION_CODES`), ``f`` (the path's first hop:
  the subject, or a workload running as the service account), ``p`` (the rest of the path: an index
  into ``suffixes``), ``u`` (unresolved keys / unknown inputs: an index into
  ``notes``, or -1).
- ``suffixes``: hop chains after the subject, as label indices (many rows share one);
  ``notes``: distinct texts of unresolved keys and gaps.
- ``findings``: ``[severity, rule, slug, title, resource, status, evidence, remediation]``.
- ``edges``: ``"<from label index> <to label index>"`` -> ``[mechanism, decision, evidence]`` for
  every edge a path takes, for the focused graphs' hover texts (evidence cut to a few lines).

The *owner* of a value is the namespace named by the first segment of its name (``/billing/db`` and
``billing/api-key`` belong to ``billing``) when a namespace of that name exists in some cluster;
otherwise it has none and is not counted as "read from outside".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

from irsa_lib.graph.schema import DECISION, EVIDENCE, KEY_EVIDENCE, MECHANISM, NodeType
from irsa_lib.render.graph_view import nx_graph
from irsa_lib.subjects import display, field_reader, subject_of_row

__all__ = ["ACCESS_CODES", "DECISION_CODES", "EVIDENCE_LINES", "owner_namespace", "report_data", "to_script"]

ACCESS_CODES = ("direct", "via-controller", "potential")
DECISION_CODES = ("allow", "conditional")
EVIDENCE_LINES = 6
"""Evidence lines kept per edge for hover texts (the CSV/JSON files and ``irsa access`` have all)."""
EVIDENCE_CHARS = 400


def owner_namespace(name: str, namespaces: set[str]) -> str | None:
    """The namespace a value belongs to by name (see the module docstring), or None."""
    first = name.strip("/").split("/", 1)[0]
    return first if first in namespaces else None


class _Table:
    """Distinct items in first-seen order, by index."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.items: list[Any] = []

    def add(self, key: Any, item: Any = None) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.items)
            self.items.append(key if item is None else item)
        return i


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _cut(lines: Iterable[str]) -> list[str]:
    out = []
    for i, line in enumerate(lines):
        if i == EVIDENCE_LINES:
            out.append("… (all evidence: irsa access --format json, or the findings)")
            break
        out.append(line if len(line) <= EVIDENCE_CHARS else line[:EVIDENCE_CHARS] + " …")
    return out


_ROW_FIELDS = (
    "path", "hop_nodes", "subject_kind", "cluster", "namespace", "service_account", "secret_name", "secret_arn",
    "secret_kind", "kms_key_arn", "access", "decision", "complete", "unresolved_keys", "unknown",
)  # fmt: skip


def row_fields(rows: Iterable[Any], names: Sequence[str]) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Each row with its fields ``names`` (None where missing), read in one call per row
    (:func:`irsa_lib.subjects.field_reader`)."""
    read = field_reader(names)
    for r in rows:
        yield r, read(r)


def report_data(graph: Any, rows: Iterable[Any], findings: Iterable[Any], namespaces: set[str]) -> dict[str, Any]:
    """The report's data (see the module docstring) from the access graph (an ``AccessGraph`` or its
    networkx graph), its rows and findings."""
    labels = _Table()  # node id -> label index
    label_text: list[str] = []
    types: list[str] = []
    subjects = _Table()
    values = _Table()
    suffixes = _Table()
    notes = _Table()
    cols: dict[str, list[int]] = {k: [] for k in ("s", "v", "k", "f", "p", "u")}
    g = nx_graph(graph)

    def label(node: str, text: str) -> int:
        i = labels.index.get(node)
        if i is None:
            i = labels.add(node)
            label_text.append(text)
            types.append(str(g.nodes[node].get("type", "")) if node in g else NodeType.KMS_KEY.value)
        return i

    edges: dict[str, list[Any]] = {}
    seen_steps: set[tuple[str, str]] = set()
    by_row_subject: dict[tuple[Any, ...], int] = {}
    note_of: dict[tuple[Any, Any], int] = {}

    def edge(a: str, b: str) -> None:
        if (a, b) not in seen_steps:
            seen_steps.add((a, b))
            key = f"{labels.index[a]} {labels.index[b]}"
            if key not in edges:
                edges[key] = _edge(g, a, b)

    col_s, col_v, col_k, col_f, col_p, col_u = (cols[k] for k in ("s", "v", "k", "f", "p", "u"))
    codes = {(a, d): i * 4 + j * 2 for i, a in enumerate(ACCESS_CODES) for j, d in enumerate(DECISION_CODES)}
    for r, fields in row_fields(rows, _ROW_FIELDS):
        hops, ids, kind, cluster, namespace, sa, name, arn, secret_kind, key_arn, access, decision = fields[:12]
        complete, unresolved, unknown = fields[12:]
        ids = ids or ()
        if len(ids) != len(hops):  # a row without node ids (an older row object): labels stand in
            ids = tuple(f"label:{h}" for h in hops)
        raw = (kind, cluster, namespace, sa)
        s = by_row_subject.get(raw)
        if s is None:
            subject = subject_of_row(r)
            s = by_row_subject[raw] = subjects.add(
                subject, [display(subject), subject.kind.value, subject.cluster, subject.namespace or ""]
            )
        suffix = tuple(ids[1:])
        p = suffixes.index.get(suffix)
        if p is None:
            p = suffixes.add(suffix, [label(n, h) for n, h in zip(suffix, hops[1:], strict=True)])
            for a, b in pairwise(suffix):
                edge(a, b)
        first = label(ids[0], hops[0]) if ids else -1  # a row without a path (an older row object)
        if suffix:
            edge(ids[0], suffix[0])
        v = values.index.get(arn)
        if v is None:
            chain = suffixes.items[p]
            key = chain[-2] if len(chain) > 1 and types[chain[-2]] == NodeType.KMS_KEY else -1
            name = str(name)
            v = values.add(
                arn,
                [
                    name,
                    arn,
                    secret_kind,
                    label_text[key] if key >= 0 else "",
                    key_arn or "",
                    owner_namespace(name, namespaces) or "",
                ],
            )
        col_s.append(s)
        col_v.append(v)
        col_k.append(codes[(access, decision)] + (1 if complete else 0))
        col_f.append(first)
        col_p.append(p)
        if unresolved or unknown:
            cacheable = type(unresolved) is tuple and type(unknown) is tuple  # rows repeat a few notes
            u = note_of.get((unresolved, unknown)) if cacheable else None
            if u is None:
                u = notes.add("; ".join(map(str, [*(unresolved or ()), *(unknown or ())])))
                if cacheable:
                    note_of[(unresolved, unknown)] = u
            col_u.append(u)
        else:
            col_u.append(-1)
    return {
        "labels": label_text,
        "types": types,
        "node_ids": labels.items,
        "subjects": subjects.items,
        "values": values.items,
        "rows": cols,
        "suffixes": suffixes.items,
        "notes": notes.items,
        "edges": edges,
        "findings": [_finding(f) for f in findings],
    }


def _edge(g: Any, a: str, b: str) -> list[Any]:
    """[mechanism, decision, evidence] of the step a -> b of a path (a key hop, a controller chain's
    inner step, or a graph edge)."""
    if a.startswith("key:"):
        return ["decrypts", "allow", ["the value is encrypted with this key"]]
    if b.startswith("key:") and g.has_node(a):
        for _, v, data in g.out_edges(a, data=True):
            if KEY_EVIDENCE in data and g.nodes[v].get("kms_key") == b[4:]:
                return ["kms:Decrypt", str(data.get("decrypt_decision", data[DECISION])), _cut(data[KEY_EVIDENCE])]
        return ["kms:Decrypt", "allow", []]
    if g.has_node(a) and g.has_node(b) and g.has_edge(a, b):
        best = None
        for data in g.get_edge_data(a, b).values():
            if best is None or (best[DECISION] != "allow" and data[DECISION] == "allow"):
                best = data
        assert best is not None
        evidence = best.get(EVIDENCE, ())
        if KEY_EVIDENCE in best:  # the key hop shows its own evidence
            evidence = [e for e in evidence if e not in best[KEY_EVIDENCE]]
        return [str(best[MECHANISM]), str(best[DECISION]), _cut(evidence)]
    return ["via", "allow", ["a step of a controller's credential chain (see the edge into the value)"]]


def _finding(f: Any) -> list[Any]:
    severity = _get(f, "severity")
    return [
        str(getattr(severity, "value", severity)).lower(),
        _get(f, "rule"),
        _get(f, "slug"),
        _get(f, "title"),
        _get(f, "resource"),
        _get(f, "status"),
        list(_get(f, "evidence") or ()),
        _get(f, "remediation"),
    ]


def to_script(name: str, data: Any) -> str:
    """``window[name] = JSON.parse("...")``: JavaScript that is also safe inside an HTML ``<script>``
    element (the JSON text is one ASCII string literal, ``<``, ``>`` and ``&`` escaped). Browsers read a
    large JSON string faster than the same data as an object literal."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    literal = json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window[{json.dumps(name)}] = JSON.parse({literal});\n"


def from_script(script: str) -> Any:
    """The data of a :func:`to_script` text (for readers of ``report_data.js`` other than the page)."""
    _, sep, rest = script.partition("] = JSON.parse(")
    if not sep or not rest.endswith(");\n"):
        raise ValueError("not a report data script")
    return json.loads(json.loads(rest[: -len(");\n")]))


def aggregates(data: Mapping[str, Any], controllers: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """Per value, subject and namespace counts over the rows of :func:`report_data`, for the ranked
    summary and the drill-down tables (each a list of lists, most at risk first: values by readers
    outside their owner that are allowed outright, then by all outside readers).

    A reader is *outside* a value's owner namespace when its namespace differs (cluster-wide subjects:
    RBAC users and groups, kubelets, "any new sa" of a cluster, are outside every namespace).
    ``controllers``: displays of the controllers' own service accounts (KES, ESO): their direct reads
    are listed on their own.
    """
    subjects, values, cols = data["subjects"], data["values"], data["rows"]
    n_sub, n_val = len(subjects), len(values)
    readers = [0] * n_val
    settled = [0] * n_val  # allow, not potential
    outside = [0] * n_val
    outside_settled = [0] * n_val
    reads = [0] * n_sub
    reads_settled = [0] * n_sub
    reads_outside = [0] * n_sub
    direct_ctrl = [0] * n_sub
    ns_subjects: dict[tuple[str, str], set[int]] = {}
    ns_values: dict[tuple[str, str], set[int]] = {}
    potential = ACCESS_CODES.index("potential") * 4
    for s, v, k in zip(cols["s"], cols["v"], cols["k"], strict=True):
        sub = subjects[s]
        owner = values[v][5]
        out = bool(owner) and sub[3] != owner
        sure = k < potential and (k & 2) == 0
        readers[v] += 1
        settled[v] += sure
        outside[v] += out
        outside_settled[v] += out and sure
        reads[s] += 1
        reads_settled[s] += sure
        reads_outside[s] += out
        if k < 4 and sub[0] in controllers:
            direct_ctrl[s] += 1
        if sub[3]:
            key = (sub[2], sub[3])
            ns_subjects.setdefault(key, set()).add(s)
            ns_values.setdefault(key, set()).add(v)
    owned: dict[str, list[int]] = {}
    for i, v in enumerate(values):
        if v[5]:
            owned.setdefault(v[5], []).append(i)
    value_rows = sorted(
        (
            [i, values[i][0], values[i][3], values[i][5], readers[i], settled[i], outside[i], outside_settled[i]]
            for i in range(n_val)
        ),
        key=lambda r: (-r[7], -r[6], -r[4], r[1]),
    )
    subject_rows = sorted(
        ([i, subjects[i][0], subjects[i][1], reads[i], reads_settled[i], reads_outside[i]] for i in range(n_sub)),
        key=lambda r: (-r[3], r[1]),
    )
    ns_rows: list[list[Any]] = sorted(
        (
            [
                f"{c}/{ns}",
                len(ns_subjects[(c, ns)]),
                len(ns_values[(c, ns)]),
                len(owned.get(ns, ())),
                sum(outside[i] for i in owned.get(ns, ())),
            ]
            for c, ns in ns_subjects
        ),
        key=lambda r: (-int(r[4]), str(r[0])),
    )
    return {
        "values": value_rows,
        "subjects": subject_rows,
        "namespaces": ns_rows,
        "team_findings": team_findings(data, [str(r[0]) for r in ns_rows]),
        "controllers": sorted(
            ([i, subjects[i][0], direct_ctrl[i]] for i in range(n_sub) if direct_ctrl[i]), key=lambda r: -r[2]
        ),
    }


def _k8s_team(resource: str) -> str | None:
    """The team ("cluster/namespace") of a Kubernetes object as findings name it: ``cluster/ns/Kind/name``,
    or the namespace itself, ``cluster/Namespace/ns``; None for a cluster-wide object."""
    parts = resource.split("/")
    if len(parts) == 4:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3 and parts[1] == "Namespace":
        return f"{parts[0]}/{parts[2]}"
    return None


def team_findings(data: Mapping[str, Any], teams: Sequence[str]) -> dict[str, list[int]]:
    """Per team (a namespace of a cluster, ``cluster/ns``), the findings (indices into
    ``data["findings"]``) that concern it, in their order:

    - a Kubernetes object in its namespace, or the namespace itself;
    - a value it owns (see :func:`owner_namespace`), or the KMS key of one;
    - an AWS resource (a role, a key, an OIDC provider) on a path by which anyone reads a value it owns.

    A role on the path by which its subjects read another team's value concerns that other team.
    """
    known = set(teams)
    by_ns: dict[str, list[str]] = {}
    for team in teams:
        by_ns.setdefault(team.split("/", 1)[1], []).append(team)
    arns = {str(f[4]) for f in data["findings"] if str(f[4]).startswith("arn:")}
    values = data["values"]
    owners: dict[str, set[str]] = {}  # a value's or a key's ARN -> the teams owning the values
    for _, arn, _, _, key_arn, owner in values:
        for a in (arn, key_arn):
            if owner and a in arns:
                owners.setdefault(a, set()).update(by_ns.get(owner, ()))
    # a node id is "<kind>:<ARN>" for AWS nodes: which label indices stand for a finding's resource
    target = {i: nid.partition(":")[2] for i, nid in enumerate(data["node_ids"]) if nid.partition(":")[2] in arns}
    through: dict[str, set[str]] = {}
    cols, suffixes = data["rows"], data["suffixes"]
    for v, p in set(zip(cols["v"], cols["p"], strict=True)):
        teams_of_value = by_ns.get(values[v][5], ()) if values[v][5] else ()
        if teams_of_value:
            for i in suffixes[p]:
                if i in target:
                    through.setdefault(target[i], set()).update(teams_of_value)
    out: dict[str, list[int]] = {}
    for i, f in enumerate(data["findings"]):
        resource = str(f[4])
        concerned = (
            owners.get(resource, set()) | through.get(resource, set())
            if resource.startswith("arn:")
            else {_k8s_team(resource)} & known
        )
        for team in sorted(t for t in concerned if t):
            out.setdefault(team, []).append(i)
    return out
