"""Typed, path-aware access to the fields of a Kubernetes object dict.

Objects arrive from two places (the API server and hand-written manifests) and manifests can hold
anything, so every read checks the type and a failure names the exact field (``spec.data[2].key``).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from irsa_lib.errors import IrsaError

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"


class ObjectError(IrsaError):
    """A Kubernetes object that cannot be read; the message names the field that is wrong."""


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


class Fields:
    """One mapping inside an object, with its path for error messages.

    >>> Fields({"spec": {"replicas": "3"}}).map("spec").int("replicas")
    Traceback (most recent call last):
    ...
    irsa_lib.collect.k8s_parse.fields.ObjectError: spec.replicas: must be an integer, got a string
    """

    __slots__ = ("data", "path")

    def __init__(self, data: Mapping[str, Any], path: builtins.str = "") -> None:
        self.data = data
        self.path = path

    def where(self, key: builtins.str | builtins.int) -> builtins.str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: builtins.str | builtins.int, message: builtins.str) -> ObjectError:
        return ObjectError(f"{self.where(key)}: {message}")

    def has(self, key: builtins.str) -> builtins.bool:
        return self.data.get(key) is not None

    def raw(self, key: builtins.str) -> Any:
        return self.data.get(key)

    def str(self, key: builtins.str) -> builtins.str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {_kind_of(value)}")
        return value

    def req_str(self, key: builtins.str) -> builtins.str:
        value = self.str(key)
        if value is None or value == "":
            raise self.error(key, "is required")
        return value

    def bool(self, key: builtins.str) -> builtins.bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_kind_of(value)}")
        return value

    def int(self, key: builtins.str) -> builtins.int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {_kind_of(value)}")
        return value

    def map(self, key: builtins.str) -> Fields:
        """The nested mapping (empty when absent)."""
        value = self.data.get(key)
        if value is None:
            return Fields({}, self.where(key))
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a mapping, got {_kind_of(value)}")
        return Fields(value, self.where(key))

    def list(self, key: builtins.str) -> builtins.list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {_kind_of(value)}")
        return value

    def maps(self, key: builtins.str) -> builtins.list[Fields]:
        """The nested list of mappings (empty when absent)."""
        where = self.where(key)
        out = []
        for i, item in enumerate(self.list(key)):
            if not isinstance(item, Mapping):
                raise ObjectError(f"{where}[{i}]: must be a mapping, got {_kind_of(item)}")
            out.append(Fields(item, f"{where}[{i}]"))
        return out

    def strs(self, key: builtins.str) -> tuple[builtins.str, ...]:
        where = self.where(key)
        out = []
        for i, item in enumerate(self.list(key)):
            if not isinstance(item, str):
                raise ObjectError(f"{where}[{i}]: must be a string, got {_kind_of(item)}")
            out.append(item)
        return tuple(out)

    def str_map(self, key: builtins.str) -> dict[builtins.str, builtins.str]:
        """A ``map[string]string`` such as labels (empty when absent)."""
        inner = self.map(key)
        out = {}
        for k, v in inner.data.items():
            if not isinstance(v, str):
                raise inner.error(str(k), f"must be a string, got {_kind_of(v)}")
            out[str(k)] = v
        return out


def kept_annotations(metadata: Fields) -> dict[str, str]:
    """Annotations without ``last-applied-configuration`` (a copy of the whole object, secrets included)."""
    return {k: v for k, v in metadata.str_map("annotations").items() if k != LAST_APPLIED_ANNOTATION}
