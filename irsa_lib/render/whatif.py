"""The report section "what this change would grant": the new readers a what-if found.

Reads the JSON ``irsa whatif --format json`` writes (so a scheduled report can show the what-if of
a pending change without running it again) and returns one table: who could newly read which
value, how, and which planned change causes it; then the findings the change introduces.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from irsa_lib.errors import IrsaError
from irsa_lib.render.tables import escaped
from irsa_lib.whatif.render import subject


def new_readers_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per access row gained: who, value, how, caused by."""
    rows = [
        {
            "who": subject(r),
            "can newly read": r.get("secret_name") or r.get("secret_arn"),
            "access": r.get("access"),
            "decision": r.get("decision")
            + (f" ({', '.join(map(str, r.get('unresolved_keys') or ()))})" if r.get("unresolved_keys") else ""),
            "path": " → ".join(map(str, r.get("path") or ())),
            "caused by": ", ".join(r.get("caused_by") or ()),
        }
        for r in data.get("access", {}).get("gained", [])
    ]
    return pd.DataFrame(rows, columns=["who", "can newly read", "access", "decision", "path", "caused by"])


def whatif_section(path: str | os.PathLike[str] | None) -> Styler | str:
    """The new readers of a what-if JSON file, styled; a sentence when there is none."""
    if path is None:
        return "No what-if was given (run irsa whatif --format json and pass its file as whatif_path)."
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IrsaError(f"{path}: not a what-if JSON file ({exc})") from exc
    if data.get("format") != "irsa_lib.whatif":
        raise IrsaError(f"{path}: not a what-if JSON file (written by irsa whatif --format json)")
    frame = new_readers_frame(data)
    introduced = data.get("findings", {}).get("introduced", [])
    caption = f"{data.get('summary', '')}. Inputs: {', '.join(data.get('sources', []))}. " + (
        "Findings introduced: " + "; ".join(f"{f['rule']} {f['severity']} on {f['resource']}" for f in introduced)
        if introduced
        else "No finding introduced."
    )
    # every cell comes from names people chose (subjects, values, paths, resource addresses)
    return (
        escaped(frame.style.set_uuid("whatif"), caption)
        .hide(axis="index")
        .set_table_styles([{"selector": "td", "props": "text-align: left; vertical-align: top;"}])
    )
