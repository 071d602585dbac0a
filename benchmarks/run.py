"""Run the benchmarks and write a markdown table: ``python -m benchmarks.run`` (``make bench``).

For each size the synthetic organisation is generated and saved once, then every stage runs in its
own fresh process (``benchmarks.stage``) so each reports its own wall time and peak memory. The
graph page rendered at each size is then drawn in headless Chromium (``benchmarks.browser``), and a
small organisation is collected from a counting local AWS endpoint (``benchmarks.collect_bench``).
Then every organisation shape (``benchmarks.shapes``) is measured at each shape size against its
budget (``benchmarks.shape_bench``), and, when a Python with PMapper is given, side by side with
PMapper on the root-trust shape (``benchmarks.pmapper_bench``).
A stage that could not be measured (an error, a timeout, no Chromium) is reported as such, never estimated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import pmapper_bench, shape_bench
from benchmarks.browser import draw_time
from benchmarks.machine import describe
from benchmarks.shapes import SHAPES
from benchmarks.synthetic import SIZES, size_of

ROOT = Path(__file__).resolve().parent.parent
STAGES: tuple[tuple[str, str], ...] = (
    ("generate", "synthetic generation (not part of the budget)"),
    ("load", "snapshot load (JSON file)"),
    ("build", "graph build"),
    ("table", "full effective-access table"),
    ("findings", "all findings"),
    ("who", "who can read X (median of 7 readable secrets)"),
    ("render", "graph HTML render, default view"),
    ("pipeline", "**load + build + table + findings** (one process)"),
    ("report", "**`irsa report` end to end** (snapshot to HTML, peak of its processes)"),
    ("explore", "who can read X in the explore notebook (a pick: rows, findings, focused graph)"),
)
BUDGET_SECONDS, BUDGET_MIB, WHO_SECONDS, DOUBLING, HTML_BYTES, DRAW_SECONDS = 60.0, 4096.0, 1.0, 2.2, 5e6, 10.0
# issue 13: `irsa report` end to end, per size: (seconds, MiB, main HTML bytes, first paint seconds)
REPORT_BUDGETS: dict[str, tuple[float, float, float, float]] = {
    "small": (30.0, 1536.0, 10e6, 2.0),
    "large": (60.0, 3072.0, 15e6, 3.0),
}


def run_child(module: str, args: Sequence[str], *, timeout: float) -> dict[str, Any]:
    """Run ``python -m module args`` and return the JSON object on its last stdout line."""
    cmd = [sys.executable, "-m", module, *args]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"no result within {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "reason": f"exit {proc.returncode}: {tail}"}
    if result.get("status") == "error":
        sys.stderr.write(proc.stderr[-2000:])
    return result


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(sizes: Sequence[str], *, seed: int, workdir: Path, timeout: float, browser: bool, collect: str | None,
        profile: bool, shapes: Sequence[str] = (), shape_sizes: Sequence[int] = (), pmapper: str | None = None,
        pmapper_sizes: Sequence[int] = ()) -> dict[str, Any]:  # fmt: skip
    """Measure every stage at every size; returns the raw results (also written as JSON)."""
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": describe(),
        "seed": seed,
        "sizes": {},
    }
    for size in sizes:
        snap = workdir / f"{size}-seed{seed}.json"
        res: dict[str, Any] = {}
        for stage, _ in STAGES:
            args = [stage, "--snapshot", str(snap), "--size", size, "--seed", str(seed)]
            if stage == "render":
                args += ["--html", str(workdir / f"{size}-graph.html")]
            if stage == "report":
                args += ["--html", str(workdir / f"{size}-report")]
            res[stage] = run_child("benchmarks.stage", args, timeout=timeout)
            r = res[stage]
            _log(f"{size:>7} {stage:<9} {r.get('status'):<13} {r.get('seconds', float('nan')):8.2f} s "
                 f"{r.get('peak_rss_mib', float('nan')):8.0f} MiB  {r.get('reason', '')}")  # fmt: skip
            if stage == "generate" and r.get("status") != "ok":
                break
        if profile and res.get("pipeline", {}).get("status") == "ok":
            # a separate run: profiling slows the code several-fold, so it never times the measured one
            prof = workdir / f"{size}-pipeline.prof"
            run_child(
                "benchmarks.stage", ["pipeline", "--snapshot", str(snap), "--profile", str(prof)], timeout=timeout
            )
            _log(f"{size:>7} profile of the pipeline written to {prof}")
        results["sizes"][size] = res
    if browser:
        rendered = [s for s in sizes if results["sizes"][s].get("render", {}).get("status") == "ok"]
        if rendered:
            draws = []
            for size in rendered:
                page = Path(results["sizes"][size]["render"]["html"])
                _log(f"drawing {page} in headless Chromium")
                draws.append({"size": size, **draw_time(page)})
            results["browsers"] = draws
            results["browser"] = draws[-1]  # the largest page (older results files have only this)
        else:
            results["browser"] = {"status": "not available", "reason": "no graph HTML was rendered"}
    if collect:
        _log(f"collection benchmark at size {collect!r}")
        results["collection"] = {"size": collect, **run_child("benchmarks.collect_bench", ["--size", collect],
                                                               timeout=timeout)}  # fmt: skip
    if shapes and shape_sizes:
        results["shapes"] = shape_bench.run_shapes(shapes, shape_sizes, workdir, timeout=timeout)
    if pmapper_sizes:
        results["pmapper"] = pmapper_bench.run(pmapper, pmapper_sizes, timeout=timeout)
    (workdir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    return results


# --- markdown --------------------------------------------------------------------------------------


def _t(r: dict[str, Any] | None) -> str:
    if not r:
        return "-"
    status = r.get("status")
    if status != "ok":
        return {"not available": "n/a", "timeout": "timeout"}.get(str(status), "error")
    s = float(r["seconds"])
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _m(r: dict[str, Any] | None) -> str:
    if not r or r.get("status") != "ok":
        return ""
    return f"{r['peak_rss_mib']:.0f}"


def _ratio(cur: dict[str, Any] | None, prev: dict[str, Any] | None) -> str:
    if not cur or not prev or cur.get("status") != "ok" or prev.get("status") != "ok":
        return ""
    a, b = float(prev["seconds"]), float(cur["seconds"])
    return f"×{b / a:.2f}" if a > 0 else ""


def _mib(n: float | int) -> str:
    return f"{n / 1e6:.1f} MB"


def render_markdown(results: dict[str, Any]) -> str:
    """The results as the markdown the README reproduces."""
    sizes = list(results["sizes"])
    m = results["machine"]
    load = ", ".join(f"{x:.2f}" for x in m.get("load_average") or ())
    out = [
        "# Benchmarks",
        "",
        f"`python -m benchmarks.run --sizes {','.join(sizes)}` (seed {results['seed']}), {results['started']}.",
        "",
        *([results["note"], ""] if results.get("note") else []),
        f"**Machine:** {m['nproc']} cores (nproc), {m['cpu']}, {m['memory_gib']:.1f} GiB RAM, {m['python']}, "
        f"{m['os']}; load average at start {load}.",
        "",
        "## Sizes",
        "",
        "| size | accounts | clusters | IAM roles | service accounts | SSM parameters | secrets | KMS keys | snapshot |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in sizes:
        z = size_of(s)
        gen = results["sizes"][s].get("generate", {})
        bytes_ = _mib(gen["bytes"]) if gen.get("status") == "ok" else "-"
        out.append(f"| {s} | {z.accounts} | {z.clusters} | {z.roles:,} | {z.service_accounts:,} | "
                   f"{z.ssm_parameters:,} | {z.secrets:,} | {z.kms_keys:,} | {bytes_} |")  # fmt: skip
    out += ["", "## Analysis stages", ""]
    out.append("Each cell: wall time and peak RSS (MiB) of the stage's process; ×: time growth vs the previous "
               "size, whose organisation is smaller by the factor in the header (small, medium, large and xlarge "
               "each double the previous one). n/a: the module is not on this branch yet.")  # fmt: skip
    out.append("")
    factors = [""] + [f" | × (org ×{size_of(b).roles / size_of(a).roles:.3g})" for a, b in itertools.pairwise(sizes)]
    header = "| stage | " + " | ".join(f"{s} time | MiB{factors[i]}" for i, s in enumerate(sizes)) + " |"
    out.append(header)
    out.append("|---|" + "|".join("--:|--:" + ("|--:" if i else "") for i, _ in enumerate(sizes)) + "|")
    for stage, label in STAGES:
        cells = []
        for i, s in enumerate(sizes):
            r = results["sizes"][s].get(stage)
            cells += [_t(r), _m(r)]
            if i:
                cells.append(_ratio(r, results["sizes"][sizes[i - 1]].get(stage)))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out += ["", *budget_lines(results), "", *report_lines(results), "", *render_lines(results), ""]
    out += [*collection_lines(results), ""]
    if results.get("shapes"):
        out += [*shape_bench.shape_lines(results["shapes"]), ""]
    if results.get("pmapper"):
        out += pmapper_bench.pmapper_lines(results["pmapper"], results.get("shapes"))
    out += [
        "## How it is measured",
        "",
        "- Every stage runs in a fresh `python -m benchmarks.stage` process: the snapshot (and graph) it needs are "
        "loaded untimed, then only the stage is timed (`time.perf_counter`). Memory is the process's peak resident "
        "set size (`ru_maxrss`), so it includes the snapshot and graph the stage works on: it is what a user's "
        "process needs, not the stage's own increment. tracemalloc was not used: it slows allocation-heavy code "
        "several-fold and misses memory outside Python's allocator.",
        "- The budget row runs load, build, table and findings in one process, as `irsa` does.",
        "- `who can read X` is the median over 7 fixed SecureString parameters and secrets that someone can read, on the "
        "built graph; the first query also builds the graph's query view and name index (once per graph) and is "
        "reported on its own (`first`) and left out of the median.",
        "- Draw time: headless Chromium over the DevTools pipe; a script run before the page builds its network "
        "wraps `vis.Network` so the first `afterDrawing` event cannot be missed, and `performance.now()` there is "
        "the time from navigation start (HTML parsing, script evaluation, layout and any physics stabilisation "
        "included) to the first frame vis-network drew. If no event is seen, the first animation frame after "
        "which a `<canvas>` holds a drawn pixel is taken instead; the method used is named with the figure.",
        "- Collection: moto in server mode in its own process behind a WSGI middleware that counts every request "
        "(`service:Operation`), seeded with one account of the `collect` organisation; time per 1,000 resources "
        "is the collection wall time over the resources seeded.",
        "- The machine is shared: other processes ran at the same time, so times are upper bounds with noise of "
        "tens of percent; growth ratios are more telling than absolute times.",
    ]
    return "\n".join(out) + "\n"


def _ok(r: dict[str, Any] | None) -> bool:
    return bool(r) and r.get("status") == "ok"  # type: ignore[union-attr]


def budget_lines(results: dict[str, Any]) -> list[str]:
    sizes = results["sizes"]
    out = ["## Budget (issue 8), large size", "", "| budget | target | measured | met |", "|---|---|---|---|"]
    large = sizes.get("large", {})
    p = large.get("pipeline")
    if _ok(p):
        assert p is not None
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in p.get("parts", {}).items())
        out.append(f"| load + build + table + findings | < {BUDGET_SECONDS:.0f} s | {p['seconds']:.1f} s ({parts}) | "
                   f"{'yes' if p['seconds'] < BUDGET_SECONDS else '**no**'} |")  # fmt: skip
        out.append(f"| peak memory of that process | < 4 GiB | {p['peak_rss_mib'] / 1024:.2f} GiB | "
                   f"{'yes' if p['peak_rss_mib'] < BUDGET_MIB else '**no**'} |")  # fmt: skip
    else:
        out.append(f"| load + build + table + findings | < {BUDGET_SECONDS:.0f} s, < 4 GiB | {_t(p)} | not measured |")
    w = large.get("who")
    if _ok(w):
        assert w is not None
        first = f", first {w['first_seconds'] * 1000:.0f} ms" if "first_seconds" in w else ""
        out.append(f"| who can read X | < 1 s | median {w['seconds'] * 1000:.0f} ms, max {w['max_seconds'] * 1000:.0f} ms{first} | "
                   f"{'yes' if w['max_seconds'] < WHO_SECONDS else '**no**'} |")  # fmt: skip
    else:
        out.append(f"| who can read X | < 1 s | {_t(w)} | not measured |")
    names = list(sizes)
    for a, b in itertools.pairwise(names):
        pa, pb = sizes[a].get("pipeline"), sizes[b].get("pipeline")
        if _ok(pa) and _ok(pb) and b in ("large", "xlarge"):
            assert pa is not None and pb is not None
            doubling = math.log2(size_of(b).roles / size_of(a).roles)
            per_doubling = (pb["seconds"] / pa["seconds"]) ** (1 / doubling)
            out.append(f"| growth {a} → {b} | ≤ ×{DOUBLING} per doubling | ×{per_doubling:.2f} | "
                       f"{'yes' if per_doubling <= DOUBLING else '**no**'} |")  # fmt: skip
    r = large.get("render")
    if _ok(r):
        assert r is not None
        out.append(
            f"| graph HTML, default view | < 5 MB | {_mib(r['bytes'])} | {'yes' if r['bytes'] < HTML_BYTES else '**no**'} |"
        )
    b = next((d for d in _draws(results) if d.get("size") == "large"), {})
    if b.get("status") in ("ok", "timeout"):
        drawn = b.get("first_draw_s")
        shown = f"{drawn:.1f} s" if drawn is not None else f"not drawn within {b['timeout_s']:.0f} s"
        if drawn is not None and b.get("draw_method") not in (None, "afterDrawing"):
            shown += f" ({b['draw_method']})"
        out.append(f"| drawn by headless Chromium | < 10 s | {shown} | "
                   f"{'yes' if drawn is not None and drawn < DRAW_SECONDS else '**no**'} |")  # fmt: skip
    return out


def report_lines(results: dict[str, Any]) -> list[str]:
    """The `irsa report` budgets (issue 13) of the sizes that have one."""
    out = ["## `irsa report` budget (issue 13)", "",
           "| size | wall | CPU, load average | peak memory | main HTML | data beside it | first paint | tables ready | met |",
           "|---|--:|--:|--:|--:|--:|--:|--:|---|"]  # fmt: skip
    for size, (secs, mib, html_bytes, paint) in REPORT_BUDGETS.items():
        r = results["sizes"].get(size, {}).get("report")
        if not _ok(r):
            out.append(f"| {size} | ≤ {secs:.0f} s | | ≤ {mib / 1024:.1f} GiB | ≤ {html_bytes / 1e6:.0f} MB | | "
                       f"≤ {paint:.0f} s | | not measured ({_t(r)}) |")  # fmt: skip
            continue
        assert r is not None
        b = r.get("browser") or {}
        first = b.get("first_paint_s")
        ready = b.get("tables_ready_s")
        met = (r["seconds"] <= secs and r["peak_rss_mib"] <= mib and r["html_bytes"] <= html_bytes
               and first is not None and first <= paint)  # fmt: skip
        cpu = r.get("cpu_seconds")
        loads = [x[0] for x in (r.get("load_average_before"), r.get("load_average_after")) if x]
        shared = (f"{cpu:.0f} s" if cpu is not None else "-") + (
            f", load {min(loads):.1f}-{max(loads):.1f}" if loads else ""
        )
        out.append(
            f"| {size} | {r['seconds']:.1f} s (≤ {secs:.0f}) | {shared} | {r['peak_rss_mib'] / 1024:.2f} GiB (≤ {mib / 1024:.1f}) | "
            f"{_mib(r['html_bytes'])} (≤ {html_bytes / 1e6:.0f} MB) | {_mib(r.get('data_bytes') or 0)} | "
            f"{'-' if first is None else f'{first:.2f} s'} (≤ {paint:.0f}) | {'-' if ready is None else f'{ready:.1f} s'} | "
            f"{'yes' if met else '**no**'} |"
        )
    out += [
        "",
        "| size | who can read X in the notebook (median, max of 7 values) | budget | met |",
        "|---|--:|--:|---|",
    ]
    for size in REPORT_BUDGETS:
        e = results["sizes"].get(size, {}).get("explore")
        if not _ok(e):
            out.append(f"| {size} | not measured ({_t(e)}) | ≤ {WHO_SECONDS:.0f} s at large | |")
            continue
        assert e is not None
        cpu = f" ({e['cpu_seconds']:.2f} s, {e['max_cpu_seconds']:.2f} s CPU)" if "cpu_seconds" in e else ""
        out.append(f"| {size} | {e['seconds']:.2f} s, {e['max_seconds']:.2f} s{cpu} | ≤ {WHO_SECONDS:.0f} s at large | "
                   f"{'yes' if e['max_seconds'] <= WHO_SECONDS else '**no**'} |")  # fmt: skip
    return out


def _settling(b: dict[str, Any]) -> str:
    """What physics did: off (static layout, nothing to settle), settled at a time, or not settled in time."""
    if b.get("physics") is False:
        return "physics off (static layout, nothing to stabilise)"
    if b.get("stabilized_s") is not None:
        return f"physics stabilised {b['stabilized_s']:.1f} s"
    if b.get("physics") is True:
        return f"physics on, not stabilised within {b.get('timeout_s', float('nan')):.0f} s"
    return "physics unknown"


def _draws(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The Chromium draws, one per rendered size (older results files hold one, as ``browser``)."""
    draws = results.get("browsers")
    if draws:
        return list(draws)
    one = results.get("browser")
    return [one] if one else []


