"""A fix and its proof as files, JSON and text.

``write_fix`` writes one fix's directory: each changed policy document whole (``.json``) and as a
unified diff (``.diff``), the Terraform (``main.tf``), and per Kubernetes object a JSON patch and
the patched manifest (object from a manifest file) or a merge patch (object rebuilt from the
snapshot), with the ``kubectl`` command that applies it. ``write_outputs`` adds ``fixes.json`` (every
fix: changes, steps, notes, proof) and ``fixes.md`` (the same for people). Nothing written here
holds a secret value: changes are built from the snapshot (which holds none) and the patched
objects' own manifests, and a parameter's value is only ever a Terraform variable.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irsa_lib.access import AccessRow
from irsa_lib.analysis import Analysis
from irsa_lib.findings import Finding
from irsa_lib.fixes.manifests import ManifestObjects
from irsa_lib.fixes.model import Change, Fix, ImdsEdit, NewKey, NoFix, ObjectEdit, PolicyEdit, Rekey, safe_name
from irsa_lib.fixes.patches import json_patch, manifest_text, merge_patch
from irsa_lib.fixes.terraform import terraform
from irsa_lib.fixes.verify import Proof, fix_and_verify
from irsa_lib.snapshot import write_atomic


@dataclass(frozen=True)
class FixResult:
    """A finding's fix (or why there is none), its proof, and the files written for it."""

    item: Fix | NoFix
    proof: Proof | None = None
    files: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    """``kubectl`` commands applying the Kubernetes changes (with the written files)."""


def _json(doc: Any) -> str:
    return json.dumps(doc, indent=2) + "\n"


def policy_diff(c: PolicyEdit) -> str:
    """A unified diff of the document before and after (an absent one as empty)."""
    before = _json(c.before).splitlines(keepends=True) if c.before is not None else []
    after = _json(c.after).splitlines(keepends=True) if c.after is not None else []
    label = f"{c.owner} {c.kind}{' ' + c.name if c.name else ''}"
    return "".join(difflib.unified_diff(before, after, fromfile=f"{label} (before)", tofile=f"{label} (after)"))


def _policy_file(c: PolicyEdit) -> str:
    owner = c.owner.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return safe_name(f"{c.kind}-{owner}" + (f"-{c.name}" if c.name else ""))


def _object_parts(c: ObjectEdit) -> tuple[str, str, str | None]:
    doc = c.after if c.after is not None else c.before
    assert doc is not None
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return str(doc.get("kind", "")), str(meta.get("name", "")), str(ns) if ns else None


def kubectl(c: ObjectEdit, file: str) -> str:
    """The command applying one Kubernetes change with its written file (names shell-quoted)."""
    kind, name, ns = _object_parts(c)
    target = f"{shlex.quote(kind.lower())} {shlex.quote(name)}" + (f" -n {shlex.quote(ns)}" if ns else "")
    if c.after is None:
        where = f", and remove lines {c.lines[0]}-{c.lines[1]} of {c.path}" if c.path and c.lines else ""
        return f"kubectl delete {target}{where}"
    if c.before is None:
        return f"kubectl apply -f {shlex.quote(file)}"
    patch_type = "merge" if c.rebuilt else "json"
    return f"kubectl patch {target} --type {patch_type} --patch-file {shlex.quote(file)}"


def write_fix(out_dir: str | os.PathLike[str], fix: Fix) -> tuple[list[str], list[str]]:
    """Write one fix's files under ``out_dir/<fix id>/``: (the paths written, the kubectl commands)."""
    root = Path(out_dir) / fix.id
    written: list[str] = []
    commands: list[str] = []

    def put(name: str, text: str) -> str:
        path = str(write_atomic(root / name, text))
        written.append(path)
        return path

    for c in fix.changes:
        if isinstance(c, PolicyEdit):
            stem = _policy_file(c)
            if c.after is not None:
                put(f"{stem}.json", _json(c.after))
            put(f"{stem}.diff", policy_diff(c))
        elif isinstance(c, NewKey):
            put(safe_name(f"key-policy-{c.alias.removeprefix('alias/')}") + ".json", _json(c.policy))
        elif isinstance(c, ObjectEdit):
            stem = safe_name(c.target)
            if c.after is None:
                commands.append(kubectl(c, ""))
            elif c.before is None:
                commands.append(kubectl(c, put(f"{stem}.yaml", manifest_text(c.after))))
            elif c.rebuilt:
                commands.append(kubectl(c, put(f"{stem}.merge-patch.json", _json(merge_patch(c.before, c.after)))))
            else:
                commands.append(kubectl(c, put(f"{stem}.json-patch.json", _json(json_patch(c.before, c.after)))))
                put(f"{stem}.yaml", manifest_text(c.after))
    tf = terraform(fix)
    if tf is not None:
        put("main.tf", tf)
    return written, commands


