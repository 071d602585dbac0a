"""ARNs: splitting into components, service-specific normal forms, and component-wise matching.

An ARN has six colon-separated components (``arn:partition:service:region:account:resource``);
the resource component may itself contain colons. IAM matches a resource pattern component by
component, case-sensitively, so an empty region or account in a pattern matches only an empty one.

SSM parameter ARNs name the parameter without its leading slash (``/db/pw`` is
``parameter/db/pw``) and requests may carry a ``:version`` or ``:label`` selector, which is not
part of the resource IAM authorizes.

>>> normalize_resource("arn:aws:ssm:us-east-1:111122223333:parameter//db/pw:3")
'arn:aws:ssm:us-east-1:111122223333:parameter/db/pw'
>>> ssm_parameter_arn("us-east-1", "111122223333", "/db/pw")
'arn:aws:ssm:us-east-1:111122223333:parameter/db/pw'
>>> compile_arn_pattern("arn:aws:ssm:*:111122223333:parameter/db/*")("arn:aws:ssm:eu-west-1:111122223333:parameter/db/a/b")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from irsa_lib.policy.patterns import Matcher, compile_glob, has_wildcard, unmark


@dataclass(frozen=True)
class Arn:
    """The six components of an ARN."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(value: str) -> Arn | None:
    """Split an ARN into its components, or None when ``value`` is not an ARN."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


@lru_cache(maxsize=65536)
def account_of(value: str) -> str | None:
    """The account component of an ARN (None when absent or not an ARN)."""
    arn = parse_arn(value)
    return arn.account or None if arn else None


def ssm_parameter_arn(region: str, account: str, name: str, partition: str = "aws") -> str:
    """The ARN IAM authorizes for parameter ``name`` (leading slash dropped, selector stripped)."""
    if name.startswith("arn:"):
        return normalize_resource(name)
    name = name.split(":", 1)[0]
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def parameter_name(arn: str) -> str | None:
    """The parameter name (with leading slash when hierarchical) named by an SSM parameter ARN."""
    parsed = parse_arn(normalize_resource(arn))
    if parsed is None or parsed.service != "ssm" or not parsed.resource.startswith("parameter/"):
        return None
    rest = parsed.resource[len("parameter/") :]
    return "/" + rest if "/" in rest else rest


@lru_cache(maxsize=65536)
def normalize_resource(resource: str) -> str:
    """The form of a request's resource ARN that IAM matches policies against.

    SSM parameters: extra leading slashes dropped and ``:version`` / ``:label`` selectors removed
    (parameter names cannot contain ``:``). Other ARNs are returned unchanged.
    """
    parsed = parse_arn(resource)
    if parsed is None or parsed.service != "ssm" or not parsed.resource.startswith("parameter/"):
        return resource
    name = parsed.resource[len("parameter/") :].split(":", 1)[0].lstrip("/")
    return f"arn:{parsed.partition}:ssm:{parsed.region}:{parsed.account}:parameter/{name}"


def _split_pattern(pattern: str) -> list[str] | None:
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts


@lru_cache(maxsize=65536)
def compile_arn_pattern(pattern: str) -> Matcher:
    """A predicate matching ARNs against ``pattern`` component by component, case-sensitively.

    Wildcards in the partition, service, region and account components stay within that
    component; in the resource component they span ``/`` and ``:``. A pattern that is not a
    six-component ARN (``*``, or ``arn:aws:ssm:*``) is matched against the whole string instead.
    The value is split at its first five colons, so no wildcard has to search for a component boundary.
    """
    parts = _split_pattern(pattern)
    if parts is None:
        return compile_glob(pattern)
    head = parts[:5]
    rest = compile_glob(parts[5])
    if not any(has_wildcard(p) for p in head):
        prefix = unmark(":".join(head)) + ":"
        cut = len(prefix)
        return lambda value: value.startswith(prefix) and rest(value[cut:])
    heads = [compile_glob(p) for p in head]

    def match(value: str) -> bool:
        got = value.split(":", 5)
        return len(got) == 6 and rest(got[5]) and all(m(v) for m, v in zip(heads, got, strict=False))

    return match
