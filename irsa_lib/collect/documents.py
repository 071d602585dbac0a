"""Policy documents as the AWS APIs return them, decoded to JSON objects (no AWS client needed).

Kept apart from :mod:`irsa_lib.collect.context` so that readers of plans and dumps (the what-if
overlay) decode documents the way collection does without importing botocore.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from irsa_lib.nesting import check_depth, json_loads

__all__ = ["decode_policy"]


def decode_policy(document: Any) -> Mapping[str, Any]:
    """A policy document as a JSON object, whatever form the API returned it in.

    botocore already decodes IAM documents to dicts (as moto's are); raw AWS responses carry them
    URL-encoded, and KMS, SSM, Secrets Manager and Organizations return plain JSON strings.

    >>> decode_policy('%7B%22Version%22%3A%222012-10-17%22%7D')
    {'Version': '2012-10-17'}
    >>> decode_policy({"Statement": []})
    {'Statement': []}
    """
    if isinstance(document, Mapping):
        check_depth(document)
        return document
    if not isinstance(document, str):
        raise ValueError(f"policy document is neither a JSON object nor a string: {type(document).__name__}")
    text = document.strip()
    if not text.startswith("{"):
        text = urllib.parse.unquote(text)
    value = json_loads(text)
    if not isinstance(value, dict):
        raise ValueError("policy document is not a JSON object")
    return value
