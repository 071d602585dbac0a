"""Policy documents whose content is not known yet (a planned value Terraform learns only at apply).

Such a document stands in a record where a policy belongs. It over-approximates for the coarse
candidate indexes (``Principal``, ``Action`` and ``Resource`` ``*``), so nothing it could grant is
left out of the evaluation, while the evaluator never reads its statements: it is reported as a
policy that takes part but is not available (``PolicySet.missing``), which makes every answer it
takes part in ``conditional`` -- never an allow, never a silent no -- and the reason names the
unknown attribute.

>>> doc = unknown_document("aws_iam_role.app.assume_role_policy is known only after apply")
>>> unknown_reason(doc)
'aws_iam_role.app.assume_role_policy is known only after apply'
>>> unknown_reason({"Statement": []}) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNKNOWN_KEY = "irsa:unknown"


def unknown_document(reason: str) -> dict[str, Any]:
    """A stand-in for a policy document that is not known; ``reason`` names what is missing and why."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NotKnownYet", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
        UNKNOWN_KEY: reason,
    }


def unknown_reason(document: Any) -> str | None:
    """Why ``document`` is not known, or None for an ordinary document."""
    if isinstance(document, Mapping):
        reason = document.get(UNKNOWN_KEY)
        if isinstance(reason, str):
            return reason
    return None
