"""Resolving the names controllers use (SSM names, paths, Secrets Manager ids) to collected values."""

from __future__ import annotations

from collections import defaultdict

from irsa_lib.graph.aws import SecretRecord
from irsa_lib.model import SecretsManagerSecret, SSMParameter
from irsa_lib.userregex import RegexError, compile_regex


def strip_selector(name: str) -> str:
    """``/app/db:3`` or ``/app/db:label`` -> ``/app/db`` (IAM sees the name without the selector)."""
    if name.startswith("arn:"):
        parts = name.split(":")
        return ":".join(parts[:6]) if len(parts) > 6 else name
    return name.split(":", 1)[0]


class TargetIndex:
    """Parameters (SecureString) and secrets by (account, region, name) and by ARN."""

    def __init__(self, parameters: list[SSMParameter], secrets: list[SecretsManagerSecret]) -> None:
        self._params: dict[tuple[str, str, str], SSMParameter] = {}
        self._by_arn: dict[str, SecretRecord] = {}
        self._params_by_region: dict[tuple[str, str], list[SSMParameter]] = defaultdict(list)
        self._secrets: dict[tuple[str, str, str], SecretsManagerSecret] = {}
        for p in parameters:
            self._params[(p.account_id, p.region, p.name.lstrip("/"))] = p
            self._params_by_region[(p.account_id, p.region)].append(p)
            self._by_arn[p.arn] = p
        for s in secrets:
            self._secrets[(s.account_id, s.region, s.name)] = s
            self._by_arn[s.arn] = s

    def by_arn(self, arn: str) -> SecretRecord | None:
        return self._by_arn.get(arn)

    def parameter(self, name: str, account: str, region: str) -> SSMParameter | None:
        name = strip_selector(name)
        if name.startswith("arn:"):
            found = self._by_arn.get(name)
            return found if isinstance(found, SSMParameter) else None
        return self._params.get((account, region, name.lstrip("/")))

    def parameters_under(self, path: str, account: str, region: str, *, recursive: bool) -> list[SSMParameter]:
        """What GetParametersByPath(Path=path) returns: direct children, or all descendants if recursive."""
        base = "/" + path.strip("/")
        base = "/" if base == "/" else base + "/"
        out = []
        for p in self._params_by_region.get((account, region), []):
            if not p.name.startswith("/") or not p.name.startswith(base):
                continue
            rest = p.name[len(base) :]
            if recursive or "/" not in rest:
                out.append(p)
        return out

    def parameters_matching(self, regexp: str | None, account: str, region: str, path: str = "/") -> list[SSMParameter]:
        """ESO ``find``: names under ``path`` (recursive) matching ``regexp`` (unanchored, Go regexp)."""
        found = self.parameters_under(path, account, region, recursive=True)
        if not regexp:
            return found
        try:
            rx = compile_regex(regexp, dialect="go")
        except RegexError:
            return found  # cannot tell which match: over-approximate
        return [p for p in found if rx.search(p.name)]

    def all_parameters(self, account: str, region: str) -> list[SSMParameter]:
        return list(self._params_by_region.get((account, region), []))

    def secret(self, ref: str, account: str, region: str) -> SecretsManagerSecret | None:
        if ref.startswith("arn:"):
            found = self._by_arn.get(ref)
            if isinstance(found, SecretsManagerSecret):
                return found
            # a partial ARN (without the random suffix) names the secret by its name
            parts = ref.split(":")
            if len(parts) >= 7:
                return self._secrets.get((parts[4], parts[3], ":".join(parts[6:])))
            return None
        return self._secrets.get((account, region, ref))

    def secrets_matching(self, regexp: str | None, account: str, region: str) -> list[SecretsManagerSecret]:
        out = [s for (a, r, _), s in self._secrets.items() if a == account and r == region]
        if not regexp:
            return out
        try:
            rx = compile_regex(regexp, dialect="go")
        except RegexError:
            return out
        return [s for s in out if rx.search(s.name)]
