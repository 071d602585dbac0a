"""Evaluator answers shared by principals whose deciding statements are the same.

Many roles attach the same managed policies, and a request on a shared value, key or role is often
decided by those alone. The evaluator's Decision is a function of the request's action and
resource, the principal's kind, account and service-linked flag, the request context, the policy
set's shape (which layers there are, what is missing) and the statements that can take part in
each layer: those covering the action whose Resource matches. When none of those statements can
tell two principals apart (no Principal naming a role, user, session, service or provider, no
NotPrincipal, no condition on a key about the principal, no policy variable) and there are no KMS
grants, two requests with the same :func:`signature` get the same Decision: the second is not
evaluated. Anything this reading cannot vouch for gets no signature and is evaluated.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from irsa_lib.policy import Policy, PolicySet, Request
from irsa_lib.policy.arn import normalize_resource
from irsa_lib.policy.context import principal_key
from irsa_lib.policy.document import Statement

Relevant = tuple[tuple[int, ...], bool]
"""The ids of the statements of one policy that can take part (the policies outlive the signatures),
and whether any of them has conditions (then the request context is part of the signature)."""


def _shared_by_all(st: Statement) -> bool:
    """Whether the statement treats every principal of one kind and account alike."""
    spec = st.principal
    if spec is not None and (
        st.not_principal or spec.arns or spec.sessions or spec.unique_ids or spec.services or spec.federated
    ):
        return False
    if spec is not None and spec.canonical:
        return False
    if st.resources is not None and st.resources.templates:
        return False
    return all(c.static and not principal_key(c.key) for c in st.conditions)


def relevant(
    policy: Policy, action: str, resource: str, memo: dict[tuple[int, str, str], Relevant | None]
) -> Relevant | None:
    """The statements of ``policy`` that can take part in a request on the (normalised) ``resource``;
    None when one of them tells principals apart."""
    key = (id(policy), action, resource)
    if key in memo:
        return memo[key]
    ids: list[int] = []
    conditions = False
    found: Relevant | None = None
    for st in policy.statements_for(action):
        if st.resources is not None and not st.resources.templates and st.resources.match(resource, None) is False:
            continue
        if not _shared_by_all(st):
            break
        ids.append(id(st))
        conditions = conditions or bool(st.conditions)
    else:
        found = (tuple(ids), conditions)
    memo[key] = found
    return found


def signature(
    request: Request, policies: PolicySet, memo: dict[tuple[int, str, str], Relevant | None]
) -> Hashable | None:
    """What decides ``request`` under ``policies``, when it is the same for every principal of its kind
    and account; None when it is not (then the request is evaluated on its own)."""
    if policies.grants or policies.session:
        return None
    p = request.principal
    action, resource = request.action, normalize_resource(request.resource)
    layers: list[Sequence[Policy]] = [
        policies.identity,
        () if policies.boundary is None else (policies.boundary,),
        () if policies.resource is None else (policies.resource,),
        *(policies.scps or ()),
        (),
        *(policies.rcps or ()),
    ]
    parts: list[tuple[tuple[int, ...], ...]] = []
    conditional = False
    for layer in layers:
        found: list[tuple[int, ...]] = []
        for policy in layer:
            r = relevant(policy, action, resource, memo)
            if r is None:
                return None
            found.append(r[0])
            conditional = conditional or r[1]
        parts.append(tuple(found))
    shape = (
        policies.boundary is not None,
        policies.resource is not None,
        None if policies.scps is None else len(policies.scps),
        None if policies.rcps is None else len(policies.rcps),
    )
    context = (tuple(sorted((k, str(v)) for k, v in request.context.items())), request.context_complete)
    return (
        request.action,
        request.resource,
        p.kind,
        p.account_id,
        p.service_linked,
        context if conditional else None,
        policies.resource_kind,
        policies.resource_account,
        policies.missing,
        policies.resource_complete,
        shape,
        tuple(parts),
    )


def shared_layers(
    policies: PolicySet, action: str, resource: str, memo: dict[tuple[int, str, str], Relevant | None]
) -> bool:
    """Whether the layers of ``policies`` that are not the principal's own (the resource's policy, the
    SCPs of its account, the RCPs) let :func:`signature` share a request: no grants, no session
    policy, and no statement that tells principals apart."""
    if policies.grants or policies.session:
        return False
    resource = normalize_resource(resource)
    layers: list[Sequence[Policy]] = [
        () if policies.resource is None else (policies.resource,),
        *(policies.scps or ()),
        *(policies.rcps or ()),
    ]
    return all(relevant(policy, action, resource, memo) is not None for layer in layers for policy in layer)


def policy_part(
    policy: Policy, requests: Sequence[tuple[str, str]], memo: dict[tuple[int, str, str], Relevant | None]
) -> tuple[tuple[int, ...], ...] | None:
    """The statements of ``policy`` that can take part in each of ``requests`` (action, resource), as
    :func:`signature` has them; None when one of them tells principals apart."""
    out = []
    for action, resource in requests:
        r = relevant(policy, action, normalize_resource(resource), memo)
        if r is None:
            return None
        out.append(r[0])
    return tuple(out)
