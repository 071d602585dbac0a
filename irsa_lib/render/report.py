"""Report assembly shared by the notebooks and ``irsa report``: gather a snapshot, show the sections of its analysis.

Notebook cells are one or two calls into this module, so everything a report does is reachable
from tests: :func:`gather_snapshot` (load a snapshot file, or collect from AWS accounts, live
clusters and manifest directories), and one function per report section of an
:class:`~irsa_lib.analysis.Analysis`, returning something Jupyter displays (a Styler or :class:`Html`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from irsa_lib.analysis import Analysis, analyse
from irsa_lib.errors import UsageError
from irsa_lib.render.files import write_output
from irsa_lib.render.graph_html import Focus, render_graph_iframe, render_trust_graph
from irsa_lib.render.tables import (
    access_frame,
    access_matrix,
    coverage_frame,
    export_frames,
    findings_frame,
    findings_summary,
    style_access_matrix,
    style_access_rows,
    style_coverage,
    style_findings,
    style_findings_summary,
)
from irsa_lib.snapshot import Snapshot, load_snapshot, merge_snapshots, save_snapshot

__all__ = [
    "Html",
    "access_matrix_table",
    "access_rows_table",
    "coverage_table",
    "drift_frame",
    "drift_table",
    "findings_table",
    "gather_snapshot",
    "parse_cluster_map",
    "severity_table",
    "summary_frame",
    "summary_table",
    "trust_graph",
    "write_report_files",
]


SNAPSHOT_ENV = "IRSA_SNAPSHOT"


class Html(str):
    """A string Jupyter displays as HTML (no IPython import needed, and no IFrame warning)."""

    def _repr_html_(self) -> str:
        return str(self)


# ---------------------------------------------------------------- inputs


def parse_cluster_map(value: Mapping[str, str] | Sequence[str] | str | None, *, what: str) -> dict[str, str]:
    """``{"cluster": "x"}``, ``["cluster=x", ...]``, ``"cluster=x,other=y"`` or ``["x"]`` (cluster = x) as a dict.

    Papermill parameters and command-line options arrive in all of these shapes.
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = value.split(",") if isinstance(value, str) else list(value)
    out: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        cluster, sep, target = item.partition("=")
        if not sep:
            cluster, target = Path(item).name or item, item
        if not cluster or not target:
            raise UsageError(f"{what}: cannot read {item!r}; expected CLUSTER=VALUE")
        if cluster in out:
            raise UsageError(f"{what}: cluster {cluster!r} given twice")
        out[cluster] = target
    return out


def gather_snapshot(
    *,
    snapshot_path: str | os.PathLike[str] | None = None,
    aws_profiles: Sequence[str] = (),
    aws_role_arns: Sequence[str] = (),
    aws_regions: Sequence[str] = (),
    endpoint_url: str | None = None,
    collect_aws: bool | None = None,
    kube_contexts: Mapping[str, str] | Sequence[str] | str | None = None,
    kubeconfig: str | None = None,
    manifest_dirs: Mapping[str, str] | Sequence[str] | str | None = None,
) -> Snapshot:
    """Load ``snapshot_path``, or collect a fresh snapshot from the given sources.

    AWS is collected when profiles, role ARNs, regions or an endpoint are given (or ``collect_aws=True``:
    the default credential chain). ``kube_contexts`` and ``manifest_dirs`` map cluster names to a
    kubeconfig context / a directory of YAML manifests. With no source at all, the snapshot named
    by the ``IRSA_SNAPSHOT`` environment variable is used (``irsa lab`` sets it to the demo's).
    """
    if snapshot_path:
        return load_snapshot(snapshot_path)
    contexts = parse_cluster_map(kube_contexts, what="kube_contexts")
    manifests = parse_cluster_map(manifest_dirs, what="manifest_dirs")
    if collect_aws is None:
        collect_aws = bool(aws_profiles or aws_role_arns or aws_regions or endpoint_url)
    if not (collect_aws or contexts or manifests):
        if os.environ.get(SNAPSHOT_ENV):
            return load_snapshot(os.environ[SNAPSHOT_ENV])
        raise UsageError(
            "nothing to analyse: give a snapshot, or AWS / Kubernetes / manifest sources to collect "
            f"(or set {SNAPSHOT_ENV} to a snapshot file)"
        )
    parts: list[Snapshot] = []
    if collect_aws:
        from irsa_lib.collect.aws import AwsTarget
        from irsa_lib.collect.aws import collect_aws as _collect_aws

        regions = tuple(aws_regions)
        targets = [AwsTarget(profile=p, regions=regions) for p in aws_profiles]
        targets += [AwsTarget(role_arn=r, regions=regions) for r in aws_role_arns]
        parts.append(_collect_aws(targets or [AwsTarget(regions=regions)], endpoint_url=endpoint_url, progress=False))
    if contexts:
        from irsa_lib.collect.k8s import collect_kubernetes

        for cluster, context in contexts.items():
            parts.append(collect_kubernetes(cluster=cluster, context=context, kubeconfig=kubeconfig))
    if manifests:
        from irsa_lib.collect.manifests import load_manifests

        for cluster, path in manifests.items():
            parts.append(load_manifests(path, cluster=cluster))
    return merge_snapshots(parts)


