"""One measured benchmark stage, run in a fresh process so its peak memory is its own.

``python -m benchmarks.stage STAGE --snapshot FILE [--html OUT]`` loads what the stage needs
(untimed), times the stage itself with ``time.perf_counter`` and prints one JSON object on the last
line of stdout: ``seconds``, ``peak_rss_mib`` (``ru_maxrss`` of this process: the high-water mark of
everything the process held, the prerequisites included), ``base_rss_mib`` (the high-water mark just
before the timed part) and stage details. A stage whose library module is not present prints
``{"status": "not available"}``; one that raises prints ``{"status": "error"}`` with the message.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import resource
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sized
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("generate", "load", "build", "table", "findings", "who", "render", "pipeline", "report")

# stage -> (module, function) pairs it needs; a missing module makes the stage "not available"
NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "generate": (),
    "load": (),
    "build": (("irsa_lib.graph", "build_graph"),),
    "table": (("irsa_lib.graph", "build_graph"), ("irsa_lib.access", "effective_access")),
    "findings": (("irsa_lib.findings", "run_findings"),),  # with the graph when irsa_lib.graph is present
    "who": (("irsa_lib.graph", "build_graph"), ("irsa_lib.access", "who_can_read")),
    "render": (("irsa_lib.graph", "build_graph"), ("irsa_lib.render.graph_html", "render_trust_graph")),
    "report": (("irsa_lib.render.notebooks", "run_report"),),
    "pipeline": (
        ("irsa_lib.graph", "build_graph"),
        ("irsa_lib.access", "effective_access"),
        ("irsa_lib.findings", "run_findings"),
    ),
}
WHO_SAMPLES = 7


class NotAvailable(Exception):
    """A library module this stage measures is not present in this checkout."""


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resolve(module: str, name: str) -> Callable[..., Any]:
    """The library function, or NotAvailable when its module does not exist (an import error inside
    an existing module is a real error and propagates)."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        raise NotAvailable(f"{module} is not present")
    if spec.origin and not Path(spec.origin).resolve().is_relative_to(ROOT):
        # an editable install elsewhere can supply submodules this checkout lacks: do not measure those
        raise NotAvailable(f"{module} is not in this checkout (found only at {spec.origin})")
    mod = importlib.import_module(module)
    fn = getattr(mod, name, None)
    if fn is None:
        raise NotAvailable(f"{module}.{name} is not present")
    return fn


def _materialize(value: Any) -> Any:
    """Consume a lazy result (generator, iterator) so its work is inside the timed part."""
    if isinstance(value, Iterator):
        return list(value)
    return value


def _size(value: Any) -> int | None:
    if isinstance(value, Sized):
        return len(value)
    for attr in ("rows", "findings", "items"):
        inner = getattr(value, attr, None)
        if isinstance(inner, Sized):
            return len(inner)
    return None


def _graph_size(graph: Any) -> dict[str, int]:
    """Node and edge counts of a networkx graph or of a wrapper holding one as ``.graph``."""
    inner = graph if callable(getattr(graph, "number_of_nodes", None)) else getattr(graph, "graph", None)
    out = {}
    for key, attr in (("nodes", "number_of_nodes"), ("edges", "number_of_edges")):
        fn = getattr(inner, attr, None)
        if callable(fn):
            out[key] = int(fn())
    evaluations = getattr(graph, "evaluations", None)
    if isinstance(evaluations, int):
        out["evaluations"] = evaluations
    return out


