"""Which KMS keys an identity may use for one KMS action: an index over key policies and grants.

A value is read only with its key's ``kms:Decrypt`` (and overwritten only with ``kms:Encrypt`` or
``kms:GenerateDataKey``), and a key policy that names its users keeps everyone else out whatever
their identity policies say. So read and write candidates are narrowed by the keys an identity may
use, which this index finds without a pass over every key: keys that may admit anyone, keys whose
policy or grants name the identity's role (ARN, unique id, a session of it), and keys that
delegate to its account, found by the identity's own Allow patterns for the action. It reads the
evaluator's parsed key policies and over-approximates (conditions are ignored; an unreadable,
malformed or missing policy admits anyone); the evaluator decides every candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from irsa_lib.graph.patterns import PrefixIndex
from irsa_lib.model import KMSKey
from irsa_lib.policy import Policy, Principal
from irsa_lib.policy.principals import entity_key, session_key


def role_session_prefix(role_arn: str) -> str | None:
    """``partition:account:role-name/``: what the session keys of a role's sessions start with."""
    key = entity_key(role_arn)
    if key is None or ":role/" not in key:
        return None
    partition, account, rest = key.split(":", 2)
    return f"{partition}:{account}:{rest.removeprefix('role/')}/"


@dataclass
class KeyIndex:
    """Key ARNs by how their policy and grants may admit a principal, for one KMS action."""

    action: str
    open: set[str] = field(default_factory=set)
    """Keys this index cannot narrow: a ``*`` or NotPrincipal statement, no readable policy."""
    named: dict[str, set[str]] = field(default_factory=dict)
    """By entity key, unique id or role session prefix of the principals named."""
    accounts: dict[str, list[str]] = field(default_factory=dict)
    """By account named (root or bare id): these need an identity Allow as well."""
    _by_account: dict[str, PrefixIndex[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, keys: Iterable[KMSKey], policy_of: Callable[[KMSKey], Policy | None], action: str) -> KeyIndex:
        """``policy_of``: the evaluator's parsed key policy, None when unread or malformed."""
        index = cls(action)
        for key in keys:
            policy = policy_of(key)
            if policy is None:
                index.open.add(key.arn)
                continue
            for st in policy.statements_for(action):
                spec = st.principal
                if st.effect != "Allow":
                    continue
                if spec is None or st.not_principal or spec.everyone or spec.aws_wildcard:
                    index.open.add(key.arn)
                    continue
                for name in (*spec.arns, *spec.unique_ids):
                    index.named.setdefault(name, set()).add(key.arn)
                for session in spec.sessions:
                    index.named.setdefault(session[: session.index("/") + 1], set()).add(key.arn)
                for account in spec.accounts:
                    index.accounts.setdefault(account, []).append(key.arn)
            for grant in key.grants:  # every grant, whatever its operations and constraints
                g = grant.grantee_principal
                account = g.split(":")[4] if g.startswith("arn:") and g.endswith(":root") and g.count(":") == 5 else g
                if account.isdigit() and len(account) == 12:
                    index.accounts.setdefault(account, []).append(key.arn)
                for grantee in (g, entity_key(g), session_key(g)):
                    if grantee:
                        index.named.setdefault(grantee, set()).add(key.arn)
        return index

    def usable(self, principal: Principal, allow_patterns: Iterable[str]) -> set[str]:
        """Keys ``principal`` (a role, or a user) may use for the action as far as key policies and
        grants say, given the Resource patterns of its identity Allows for the action."""
        out = set(self.open)
        names = [principal.arn, entity_key(principal.arn), principal.unique_id, role_session_prefix(principal.arn)]
        for name in names:
            if name:
                out |= self.named.get(name, set())
        account = principal.account_id
        if account and account in self.accounts:
            index = self._by_account.get(account)
            if index is None:
                index = self._by_account[account] = PrefixIndex((arn, arn, ()) for arn in self.accounts[account])
            out.update(index.matching(allow_patterns))
        return out
