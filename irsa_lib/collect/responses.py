"""What an AWS answer must hold before the collector believes it.

botocore reads a JSON body it cannot parse as ``{"message": <body>}``, and a structure without the
list an operation returns as if the list were empty, so a truncated or garbled ``200`` answer would be
recorded as "collected, 0 items": the worst answer, a silent "no access". Two checks turn such answers
into failures, which the collectors record in the coverage like any failed call:

* :func:`check_body`, a ``before-parse`` hook on every collector client: a successful answer whose body
  is not a JSON object (JSON protocols) or not well-formed XML (query and EC2 protocols) raises
  :class:`MalformedResponseError` before botocore reads it (botocore's own XML error would carry the raw
  body, which has no place in a message);
* :func:`listing`: a page of a listing without its list is malformed, never empty.

>>> listing({"Keys": []}, "Keys")
[]
>>> listing({"message": "{\\"Keys\\": [{\\"Key"}, "Keys")
Traceback (most recent call last):
...
irsa_lib.collect.responses.MalformedResponseError: malformed response: no Keys list in the answer
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError

__all__ = ["MalformedResponseError", "check_body", "install_response_checks", "listing"]

_JSON = frozenset({"json", "rest-json"})
_XML = frozenset({"query", "ec2", "rest-xml"})


class MalformedResponseError(BotoCoreError):
    """A successful AWS answer that cannot be read, or lacks what its operation always returns."""

    fmt = "malformed response: {reason}"


def _protocol(operation_model: Any) -> str:
    service = operation_model.service_model
    return str(getattr(service, "resolved_protocol", None) or service.protocol)


def check_body(operation_model: Any, response_dict: Mapping[str, Any], **_: Any) -> None:
    """botocore ``before-parse`` hook: refuse a 2xx body that is not a JSON object or well-formed XML."""
    status = int(response_dict.get("status_code") or 0)
    body = response_dict.get("body")
    if not 200 <= status < 300 or not isinstance(body, bytes | bytearray) or not body.strip():
        return
    protocol = _protocol(operation_model)
    what = f"{len(body)} bytes, truncated or garbled"
    if protocol in _JSON:
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedResponseError(reason=f"the body is not valid JSON ({what})") from None
        if not isinstance(parsed, dict):
            raise MalformedResponseError(reason=f"the body is not a JSON object ({what})")
    elif protocol in _XML:
        try:
            ET.fromstring(body)
        except ET.ParseError:
            raise MalformedResponseError(reason=f"the body is not well-formed XML ({what})") from None


def install_response_checks(client: Any) -> Any:
    """Register :func:`check_body` on a botocore client and return it."""
    client.meta.events.register("before-parse", check_body, unique_id="irsa-response-check")
    return client


def listing(page: Mapping[str, Any], key: str) -> list[Any]:
    """The ``key`` list of one page of a listing; MalformedResponseError when it is missing or not a list."""
    items = page.get(key)
    if not isinstance(items, list):
        raise MalformedResponseError(reason=f"no {key} list in the answer")
    return items