def who_targets(snapshot: Any, n: int = WHO_SAMPLES, *, graph: Any = None) -> list[str]:
    """A fixed spread of SecureString parameters and secrets to ask ``who can read`` about.

    With ``graph``: only values someone can read (an edge into the value's node), so the figure
    times real answers rather than empty ones.
    """
    readable: set[str] | None = None
    if graph is not None and hasattr(graph, "nodes_of"):
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
    data file's, and the first paint and tables-ready times of the page in headless Chromium."""
    import shutil
    import subprocess

    from benchmarks.browser import paint_time

    shutil.rmtree(out_dir, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "report", "--snapshot", str(snapshot_path), "-o", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"irsa report failed ({proc.returncode}): {proc.stderr[-1500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    html = out_dir / "access_report.html"
    data = out_dir / "report_data.js"
    return {
        "seconds": seconds,
        "children_peak_rss_mib": max(peak, before) / 1024,
        "html": str(html),
        "html_bytes": html.stat().st_size,
        "data_bytes": data.stat().st_size if data.exists() else None,
        "side_files_bytes": sum(f.stat().st_size for f in out_dir.iterdir() if f.is_file() and f != html),
        "browser": paint_time(html),
    }


def run_stage(stage: str, snapshot_path: Path, html_out: Path | None, size: str, seed: int) -> dict[str, Any]:
    from irsa_lib.snapshot import load_snapshot

    fns = {name: resolve(module, name) for module, name in NEEDS[stage]}
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
    if stage == "load":
        base = rss_mib()
        t0 = time.perf_counter()
        load_snapshot(snapshot_path)
        out["seconds"] = time.perf_counter() - t0
        out["base_rss_mib"] = base
        return out
    if stage == "pipeline":
        parts: dict[str, float] = {}
        base = rss_mib()
        t0 = time.perf_counter()
        snap = load_snapshot(snapshot_path)
        parts["load"] = time.perf_counter() - t0
        t = time.perf_counter()
        graph = fns["build_graph"](snap)
        parts["build"] = time.perf_counter() - t
        t = time.perf_counter()
        rows = _materialize(fns["effective_access"](graph))
        parts["table"] = time.perf_counter() - t
        t = time.perf_counter()
        found = _materialize(fns["run_findings"](snap, graph=graph))
        parts["findings"] = time.perf_counter() - t
        out.update(seconds=time.perf_counter() - t0, base_rss_mib=base, parts=parts)
        out.update(rows=_size(rows), findings=_size(found), **_graph_size(graph))
        return out
    snap = load_snapshot(snapshot_path)
    if stage == "findings":
        try:
            graph = resolve("irsa_lib.graph", "build_graph")(snap)
        except NotAvailable:
            graph, out["note"] = None, "without a graph (irsa_lib.graph not present)"
        base = rss_mib()
        t0 = time.perf_counter()
        found = _materialize(fns["run_findings"](snap, graph=graph))
        out.update(seconds=time.perf_counter() - t0, findings=_size(found), base_rss_mib=base)
        out["by_rule"] = dict(sorted(Counter(getattr(f, "rule", "?") for f in found).items()))
        return out
    build = fns["build_graph"]
    if stage == "build":
        base = rss_mib()
        t0 = time.perf_counter()
        graph = build(snap)
        out.update(seconds=time.perf_counter() - t0, base_rss_mib=base, **_graph_size(graph))
        return out
    graph = build(snap)
    base = rss_mib()
    if stage == "table":
        t0 = time.perf_counter()
        rows = _materialize(fns["effective_access"](graph))
        out.update(seconds=time.perf_counter() - t0, rows=_size(rows))
    elif stage == "who":
        times, answers = [], []
        for target in who_targets(snap, graph=graph):
            t0 = time.perf_counter()
            answer = _materialize(fns["who_can_read"](graph, target))
            times.append(time.perf_counter() - t0)
            answers.append(_size(answer))
        # the first query also builds the graph's query view and name index, once per graph
        out.update(
            seconds=statistics.median(times[1:] or times),
            first_seconds=times[0],
            max_seconds=max(times),
            samples=len(times),
            answers=answers,
        )
    elif stage == "render":
        t0 = time.perf_counter()
        html = fns["render_trust_graph"](graph)
        out["seconds"] = time.perf_counter() - t0
        text = html if isinstance(html, str) else str(html)
        data = text.encode("utf-8")
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
    except NotAvailable as exc:
        result = {"status": "not available", "reason": str(exc)}
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
