"""Secret values supplied at run time, kept out of every repr, log line, exception and report.

A value comes from the environment variable named in the parameters or from a ``getpass``
prompt, and lives only inside a :class:`SecretValue` until the one boto3 call that stores it.

>>> v = SecretValue("hunter2")
>>> v, str(v), f"{v}"
(SecretValue(<redacted>), '<redacted>', '<redacted>')
>>> v.reveal()
'hunter2'
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from irsa_lib.onboarding.errors import ValueUnavailable
from irsa_lib.onboarding.params import SecretSpec

REDACTED = "<redacted>"

Prompt = Callable[[str], str]


class SecretValue:
    """A secret string whose ``repr``/``str``/``format`` are redacted; ``reveal()`` is the only way out."""

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        self.__value = value

    def reveal(self) -> str:
        """The value itself: call it only in the argument list of the call that stores it."""
        return self.__value

    def __repr__(self) -> str:
        return f"SecretValue({REDACTED})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __bool__(self) -> bool:
        return bool(self.__value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other.__value == self.__value

    def __hash__(self) -> int:
        return hash((SecretValue, self.__value))

    def __reduce__(self) -> Any:
        raise TypeError("a SecretValue cannot be pickled")


def obtain_values(
    specs: Iterable[SecretSpec],
    *,
    environ: Mapping[str, str] | None = None,
    prompt: Prompt | None = None,
) -> dict[str, SecretValue]:
    """Collect the values of ``specs`` (name -> SecretValue) before anything is changed.

    Each spec's ``value_env`` variable is read when set; otherwise ``prompt`` (``getpass`` by
    default) asks for it. An unset variable, an empty value or no way to prompt raises
    :class:`ValueUnavailable` naming the parameter, never showing a value.
    """
    env = os.environ if environ is None else environ
    ask: Prompt = prompt or getpass.getpass
    out: dict[str, SecretValue] = {}
    for spec in specs:
        if spec.value_env is not None:
            raw = env.get(spec.value_env)
            if raw is None:
                raise ValueUnavailable(
                    f"the value of {spec.name!r} is read from the environment variable {spec.value_env}, which is not set"
                )
        else:
            try:
                raw = ask(f"value for {spec.name} (input hidden): ")
            except (EOFError, OSError, RuntimeError, NotImplementedError) as exc:
                raise ValueUnavailable(
                    f"cannot prompt for the value of {spec.name!r} ({type(exc).__name__}): name an environment "
                    "variable for it instead (value_env / --value-env NAME=VAR)"
                ) from None
        if not raw:
            raise ValueUnavailable(f"the value given for {spec.name!r} is empty")
        out[spec.name] = SecretValue(raw)
    return out
