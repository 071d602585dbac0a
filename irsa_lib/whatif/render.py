"""A what-if answer as text (terminal), JSON (machines) and Markdown (a pull-request comment).

Only names, ARNs, paths and findings are shown: the overlay never holds a secret value or a value
the plan marks sensitive, so none can reach an output. Text from the inputs is made safe for its
medium: control characters never reach a terminal, and Markdown gets no live HTML or table breaks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from irsa_lib.findings import Finding
from irsa_lib.whatif.compare import WhatIf

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!])")


def clean(text: object) -> str:
    """``text`` with control characters shown as ``\\xNN`` (never sent to a terminal as they are)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def md(text: object) -> str:
    """``text`` for a Markdown table cell or line: no HTML, no formatting, no line or cell breaks."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text).replace("\n", " ").replace("\r", " "))


def subject(row: Mapping[str, Any]) -> str:
    ns = row.get("namespace")
    who = row.get("service_account")
    kind = row.get("subject_kind", "ServiceAccount")
    where = f"{row.get('cluster')}/{ns}" if ns else str(row.get("cluster"))
    if kind == "AnyServiceAccount":
        return f"any service account someone could create in {where}"
    if kind == "ServiceAccount":
        return f"{where}/{who}"
    return f"{kind} {who} ({where})"


def _decision(row: Mapping[str, Any]) -> str:
    text = f"{row.get('access')}, {row.get('decision')}"
    keys = row.get("unresolved_keys") or ()
    if keys:
        text += " on " + ", ".join(map(str, keys))
    return text


def _path(row: Mapping[str, Any]) -> str:
    return " -> ".join(str(h) for h in row.get("path") or ())


def _unknown(row: Mapping[str, Any]) -> list[str]:
    return [str(u) for u in row.get("unknown") or ()]


def summary_counts(w: WhatIf) -> str:
    d = w.drift
    return (
        f"{len(d.access_added)} access rows gained, {len(d.access_removed)} lost, {len(d.access_changed)} changed; "
        f"{len(w.introduced)} findings introduced, {len(w.resolved)} resolved"
    )


# --- text ---------------------------------------------------------------------------------------------


def format_text(w: WhatIf, *, sources: Sequence[str] = ()) -> str:
    o = w.overlay
    out = [f"what-if: {', '.join(sources)}" if sources else "what-if", summary_counts(w)]
    if o.unknowns:
        out.append("known only after apply (answers that depend on them are conditional):")
        out += [f"  ? {u}" for u in o.unknowns]
    if o.placeholders:
        out.append("placeholders:")
        out += [f"  {p}" for p in o.placeholders]
    out.append(f"access gained ({len(w.gained)}):")
    for r in w.gained:
        out.append(f"  + {subject(r)} -> {r.get('secret_name')} [{_decision(r)}]{_by(w, r)}")
        out.append(f"      path: {_path(r)}")
        out += [f"      not known: {u}" for u in _unknown(r)]
    out.append(f"access lost ({len(w.lost)}):")
    for r in w.lost:
        out.append(f"  - {subject(r)} -> {r.get('secret_name')} [{_decision(r)}]{_by(w, r)}")
    out.append(f"access changed ({len(w.drift.access_changed)}):")
    for c in w.drift.access_changed:
        out.append(f"  ~ {subject(c.new)} -> {c.new.get('secret_name')} ({', '.join(c.fields)} changed){_by(w, c.new)}")
        out.append(f"      before: [{_decision(c.old)}] {_path(c.old)}")
        out.append(f"      after:  [{_decision(c.new)}] {_path(c.new)}")
    out.append(f"findings introduced ({len(w.introduced)}):")
    out += [_finding_line("+", f, w) for f in w.introduced]
    out.append(f"findings resolved ({len(w.resolved)}):")
    out += [_finding_line("-", f, w) for f in w.resolved]
    if o.skipped:
        out.append(f"not applied ({len(o.skipped)}):")
        out += [f"  {s}" for s in o.skipped]
    return clean("\n".join(out))


def _by(w: WhatIf, row: Mapping[str, Any]) -> str:
    causes = w.causes_of_row(row)
    return f" by {', '.join(causes)}" if causes else ""


def _finding_line(sign: str, f: Finding, w: WhatIf) -> str:
    causes = w.finding_causes.get(f.key, ())
    by = f" by {', '.join(causes)}" if causes else ""
    status = "" if f.status == "fail" else " [unknown]"
    return f"  {sign} {f.severity.value:8} {f.rule} {f.slug}{status}: {f.resource}{by}"


# --- JSON ---------------------------------------------------------------------------------------------


def to_json(w: WhatIf, *, sources: Sequence[str] = ()) -> dict[str, Any]:
    def row(r: Mapping[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in r.items() if k != "nodes"}, "caused_by": list(w.causes_of_row(r))}

    def finding(f: Finding) -> dict[str, Any]:
        return {**f.to_json(), "caused_by": list(w.finding_causes.get(f.key, ()))}

    o = w.overlay
    return {
        "format": "irsa_lib.whatif",
        "sources": list(sources),
        "summary": summary_counts(w),
        "new_access": len(w.new_access()),
        "access": {
            "gained": [row(r) for r in w.gained],
            "lost": [row(r) for r in w.lost],
            "changed": [
                {"before": row(c.old), "after": row(c.new), "fields": list(c.fields)} for c in w.drift.access_changed
            ],
        },
        "findings": {
            "introduced": [finding(f) for f in w.introduced],
            "resolved": [finding(f) for f in w.resolved],
        },
        "plan": {
            "applied": [
                {"address": e.address, "action": e.action, "target": e.target, "detail": e.detail} for e in o.effects
            ],
            "known_after_apply": list(o.unknowns),
            "placeholders": list(o.placeholders),
            "not_applied": list(o.skipped),
        },
    }


# --- Markdown -----------------------------------------------------------------------------------------


def format_markdown(w: WhatIf, *, sources: Sequence[str] = ()) -> str:
    """A pull-request comment: what the change would grant, first."""
    o = w.overlay
    out = ["### What this change would grant", "", md(summary_counts(w)) + "."]
    if sources:
        out += ["", "Inputs: " + ", ".join(f"`{clean(s).replace('`', '')}`" for s in sources)]
    if w.gained:
        out += ["", "| who | can newly read | how | caused by |", "|---|---|---|---|"]
        for r in w.gained:
            how = _decision(r) + "".join(f"; not known: {u}" for u in _unknown(r))
            out.append(
                f"| {md(subject(r))} | {md(r.get('secret_name'))} | {md(how)} | "
                f"{md(', '.join(w.causes_of_row(r)) or '-')} |"
            )
    if w.drift.access_changed:
        out += ["", "**Access changed**", "", "| who | value | before | after |", "|---|---|---|---|"]
        for c in w.drift.access_changed:
            out.append(
                f"| {md(subject(c.new))} | {md(c.new.get('secret_name'))} | {md(_decision(c.old))}: {md(_path(c.old))} | "
                f"{md(_decision(c.new))}: {md(_path(c.new))} |"
            )
    if w.lost:
        out += ["", "**Access removed**", ""]
        out += [f"- {md(subject(r))} can no longer read {md(r.get('secret_name'))}" for r in w.lost]
    if w.introduced:
        out += ["", "**Findings introduced**", "", "| severity | rule | resource | caused by |", "|---|---|---|---|"]
        for f in w.introduced:
            out.append(
                f"| {f.severity.value} | {f.rule} {md(f.title)} | {md(f.resource)} | "
                f"{md(', '.join(w.finding_causes.get(f.key, ())) or '-')} |"
            )
    if w.resolved:
        out += ["", "**Findings resolved**", ""]
        out += [f"- {f.rule} {md(f.title)}: {md(f.resource)}" for f in w.resolved]
    if o.unknowns:
        out += ["", "**Known only after apply** (answers that depend on these are conditional)", ""]
        out += [f"- {md(u)}" for u in o.unknowns]
    if o.skipped:
        out += ["", f"<details><summary>{len(o.skipped)} planned changes not applied</summary>", ""]
        out += [f"- {md(s)}" for s in o.skipped]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