# ---------------------------------------------------------------- sections


def summary_frame(analysis: Analysis) -> pd.DataFrame:
    """The headline numbers: what was looked at, who reaches what, what is wrong, what is unknown."""
    frame = access_frame(analysis.rows)
    kinds = Counter(frame["access"]) if not frame.empty else Counter()
    severities = Counter(findings_frame(analysis.findings)["severity"]) if analysis.findings else Counter()
    snap = analysis.snapshot
    secrets = {r for r in frame["secret_arn"]} if not frame.empty else set()
    sas = {(r.cluster, r.namespace, r.service_account) for r in frame.itertuples()} if not frame.empty else set()
    metrics: list[tuple[str, object]] = [
        ("snapshot taken", snap.created_at),
        ("clusters", len({c.name for c in snap.clusters} | {s.cluster for s in snap.service_accounts})),
        ("service accounts", len(snap.service_accounts)),
        ("IAM roles", len(snap.roles)),
        ("SSM parameters", len(snap.ssm_parameters)),
        ("Secrets Manager secrets", len(snap.secrets)),
        ("service accounts reaching a secret", len(sas)),
        ("secrets reachable from a service account", len(secrets)),
        ("access paths: direct", kinds.get("direct", 0)),
        ("access paths: via controller", kinds.get("via-controller", 0)),
        ("access paths: potential", kinds.get("potential", 0)),
        ("findings: critical", severities.get("critical", 0)),
        ("findings: high", severities.get("high", 0)),
        ("findings: all", len(analysis.findings)),
        ("sources not fully collected", len(snap.incomplete())),
    ]
    return pd.DataFrame({"": [m for m, _ in metrics], "value": [str(v) for _, v in metrics]})


def summary_table(analysis: Analysis) -> Styler:
    return (
        summary_frame(analysis)
        .style.set_uuid("summary")
        .hide(axis="index")
        .hide(axis="columns")
        .set_table_styles([{"selector": "td", "props": "text-align: left; padding: 1px 12px 1px 0;"}])
    )


def severity_table(analysis: Analysis) -> Styler:
    return style_findings_summary(findings_summary(analysis.findings))


def findings_table(analysis: Analysis) -> Styler:
    return style_findings(findings_frame(analysis.findings))


def access_matrix_table(analysis: Analysis) -> Styler:
    return style_access_matrix(access_matrix(access_frame(analysis.rows)))


def access_rows_table(analysis: Analysis, *, limit: int | None = None) -> Styler:
    frame = access_frame(analysis.rows)
    return style_access_rows(frame if limit is None else frame.head(limit))


def coverage_table(analysis: Analysis) -> Styler:
    return style_coverage(coverage_frame(analysis.snapshot))


def trust_graph(analysis: Analysis, *, focus: Focus | None = None, height: int = 820, **options: Any) -> Html:
    """The trust graph of the analysis, embedded for a notebook (``<iframe srcdoc>``)."""
    page = render_trust_graph(analysis.graph, focus=focus, findings=analysis.findings, **options)
    return Html(render_graph_iframe(page, height=height))