# --- JSON -----------------------------------------------------------------------------------------------


def change_json(c: Change) -> dict[str, Any]:
    """A change as plain JSON: its type, target, what it does, and its data."""
    out: dict[str, Any] = {"type": type(c).__name__, "target": c.target, "description": c.describe()}
    if isinstance(c, PolicyEdit):
        out.update(kind=c.kind, name=c.name or None, before=c.before, after=c.after)
    elif isinstance(c, NewKey):
        out.update(alias=c.alias, arn=c.arn, policy=c.policy)
    elif isinstance(c, Rekey):
        out.update(value=c.value_arn, key_before=c.key_before, key_after=c.key_after)
    elif isinstance(c, ImdsEdit):
        out.update(
            before=None if c.before is None else {"http_tokens": c.before.http_tokens, "hop_limit": c.before.hop_limit},
            after={"http_tokens": c.after.http_tokens, "hop_limit": c.after.hop_limit},
        )
    else:
        out.update(file=c.path, lines=list(c.lines) if c.lines else None, rebuilt=c.rebuilt)
        if c.before is not None and c.after is not None:
            out["merge_patch" if c.rebuilt else "json_patch"] = (
                merge_patch(c.before, c.after) if c.rebuilt else json_patch(c.before, c.after)
            )
        elif c.after is not None:
            out["object"] = c.after
    return out


def _row(r: AccessRow) -> dict[str, Any]:
    return {
        "subject": r.subject,
        "secret": r.secret_name,
        "access": r.access,
        "decision": r.decision,
        "path": list(r.path),
    }


def proof_json(p: Proof) -> dict[str, Any]:
    return {
        "verified": p.verified,
        "flags": list(p.flags),
        "finding_gone": p.finding_gone,
        "removed": [_row(r) for r in p.removed],
        "changed": [{"before": _row(a), "after": _row(b)} for a, b in p.changed],
        "added": [_row(r) for r in p.added],
        "intended_kept": [_row(r) for r in p.kept],
        "intended_cut": [_row(r) for r in p.cut],
        "findings_resolved": [{"rule": f.rule, "resource": f.resource} for f in p.resolved],
        "findings_introduced": [
            {"rule": f.rule, "resource": f.resource, "severity": f.severity.value} for f in p.introduced
        ],
    }


def result_json(r: FixResult) -> dict[str, Any]:
    item = r.item
    out: dict[str, Any] = {"id": item.id, "finding": item.finding.to_json()}
    if isinstance(item, NoFix):
        out["fix"] = None
        out["reason"] = item.reason
        return out
    out["fix"] = {
        "summary": item.summary,
        "changes": [change_json(c) for c in item.changes],
        "steps": list(item.steps),
        "notes": list(item.notes),
        "files": list(r.files),
        "commands": list(r.commands),
    }
    out["proof"] = proof_json(r.proof) if r.proof is not None else None
    return out


# --- text -----------------------------------------------------------------------------------------------


def _status(r: FixResult) -> str:
    if isinstance(r.item, NoFix):
        return "no mechanical fix"
    if r.proof is None:
        return "not verified"
    return "verified" if r.proof.verified else "FLAGGED: " + "; ".join(r.proof.flags)


