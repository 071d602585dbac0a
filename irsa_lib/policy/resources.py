"""Resource / NotResource elements: ARN patterns, possibly with policy variables.

>>> m = compile_resources(["arn:aws:secretsmanager:*:111122223333:secret:db-??????"], negated=False, variables=True)
>>> m.match("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbC123", None)
True
>>> m.match("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-admin-AbC123", None)
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from irsa_lib.policy.arn import compile_arn_pattern
from irsa_lib.policy.patterns import Matcher
from irsa_lib.policy.variables import Template, Unknown, expand, parse_template

if TYPE_CHECKING:
    from irsa_lib.policy.context import RequestContext

Result = bool | tuple[str, ...]


@dataclass(frozen=True)
class ResourceMatcher:
    """Compiled Resource (or NotResource) patterns."""

    static: tuple[Matcher, ...]
    templates: tuple[Template, ...]
    negated: bool
    any_resource: bool
    """A plain ``*`` is among the patterns."""

    def match(self, resource: str, ctx: RequestContext | None) -> Result:
        """Whether the statement covers ``resource``: True, False or the unresolved variable keys."""
        hit: Result = self.any_resource or any(m(resource) for m in self.static)
        if not hit and self.templates:
            unresolved: list[str] = []
            for t in self.templates:
                if ctx is None:
                    continue
                try:
                    expanded = expand(t, ctx.lookup)
                except Unknown as exc:
                    unresolved.extend(exc.keys)
                    continue
                if any(compile_arn_pattern(p)(resource) for p in expanded):
                    hit = True
                    break
            if not hit and unresolved:
                return tuple(dict.fromkeys(unresolved))
        return (not hit) if self.negated else bool(hit)


def compile_resources(patterns: list[str], *, negated: bool, variables: bool) -> ResourceMatcher:
    """Compile Resource patterns; ``variables`` substitutes ``${...}`` (Version 2012-10-17 only)."""
    static: list[Matcher] = []
    templates: list[Template] = []
    any_resource = False
    for p in patterns:
        parsed = parse_template(p) if variables else p
        if isinstance(parsed, str):
            if parsed == "*":
                any_resource = True
            static.append(compile_arn_pattern(parsed))
        else:
            templates.append(parsed)
    return ResourceMatcher(tuple(static), tuple(templates), negated, any_resource)
