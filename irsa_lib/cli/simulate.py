"""``irsa simulate``: can this principal do this action on this resource, and why?

Two forms: over a snapshot (``irsa simulate SNAPSHOT --principal ARN --action A --resource ARN
[--context KEY=VALUE ...]``) or self-contained (``irsa simulate --request FILE.json``, the format of
:mod:`irsa_lib.policy.requestfile`). Prints the decision as text, or as JSON with ``--format json``.
The exit status is 0 whatever the decision; 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from irsa_lib.errors import UsageError
from irsa_lib.nesting import TooDeep, json_loads
from irsa_lib.policy import Decision, PolicySet, Request, evaluate
from irsa_lib.policy.kms import ALIAS_ACTIONS, is_alias_arn, kms_operation
from irsa_lib.policy.requestfile import load_request

DESCRIPTION = """Can this principal do this action on this resource, and why? Two forms: over a snapshot

    irsa simulate SNAPSHOT --principal ARN --action A --resource ARN [--context KEY=VALUE ...]

or self-contained

    irsa simulate --request FILE.json

(the request file holds the principal and its policies, the action, the resource and its policy, SCPs,
RCPs, grants and context). Prints the decision as text, or as JSON with --format json. The exit
status is 0 whatever the decision; 2 on bad input."""


def register(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("snapshot", nargs="?", help="snapshot JSON file (omit with --request)")
    p.add_argument("--principal", help="role, user, session ARN (or service / OIDC provider) making the request")
    p.add_argument("--action", help="IAM action, e.g. ssm:GetParameter")
    p.add_argument("--resource", help="resource ARN (a KMS alias ARN names its key)")
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="condition key value; repeat a key for several values",
    )
    p.add_argument(
        "--context-complete",
        action="store_true",
        help="keys not given are absent (as in a real request) instead of unresolved",
    )
    p.add_argument(
        "--target-key",
        metavar="KEY",
        help="kms:CreateAlias / kms:UpdateAlias on an alias: the key the alias is to point to (ARN, id or alias)",
    )
    p.add_argument("--request", metavar="FILE.json", help="self-contained request: principal, policies, context")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def parse_context(items: list[str]) -> dict[str, str | list[str]]:
    """``KEY=VALUE`` items to a context mapping; a repeated key collects a list of values."""
    out: dict[str, str | list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--context {item!r}: expected KEY=VALUE (e.g. aws:SourceIp=10.0.0.1)")
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def _from_file(args: argparse.Namespace) -> tuple[Request, PolicySet]:
    if args.snapshot or args.principal or args.action or args.resource:
        raise UsageError("--request is self-contained: do not also give SNAPSHOT, --principal, --action or --resource")
    path = Path(args.request)
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such request file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except TooDeep as exc:
        raise UsageError(f"{path}: {exc}") from None
    request, policies = load_request(data, source=str(path))
    extra = parse_context(args.context)
    if extra or args.context_complete:
        request = Request(
            request.principal,
            request.action,
            request.resource,
            {**request.context, **extra},
            request.context_complete or args.context_complete,
        )
    return request, policies


def _from_snapshot(args: argparse.Namespace) -> tuple[Request, PolicySet]:
    missing = [name for name in ("snapshot", "principal", "action", "resource") if not getattr(args, name)]
    if missing:
        shown = ", ".join("SNAPSHOT" if m == "snapshot" else f"--{m}" for m in missing)
        raise UsageError(f"missing {shown} (or use --request FILE.json)")
    from irsa_lib.resolve import Inventory  # only this form reads a snapshot
    from irsa_lib.snapshot import load_snapshot

    context = parse_context(args.context)
    inventory = Inventory.from_snapshot(load_snapshot(args.snapshot))
    principal = inventory.principal(args.principal)
    resource = args.resource
    if kms_operation(args.action) in ALIAS_ACTIONS and (resource.startswith("alias/") or is_alias_arn(resource)):
        resource, policies = inventory.alias_policy_set(args.principal, args.action, resource, args.target_key)
        return Request(principal, args.action, resource, context, args.context_complete), policies
    key = inventory.find_key(resource)
    if key is not None:
        resource = key.arn
    policies = inventory.policy_set_for(args.principal, resource)
    return Request(principal, args.action, resource, context, args.context_complete), policies


def render_text(request: Request, decision: Decision) -> str:
    """The decision as readable lines."""
    lines = [
        f"decision: {decision.outcome.upper()}" + (" (explicit deny)" if decision.explicit_deny else ""),
        f"  {request.principal.arn} ({request.principal.kind})",
        f"  {request.action} on {request.resource}",
    ]
    if decision.deciding:
        lines.append("deciding statements:")
        lines.extend(f"  - {ref}" for ref in decision.deciding)
    if decision.unresolved_keys:
        lines.append("depends on context keys: " + ", ".join(decision.unresolved_keys))
    if decision.missing:
        lines.append("not available:")
        lines.extend(f"  - {m}" for m in decision.missing)
    lines.append("why:")
    lines.extend(f"  - {r}" for r in decision.reasons)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    request, policies = _from_file(args) if args.request else _from_snapshot(args)
    decision = evaluate(request, policies)
    if args.format == "json":
        out: dict[str, object] = {
            "principal": request.principal.arn,
            "action": request.action,
            "resource": request.resource,
        }
        out.update(decision.to_json())
        print(json.dumps(out, indent=2))
    else:
        print(render_text(request, decision))
    return 0