def _rows(title: str, rows: Sequence[AccessRow], limit: int) -> list[str]:
    if not rows:
        return []
    shown = [f"    - {r.subject} reads {r.secret_name} ({r.access}, {r.decision})" for r in rows[:limit]]
    more = [f"    - ... and {len(rows) - limit} more (fixes.json lists all)"] if len(rows) > limit else []
    return [f"  {title} ({len(rows)}):", *shown, *more]


def format_result(r: FixResult, *, limit: int = 8) -> str:
    """One finding's fix and proof, for a terminal or a Markdown list."""
    f = r.item.finding
    lines = [f"{f.rule} {f.resource}: {_status(r)}"]
    if isinstance(r.item, NoFix):
        return "\n".join([*lines, f"  {r.item.reason}"])
    fix = r.item
    lines.append(f"  fix: {fix.summary}")
    lines += [f"  change: {c.describe()}" for c in fix.changes]
    lines += [f"  step: {s}" for s in fix.steps]
    lines += [f"  note: {n}" for n in fix.notes]
    p = r.proof
    if p is not None:
        lines.append(
            f"  proof: finding {'gone' if p.finding_gone else 'STILL REPORTED'}; {len(p.removed)} access row(s) "
            f"removed, {len(p.changed)} still readable another way, {len(p.kept)} intended row(s) kept"
        )
        lines += _rows("removed (the readers it cuts)", p.removed, limit)
        lines += _rows("still readable through another path", [b for _, b in p.changed], limit)
        lines += _rows("INTENDED ROWS IT CUTS", p.cut, limit)
        lines += _rows("NEW ACCESS IT GRANTS", p.added, limit)
        lines += _rows("intended rows kept", p.kept, limit)
        if p.resolved:
            lines.append("  findings resolved: " + ", ".join(f"{x.rule} {x.resource}" for x in p.resolved))
        if p.introduced:
            lines.append("  findings introduced: " + ", ".join(f"{x.rule} {x.resource}" for x in p.introduced))
    lines += [f"  run: {c}" for c in r.commands]
    lines += [f"  file: {path}" for path in r.files]
    return "\n".join(lines)


def format_text(results: Sequence[FixResult]) -> str:
    fixes = [r for r in results if isinstance(r.item, Fix)]
    flagged = [r for r in fixes if r.proof is not None and not r.proof.verified]
    body = "\n\n".join(format_result(r) for r in results)
    tail = (
        f"{len(results)} finding(s): {len(fixes)} with a fix ({len(fixes) - len(flagged)} verified, "
        f"{len(flagged)} flagged), {len(results) - len(fixes)} without a mechanical fix"
    )
    return f"{body}\n\n{tail}" if body else tail


def fenced(text: str) -> str:
    """``text`` as a Markdown code block whose fence no run of backticks inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def fix_findings(
    analysis: Analysis,
    out_dir: str | os.PathLike[str],
    *,
    snapshot: str,
    findings: Sequence[Finding] | None = None,
    manifests: ManifestObjects | None = None,
) -> list[FixResult]:
    """Build, verify and write the fix of each finding (default: all): one directory per fix, then
    ``fixes.json`` and ``fixes.md`` (``snapshot`` names the snapshot in them)."""
    results = []
    for item, proof in fix_and_verify(analysis, findings=findings, manifests=manifests):
        if isinstance(item, Fix):
            files, commands = write_fix(out_dir, item)
            results.append(FixResult(item, proof, tuple(files), tuple(commands)))
        else:
            results.append(FixResult(item))
    write_outputs(out_dir, results, snapshot=snapshot)
    return results


def write_outputs(out_dir: str | os.PathLike[str], results: Sequence[FixResult], *, snapshot: str) -> list[Path]:
    """``fixes.json`` and ``fixes.md`` beside the fixes' directories."""
    root = Path(out_dir)
    data: Mapping[str, Any] = {
        "format": "irsa_lib.fixes",
        "snapshot": snapshot,
        "fixes": [result_json(r) for r in results],
    }
    md = "# Fixes\n\n" + "\n\n".join(fenced(format_result(r, limit=50)) for r in results)
    return [write_atomic(root / "fixes.json", _json(data)), write_atomic(root / "fixes.md", md + "\n")]
