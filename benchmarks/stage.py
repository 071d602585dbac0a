"""One measured benchmark stage, run in a fresh process so its peak memory is its own.

``python -m benchmarks.stage STAGE --snapshot FILE [--html OUT]`` loads what the stage needs
(untimed), times the stage itself with ``time.perf_counter`` and prints one JSON object on the last
line of stdout: ``seconds``, ``peak_rss_mib`` (``ru_maxrss`` of this process: the high-water mark of
everything the process held, the prerequisites included), ``base_rss_mib`` (the high-water mark just
before the timed part) and stage details. A stage that raises prints ``{"status": "error"}`` with the
message.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the load and generate stages import no more than they measure
    from irsa_lib.graph import AccessGraph
    from irsa_lib.snapshot import Snapshot

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("generate", "load", "build", "table", "findings", "who", "render", "pipeline", "report", "explore")

WHO_SAMPLES = 7


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _graph_size(graph: AccessGraph) -> dict[str, int]:
    """Node and edge counts of an access graph, and the policy evaluations its build made."""
    g = graph.graph
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "evaluations": graph.evaluations}


def who_targets(snapshot: Snapshot, n: int = WHO_SAMPLES, *, graph: AccessGraph | None = None) -> list[str]:
    """A fixed spread of SecureString parameters and secrets to ask ``who can read`` about.

    With ``graph``: only values someone can read (an edge into the value's node), so the figure
    times real answers rather than empty ones.
    """
    readable: set[str] | None = None
    if graph is not None:
        from irsa_lib.graph.schema import SECRET_TYPES

        readable = {
            str(graph.node(v).get("arn")) for v in graph.nodes_of(*SECRET_TYPES) if graph.graph.in_degree(v) > 0
        }
    params = [
        p.arn for p in snapshot.ssm_parameters if p.type == "SecureString" and (readable is None or p.arn in readable)
    ]
    secrets = [s.arn for s in snapshot.secrets if readable is None or s.arn in readable]
    pool = [
        *params[:: max(1, len(params) // (n - n // 3))][: n - n // 3],
        *secrets[:: max(1, len(secrets) // 3)][: n // 3],
    ]
    return pool[:n]


def report_stage(snapshot_path: Path, out_dir: Path) -> dict[str, Any]:
    """``irsa report --snapshot S -o DIR`` end to end as a user runs it: wall time, peak RSS of the
    largest process (the command or the notebook kernel it starts), the main HTML's size and the
    data file's, and the first paint and tables-ready times of the page in headless Chromium.

    The machine may be shared: ``cpu_seconds`` (user + system of the command and every process it
    waited for, the notebook kernel included) and the load averages before and after say how much of
    the wall time was this command's own work."""
    import os
    import shutil
    import subprocess

    from benchmarks.browser import paint_time

    shutil.rmtree(out_dir, ignore_errors=True)
    start = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = start.ru_maxrss
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    # a cell's own time limit (15 min by default) is lifted: on a shared machine the analysis of `large`
    # can take longer, and the benchmark's caller bounds the whole run
    command = ["report", "--snapshot", str(snapshot_path), "-o", str(out_dir), "--timeout", "7200"]
    proc = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"irsa report failed ({proc.returncode}): {proc.stderr[-1500:]}")
    end = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = end.ru_maxrss
    load_after = os.getloadavg()
    html = out_dir / "access_report.html"
    data = out_dir / "report_data.js"
    return {
        "seconds": seconds,
        "cpu_seconds": (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "children_peak_rss_mib": max(peak, before) / 1024,
        "html": str(html),
        "html_bytes": html.stat().st_size,
        "data_bytes": data.stat().st_size if data.exists() else None,
        "side_files_bytes": sum(f.stat().st_size for f in out_dir.iterdir() if f.is_file() and f != html),
        "browser": paint_time(html),
    }


def explore_stage(snapshot_path: Path) -> dict[str, Any]:
    """The focused "who can read X" view of the explore notebook on an analysed snapshot: what a pick
    of a value in its explorer costs (the rows, the findings on the focused nodes, and the page
    fragment with the focused graph), for the values of :func:`who_targets`; the analysis and the
    explorer's row index (built once per explorer) are made first and timed apart."""
    import os

    from irsa_lib.analysis import analyse
    from irsa_lib.notebooks import RowIndex, selection, selection_html
    from irsa_lib.snapshot import load_snapshot

    snap = load_snapshot(snapshot_path)
    analysis = analyse(snap, rows_first=True)
    t0 = time.perf_counter()
    index = RowIndex(analysis.rows, analysis.graph)
    index_seconds = time.perf_counter() - t0
    base = rss_mib()
    names = {p.arn: p.name for p in snap.ssm_parameters} | {s.arn: s.name for s in snap.secrets}
    times, cpu, answers = [], [], []
    for arn in who_targets(snap, graph=analysis.graph):
        t0, c0 = time.perf_counter(), time.process_time()
        picked = selection(analysis, secret=names[arn], index=index)
        selection_html(analysis, picked)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        answers.append(len(picked.rows))
    return {
        "seconds": statistics.median(times),
        "max_seconds": max(times),
        "cpu_seconds": statistics.median(cpu),
        "max_cpu_seconds": max(cpu),
        "load_average": os.getloadavg(),
        "first_seconds": times[0],
        "index_seconds": index_seconds,
        "samples": len(times),
        "answers": answers,
        "base_rss_mib": base,
    }


def run_stage(stage: str, snapshot_path: Path, html_out: Path | None, size: str, seed: int) -> dict[str, Any]:
    from irsa_lib.snapshot import load_snapshot

    out: dict[str, Any] = {}
    if stage == "generate":
        from benchmarks.synthetic import generate
        from irsa_lib.snapshot import save_snapshot

        base = rss_mib()
        t0 = time.perf_counter()
        snap = generate(size, seed=seed)
        out["seconds"] = time.perf_counter() - t0
        out["base_rss_mib"] = base
        save_snapshot(snap, snapshot_path)
        out["bytes"] = snapshot_path.stat().st_size
        out["counts"] = snap.counts()
        return out
    if stage == "report":
        return report_stage(snapshot_path, html_out or snapshot_path.with_name(f"{size}-report"))
    if stage == "explore":
        return explore_stage(snapshot_path)
    if stage == "load":
        base = rss_mib()
        t0 = time.perf_counter()
        load_snapshot(snapshot_path)
        out["seconds"] = time.perf_counter() - t0
        out["base_rss_mib"] = base
        return out
    from irsa_lib.access import effective_access, who_can_read
    from irsa_lib.analysis import analyse
    from irsa_lib.findings import run_findings
    from irsa_lib.graph import build_graph
    from irsa_lib.render.graph_html import render_trust_graph

    if stage == "pipeline":
        base = rss_mib()
        t0 = time.perf_counter()
        snap = load_snapshot(snapshot_path)
        parts = {"load": time.perf_counter() - t0}
        t = time.perf_counter()
        analysis = analyse(snap, rows_first=True)  # as the report makes it: rows and findings
        parts["analyse"] = time.perf_counter() - t
        out.update(seconds=time.perf_counter() - t0, base_rss_mib=base, parts=parts)
        out.update(rows=len(analysis.rows), findings=len(analysis.findings), **_graph_size(analysis.graph))
        return out
    snap = load_snapshot(snapshot_path)
    if stage == "build":
        base = rss_mib()
        t0 = time.perf_counter()
        graph = build_graph(snap)
        out.update(seconds=time.perf_counter() - t0, base_rss_mib=base, **_graph_size(graph))
        return out
    graph = build_graph(snap)
    rows = list(effective_access(graph)) if stage == "render" else None  # the overview is drawn from them
    base = rss_mib()
    t0 = time.perf_counter()
    if stage == "findings":
        found = run_findings(snap, graph=graph)
        out.update(seconds=time.perf_counter() - t0, findings=len(found))
        out["by_rule"] = dict(sorted(Counter(f.rule for f in found).items()))
    elif stage == "table":
        rows = effective_access(graph)
        out.update(seconds=time.perf_counter() - t0, rows=len(rows))
    elif stage == "who":
        times, answers = [], []
        for target in who_targets(snap, graph=graph):
            t0 = time.perf_counter()
            answers.append(len(list(who_can_read(graph, target))))
            times.append(time.perf_counter() - t0)
        # the first query also builds the graph's query view and name index, once per graph
        out.update(
            seconds=statistics.median(times[1:] or times),
            first_seconds=times[0],
            max_seconds=max(times),
            samples=len(times),
            answers=answers,
        )
    elif stage == "render":
        data = render_trust_graph(graph, rows=rows).encode("utf-8")
        out["seconds"] = time.perf_counter() - t0
        out["bytes"] = len(data)
        if html_out is not None:
            html_out.parent.mkdir(parents=True, exist_ok=True)
            html_out.write_bytes(data)
            out["html"] = str(html_out)
    out["base_rss_mib"] = base
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stage", description=__doc__)
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the stage to this file")
    args = parser.parse_args(argv)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        result = {"status": "ok", **run_stage(args.stage, args.snapshot, args.html, args.size, args.seed)}
    except Exception as exc:
        traceback.print_exc()
        result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    # the report stage's work runs in child processes: its peak is theirs
    result["peak_rss_mib"] = max(rss_mib(), float(result.get("children_peak_rss_mib") or 0))
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