def render_lines(results: dict[str, Any]) -> list[str]:
    draws = _draws(results)
    out = ["## Graph page drawn in headless Chromium", ""]
    if not draws or draws[0].get("status") == "not available":
        out.append(f"Not available: {(draws[0] if draws else {}).get('reason', 'not run')}.")
        return out
    for b in draws:
        first = b.get("first_draw_s")
        if first is not None:
            first_s = f"{first:.1f} s ({b.get('draw_method') or 'afterDrawing'})"
        else:
            first_s = f"none within {b.get('timeout_s', float('nan')):.0f} s"
        load = b.get("load_event_s")
        load_s = f"{load:.1f} s" if load is not None else "not seen"
        out.append(f"- Size {b['size']}: {_mib(b['bytes'])} page, {b.get('nodes')} nodes / {b.get('edges')} edges, "
                   f"load event {load_s}, first draw {first_s}, {_settling(b)} ({b.get('browser')}).")  # fmt: skip
    return out


def collection_lines(results: dict[str, Any]) -> list[str]:
    c = results.get("collection")
    out = ["## Collection against the local endpoint", ""]
    if not c:
        out.append("Not run.")
        return out
    seeded = ", ".join(f"{k} {v}" for k, v in (c.get("seeded") or {}).items())
    if c.get("status") != "ok":
        out.append(f"{c.get('status')}: {c.get('reason')}. Seeded {c.get('resources', '?')} resources ({seeded}).")
        return out
    out.append(f"Size `{c['size']}`: {c['resources']:,} resources seeded ({seeded}); collection took "
               f"{c['seconds']:.1f} s = **{c['seconds_per_1000']:.2f} s per 1,000 resources**, "
               f"{c['total_calls']:,} API calls = **{c['calls_per_resource']:.2f} calls per resource** "
               f"(floor under the documented page sizes: {c.get('minimum_calls', '?')} calls), "
               f"peak {c['peak_rss_mib']:.0f} MiB.")  # fmt: skip
    if c.get("value_reads"):
        out.append(f"**Calls that read secret values: {', '.join(c['value_reads'])}.**")
    out += ["", "| operation | calls |", "|---|--:|"]
    out += [f"| {op} | {n:,} |" for op, n in sorted(c["calls"].items(), key=lambda kv: (-kv[1], kv[0]))]
    return out


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--sizes", default="small,medium,large", help=f"comma list of {', '.join(SIZES)}")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.md")
    parser.add_argument("--workdir", type=Path, default=ROOT / "reports" / "bench",
                        help="snapshots, rendered pages and raw results.json (git-ignored)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per stage process")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium draw")
    parser.add_argument("--collect-size", default="collect", help="size for the collection benchmark ('' to skip)")
    parser.add_argument(
        "--profile", action="store_true", help="also profile each size's pipeline (cProfile) in a separate, untimed run"
    )
    parser.add_argument("--shapes", default=",".join(SHAPES), help="organisation shapes to measure ('' to skip)")
    parser.add_argument("--shape-sizes", default=",".join(map(str, shape_bench.SIZES)),
                        help=f"roles per shape (the full budget: {','.join(map(str, shape_bench.FULL_SIZES))})")  # fmt: skip
    parser.add_argument("--pmapper-python", default=os.environ.get("PMAPPER_PYTHON"),
                        help="a Python with principalmapper installed, for the side-by-side run")  # fmt: skip
    parser.add_argument("--pmapper-sizes", default=",".join(map(str, pmapper_bench.SIZES)))
    parser.add_argument("--from-json", type=Path, help="only re-render the markdown from a results.json")
    parser.add_argument("--note", default="", help="a line printed under the title (what was measured, patches)")
    args = parser.parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
        for s in sizes:
            size_of(s)
        shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
        unknown = [s for s in shapes if s not in SHAPES]
        if unknown:
            parser.error(f"unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
        results = run(sizes, seed=args.seed, workdir=args.workdir, timeout=args.timeout, browser=not args.no_browser,
                      collect=args.collect_size or None, profile=args.profile, shapes=shapes,
                      shape_sizes=_ints(args.shape_sizes), pmapper=args.pmapper_python,
                      pmapper_sizes=_ints(args.pmapper_sizes) if args.pmapper_python else ())  # fmt: skip
    if args.note:
        results["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_markdown(results))
    _log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
