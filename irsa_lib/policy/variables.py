"""Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'default'}``) in Resource and
condition values.

Variables are substituted only in ``Version: 2012-10-17`` documents (older documents treat the
text literally). ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters. A variable whose
key has no value and no default makes the pattern match nothing; a substituted value is matched
literally (its ``*`` is not a wildcard).

>>> t = parse_template("parameter/${aws:PrincipalTag/team, 'shared'}/*")
>>> expand(t, lambda key: ("absent", ()))
('parameter/shared/*',)
>>> expand(t, lambda key: ("present", ("billing",)))
('parameter/billing/*',)
>>> expand(parse_template("${aws:username}"), lambda key: ("absent", ()))
()
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from irsa_lib.policy.patterns import LITERAL_QMARK, LITERAL_STAR, literal

KeyStatus = Literal["present", "absent", "unknown"]
Lookup = Callable[[str], tuple[KeyStatus, tuple[str, ...]]]

_TOKEN = re.compile(r"\$\{([^}]*)\}")
_VAR = re.compile(r"^\s*([^,\s][^,]*?)\s*(?:,\s*'([^']*)'\s*)?$")
_ESCAPES = {"*": LITERAL_STAR, "?": LITERAL_QMARK, "$": "$"}


@dataclass(frozen=True)
class Var:
    """One variable reference: the condition key (lower case) and its optional default."""

    key: str
    name: str
    default: str | None = None


Template = tuple[str | Var, ...]


class Unknown(Exception):
    """Raised by :func:`expand` when a variable's key is not in an incomplete context."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


def parse_template(text: str) -> str | Template:
    """``text`` with escapes resolved; a tuple of parts when it contains variables."""
    if "${" not in text:
        return text
    parts: list[str | Var] = []
    pos = 0
    has_var = False
    for m in _TOKEN.finditer(text):
        parts.append(text[pos : m.start()])
        inner = m.group(1)
        if inner in _ESCAPES:
            parts.append(_ESCAPES[inner])
        else:
            vm = _VAR.match(inner)
            if vm is None:
                parts.append(m.group(0))
            else:
                parts.append(Var(vm.group(1).lower(), vm.group(1), vm.group(2)))
                has_var = True
        pos = m.end()
    parts.append(text[pos:])
    if not has_var:
        return "".join(p for p in parts if isinstance(p, str))
    return tuple(p for p in parts if p != "")


def render_template(template: str | Template) -> str:
    """The template as written in a policy (``${key, 'default'}``), for explanations."""
    if isinstance(template, str):
        return template
    parts = []
    for p in template:
        if isinstance(p, str):
            parts.append(p.replace(LITERAL_STAR, "${*}").replace(LITERAL_QMARK, "${?}"))
        else:
            parts.append("${" + p.name + (f", '{p.default}'" if p.default is not None else "") + "}")
    return "".join(parts)


def expand(template: str | Template, lookup: Lookup) -> tuple[str, ...]:
    """Every string the template stands for (empty: matches nothing).

    Raises :class:`Unknown` naming the keys when a variable's value cannot be known.
    """
    if isinstance(template, str):
        return (template,)
    choices: list[tuple[str, ...]] = []
    unknown: list[str] = []
    for part in template:
        if isinstance(part, str):
            choices.append((part,))
            continue
        status, values = lookup(part.key)
        if status == "unknown":
            unknown.append(part.name)
            continue
        if status == "present" and values:
            choices.append(tuple(literal(v) for v in values))
        elif part.default is not None:
            choices.append((literal(part.default),))
        else:
            return ()
    if unknown:
        raise Unknown(tuple(unknown))
    return tuple("".join(combo) for combo in itertools.product(*choices))
