"""Prove an onboarding: collect again, build the access graph, and show who can read the new values.

The proof has four parts (:class:`Proof`):

* **intended** -- every new parameter / secret is readable from the service's namespace through the
  intended chain (controller -> controller role -> ``<service>-service-role`` -> read + decrypt);
* **exactly its own** -- the namespace reads no other value (paths that need an RBAC capability,
  ``potential``, are listed apart);
* **nobody else** -- no subject outside the namespace reads the new values, except the controller
  itself, which the pattern requires, and the kubelet of the nodes that mount the service's Secrets
  into its pods (as for any Kubernetes Secret); anything else is listed with its path;
* **others unchanged** -- the access rows of every other namespace and subject, on every other
  value, are the same as before (a diff; the service's own namespace is judged by the first two).

Findings that name the new resources are shown with their remediation. Nothing here reads a value:
collection uses the read-only collector.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from irsa_lib.access import AccessRow
from irsa_lib.analysis import analyse
from irsa_lib.findings import Finding
from irsa_lib.onboarding.params import OnboardingParams
from irsa_lib.onboarding.plan import format_table
from irsa_lib.onboarding.render import secret_object_name
from irsa_lib.snapshot import Snapshot, merge_snapshots

ROW_COLUMNS = ["cluster", "namespace", "service_account", "secret_name", "access", "decision", "path"]


def collect_state(
    params: OnboardingParams,
    *,
    endpoint_url: str | None = None,
    manifests: Sequence[str | os.PathLike[str]] = (),
    profile: str | None = None,
) -> Snapshot:
    """The AWS side (read-only collector, the service's region) plus the given manifest trees."""
    from irsa_lib.collect.aws import AwsTarget, collect_aws
    from irsa_lib.collect.manifests import load_manifests

    parts = [
        collect_aws([AwsTarget(profile=profile, regions=(params.region,))], endpoint_url=endpoint_url, progress=False)
    ]
    parts += [load_manifests(path, cluster=params.cluster) for path in manifests]
    return merge_snapshots(parts)


def _key(row: AccessRow) -> tuple[str, ...]:
    return (
        row.cluster,
        row.namespace or "",
        row.subject_kind,
        row.service_account,
        row.secret_arn,
        row.access,
        row.decision,
    )


def _frame(rows: Iterable[AccessRow]) -> pd.DataFrame:
    data = [
        (r.cluster, r.namespace or "", r.service_account, r.secret_name, r.access, r.decision, " -> ".join(r.path))
        for r in rows
    ]
    return pd.DataFrame(data, columns=ROW_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class Proof:
    """The verification of one onboarding (see the module docstring)."""

    params: OnboardingParams
    new_rows: tuple[AccessRow, ...]
    """Every row reading one of the new values."""
    intended: tuple[AccessRow, ...]
    """Rows of the service's namespace reaching a new value through the intended chain."""
    missing: tuple[str, ...]
    """New values the namespace cannot read through the intended chain."""
    namespace_other: tuple[AccessRow, ...]
    """Non-potential rows of the namespace reading values that are not the service's own."""
    controller: tuple[AccessRow, ...]
    """The controller's own rows on the new values (the pattern needs them)."""
    kubelet: tuple[AccessRow, ...]
    """Node kubelets reading the service's own Secrets to mount them into its pods (inherent to
    Kubernetes Secrets, however they are consumed)."""
    unexpected: tuple[AccessRow, ...]
    """Anyone else reaching the new values."""
    added_elsewhere: tuple[AccessRow, ...]
    removed_elsewhere: tuple[AccessRow, ...]
    compared_with_before: bool
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.namespace_other or self.unexpected or self.added_elsewhere or self.removed_elsewhere
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        """The proof as tables, for notebooks."""
        return {
            "intended": _frame(self.intended),
            "unexpected": _frame(self.unexpected),
            "controller": _frame(self.controller),
            "kubelet": _frame(self.kubelet),
            "namespace_other": _frame(self.namespace_other),
            "added_elsewhere": _frame(self.added_elsewhere),
            "removed_elsewhere": _frame(self.removed_elsewhere),
            "findings": findings_frame(self.findings),
        }

    def summary(self) -> pd.DataFrame:
        p = self.params
        own = len(p.secrets)
        checks = [
            (
                f"{p.namespace} reads each of its {own} values via {p.controller_role_name} -> {p.service_role_name}",
                not self.missing,
                "missing: " + ", ".join(self.missing) if self.missing else f"{own} of {own}",
            ),
            (
                f"{p.namespace} reads no other value",
                not self.namespace_other,
                f"{len(self.namespace_other)} other value(s)" if self.namespace_other else "none",
            ),
            (
                "no one else reads the new values (besides the controller and the kubelet)",
                not self.unexpected,
                f"{len(self.unexpected)} subject(s)" if self.unexpected else "none",
            ),
            (
                "other access rows unchanged",
                not (self.added_elsewhere or self.removed_elsewhere),
                f"+{len(self.added_elsewhere)} / -{len(self.removed_elsewhere)}"
                + ("" if self.compared_with_before else " (no 'before' state given)"),
            ),
        ]
        return pd.DataFrame(
            [(c, "yes" if ok else "NO", d) for c, ok, d in checks], columns=["check", "holds", "detail"]
        )

    def to_text(self) -> str:
        lines = [f"Verification of {self.params.service}: {'PROVEN' if self.ok else 'NOT PROVEN'}"]
        lines.append(format_table(self.summary()))
        for title, frame in (
            ("Intended access", _frame(self.intended)),
            ("Unexpected readers of the new values", _frame(self.unexpected)),
            ("Other values the namespace reads", _frame(self.namespace_other)),
            ("Access added elsewhere", _frame(self.added_elsewhere)),
            ("Access removed elsewhere", _frame(self.removed_elsewhere)),
            ("Findings on the new resources", findings_frame(self.findings)),
        ):
            if not frame.empty:
                lines += ["", f"{title}:", format_table(frame, max_width=120)]
        return "\n".join(lines)


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    rows = [(f.rule, f.severity.value, f.status, f.resource, f.title, f.remediation) for f in findings]
    return pd.DataFrame(rows, columns=["rule", "severity", "status", "resource", "title", "remediation"])


def _on_chain(row: AccessRow, p: OnboardingParams) -> bool:
    text = " ".join((*row.path, *row.nodes))
    return p.service_role_name in text and p.controller_role_name in text


def _mentions(finding: Finding, words: Sequence[str]) -> bool:
    text = " ".join((finding.resource, *finding.evidence))
    return any(w in text for w in words)


def verify(params: OnboardingParams, after: Snapshot, *, before: Snapshot | None = None) -> Proof:
    """Build the proof from the state after onboarding (and, for the diff, the state before)."""
    p = params
    analysis = analyse(after, rows_first=True)
    rows = analysis.rows
    names = {s.name for s in p.secrets}
    new_rows = tuple(r for r in rows if r.secret_name in names)
    in_ns = [r for r in new_rows if r.cluster == p.cluster and r.namespace == p.namespace]
    intended = tuple(r for r in in_ns if r.access != "potential" and _on_chain(r, p))
    missing = tuple(sorted(names - {r.secret_name for r in intended}))
    namespace_other = tuple(
        r
        for r in rows
        if r.cluster == p.cluster
        and r.namespace == p.namespace
        and r.access != "potential"
        and r.secret_name not in names
    )
    ctl_ns, ctl_name = p.controller_sa_namespace, p.controller_sa_name
    controller = tuple(r for r in new_rows if (r.namespace, r.service_account) == (ctl_ns, ctl_name))
    own_secrets = tuple(f"Secret {p.namespace}/{secret_object_name(p, kind)}" for kind in ("ssm", "secretsmanager"))
    kubelet = tuple(r for r in new_rows if r.subject_kind == "Node" and len(r.path) > 1 and r.path[1] in own_secrets)
    unexpected = tuple(
        r
        for r in new_rows
        if not (r.cluster == p.cluster and r.namespace == p.namespace)
        and (r.namespace, r.service_account) != (ctl_ns, ctl_name)
        and r not in kubelet
    )
    added: tuple[AccessRow, ...] = ()
    removed: tuple[AccessRow, ...] = ()
    if before is not None:

        def elsewhere(r: AccessRow) -> bool:
            return r.secret_name not in names and not (r.cluster == p.cluster and r.namespace == p.namespace)

        old = {_key(r): r for r in analyse(before, rules=()).rows if elsewhere(r)}
        new = {_key(r): r for r in rows if elsewhere(r)}
        added = tuple(new[k] for k in sorted(set(new) - set(old)))
        removed = tuple(old[k] for k in sorted(set(old) - set(new)))
    words = [p.service_role_arn, p.key_alias, f"/{p.namespace}/", *names, *(p.parameter_arn(n) for n in names)]
    key = next((k for k in after.kms_keys if p.key_alias in k.aliases), None)
    if key is not None:
        words.append(key.arn)
    findings = tuple(f for f in analysis.findings if _mentions(f, words))
    return Proof(
        params=p,
        new_rows=new_rows,
        intended=intended,
        missing=missing,
        namespace_other=namespace_other,
        controller=controller,
        kubelet=kubelet,
        unexpected=unexpected,
        added_elsewhere=added,
        removed_elsewhere=removed,
        compared_with_before=before is not None,
        findings=findings,
    )