def drift_frame(drift: Any) -> pd.DataFrame:
    """One line per change of an ``irsa_lib.diff.Drift``: new / gone / changed findings and access."""

    def g(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    def finding(f: Any) -> tuple[str, str]:
        return f"{g(f, 'rule')} {g(f, 'resource')}", f"{_plain(g(f, 'severity'))}: {g(f, 'title')}"

    def access(r: Any) -> tuple[str, str]:
        who = f"{g(r, 'cluster')}/{g(r, 'namespace')}/{g(r, 'service_account')}"
        return f"{who} → {g(r, 'secret_name') or g(r, 'secret_arn')}", f"{g(r, 'access')} · {g(r, 'decision')}"

    records: list[tuple[str, str, str, str]] = []
    for change, items in (("new", drift.findings_added), ("gone", drift.findings_removed)):
        records += [(change, "finding", *finding(f)) for f in items]
    for ch in drift.findings_changed:
        subject, _ = finding(ch.new)
        detail = "; ".join(f"{k}: {_plain(g(ch.old, k))} → {_plain(g(ch.new, k))}" for k in ch.fields)
        records.append(("changed", "finding", subject, detail))
    for change, items in (("new", drift.access_added), ("gone", drift.access_removed)):
        records += [(change, "access", *access(r)) for r in items]
    for ch in drift.access_changed:
        subject, _ = access(ch.new)
        detail = "; ".join(f"{k}: {_plain(g(ch.old, k))} → {_plain(g(ch.new, k))}" for k in ch.fields)
        records.append(("changed", "access", subject, detail))
    return pd.DataFrame.from_records(records, columns=["change", "kind", "subject", "detail"])


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " → ".join(map(str, value))
    return str(getattr(value, "value", value))


def drift_table(analysis: Analysis, previous: Analysis | Snapshot | str | os.PathLike[str] | None) -> Styler | Html:
    """What changed since ``previous`` (its analysis, its snapshot or the snapshot's file), or a note when there is none."""
    if previous is None or previous == "":
        return Html("<p>No previous snapshot given: drift is not computed.</p>")
    from irsa_lib.diff import diff_analyses

    if not isinstance(previous, Analysis):
        previous = analyse(previous if isinstance(previous, Snapshot) else load_snapshot(previous))
    before = previous.snapshot
    frame = drift_frame(diff_analyses(previous, analysis))
    if frame.empty:
        return Html(f"<p>No change since the previous snapshot ({before.created_at}).</p>")
    colors = {"new": "#fcbba1", "gone": "#c7e9c0", "changed": "#fdd0a2"}
    return (
        frame.style.set_uuid("drift")
        .hide(axis="index")
        .map(lambda c: f"background-color: {colors.get(str(c), 'transparent')};", subset=["change"])
        .set_caption(f"Changes since {before.created_at}")
    )


# ---------------------------------------------------------------- files


def report_frames(analysis: Analysis) -> dict[str, pd.DataFrame]:
    """The tables a report exports as CSV and JSON."""
    rows = access_frame(analysis.rows)
    return {
        "access_rows": rows,
        "access_matrix": access_matrix(rows),
        "findings": findings_frame(analysis.findings),
        "coverage": coverage_frame(analysis.snapshot),
    }


def write_report_files(
    analysis: Analysis,
    out_dir: str | os.PathLike[str],
    *,
    focus: Focus | None = None,
    extra_frames: Mapping[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """Write the snapshot, the tables (CSV + JSON) and the standalone trust graph under ``out_dir``."""
    out = Path(out_dir)
    written = [save_snapshot(analysis.snapshot, out / "snapshot.json")]
    frames = report_frames(analysis) | dict(extra_frames or {})
    written += export_frames(frames, out)
    page = render_trust_graph(analysis.graph, focus=focus, findings=analysis.findings)
    written.append(write_output(out / "trust-graph.html", page))
    return written


def rows_for(
    rows: Iterable[Any],
    *,
    cluster: str | None = None,
    namespace: str | None = None,
    service_account: str | None = None,
    secret: str | None = None,
) -> list[Any]:
    """The access rows matching every given selector (``secret``: name or ARN)."""

    def get(r: Any, name: str) -> Any:
        return r.get(name) if isinstance(r, Mapping) else getattr(r, name, None)

    out = []
    for r in rows:
        if cluster and get(r, "cluster") != cluster:
            continue
        if namespace and get(r, "namespace") != namespace:
            continue
        if service_account and get(r, "service_account") != service_account:
            continue
        if secret and secret not in (get(r, "secret_name"), get(r, "secret_arn")):
            continue
        out.append(r)
    return out
