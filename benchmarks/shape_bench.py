"""The analysis on every organisation shape (``benchmarks.shapes``), as a user runs it, against its budget.

For each shape and size (roles), measured in fresh processes: ``irsa access SNAPSHOT`` and
``irsa findings SNAPSHOT`` (the commands, interpreter start and imports included), who-can-read
from a fresh process (load + build + one query) and on a built graph (``benchmarks.stage who``),
and the peak memory of load + build + table + findings in one process (``benchmarks.stage
pipeline``). The measuring process itself loads no snapshot: on Linux a child's peak resident
memory starts from what its parent held when it was started. Each figure is the process's wall time, its CPU time (user + system, which a
machine shared with other work inflates far less than wall time) and its peak resident memory.

``python -m benchmarks.shape_bench who --snapshot FILE --target ARN`` is the fresh-process query.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.shapes import SHAPES, generate_shape

ROOT = Path(__file__).resolve().parent.parent
SIZES = (200, 400, 800, 1600)
"""The default sizes; the budget's growth and memory figures need 3200..12800 as well."""
FULL_SIZES = (200, 400, 800, 1600, 3200, 6400, 12800)
BUDGET_ROLES = 1600
TAIL_BYTES = 1 << 16
"""How much of a measured command's output the measuring process reads (its last line is the result)."""
BUDGET_PAIR_S, WHO_BUILT_S, WHO_FRESH_S, DOUBLING, PEAK_GIB = 5.0, 0.5, 3.0, 2.1, 2.0


def load_average() -> float:
    """The machine's one-minute load average (NaN where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def measure(
    cmd: Sequence[str], *, timeout: float, keep_output: bool = False, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``cmd`` and return its wall time, CPU time and peak RSS (the child's own resource usage,
    from ``wait4``), the one-minute load average when it started and ended (``load``), the JSON
    object on the last line of its output when there is one, and with ``keep_output`` its whole
    output (``output``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        load0 = load_average()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        # only the ends of the output: on Linux a child's peak RSS includes its parent's high-water mark,
        # so reading `irsa access` at 12,800 roles (hundreds of MB) here would inflate every later figure
        stdout = _read(out, None if keep_output else TAIL_BYTES)
        stderr = _read(err, TAIL_BYTES)
    load = [load0, load_average()]
    if code != 0 and wall >= timeout:
        return {"status": "timeout", "reason": f"no result within {timeout:.0f} s", "load": load}
    result: dict[str, Any] = {
        "status": "ok" if code == 0 else "error",
        "load": load,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
    }
    if code != 0:
        result["reason"] = (stderr.strip().splitlines() or [f"exit {code}"])[-1]
    if keep_output:
        result["output"] = stdout
    lines = stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            result["child"] = json.loads(lines[-1])
    return result


def _read(file: Any, tail: int | None) -> str:
    """The text of ``file`` (a temporary file just written), only its last ``tail`` bytes when given."""
    size = file.seek(0, os.SEEK_END)
    file.seek(0 if tail is None else max(0, size - tail))
    return str(file.read().decode(errors="replace"))


def who_fresh(snapshot: Path, target: str) -> dict[str, Any]:
    """Load, build and ask who can read ``target``, in this (fresh) process: the graph a reading query
    needs, without the edges that overwrite a value (``writes=False``, as ``irsa access`` builds it
    without the cache)."""
    from irsa_lib.access import who_can_read
    from irsa_lib.graph import build_graph
    from irsa_lib.snapshot import load_snapshot

    graph = build_graph(load_snapshot(snapshot), writes=False)
    return {"readers": len(list(who_can_read(graph, target)))}


def prepare(shape: str, roles: int, snapshot: Path) -> dict[str, Any]:
    """Write the shape's snapshot and choose the value the fresh-process query asks about (the first of
    ``stage.who_targets``: one someone can read). Run in a child process: a child's peak memory
    includes what its parent held when it started it, so the measuring process stays small."""
    from benchmarks.stage import who_targets
    from irsa_lib.graph import build_graph
    from irsa_lib.snapshot import save_snapshot

    snap = generate_shape(f"{shape}-{roles}")
    save_snapshot(snap, snapshot)
    return {"target": who_targets(snap, 1, graph=build_graph(snap))[0], "bytes": snapshot.stat().st_size}


def compile_sources() -> None:
    """Write the bytecode of ``irsa_lib`` as installing it does: an installed package starts from its
    ``.pyc`` files, while a checkout run where PYTHONDONTWRITEBYTECODE is set (this project's machine
    sets it) compiles every module again in every process, about 0.3 s of CPU time per command."""
    compileall.compile_dir(ROOT / "irsa_lib", quiet=1)


def run_shapes(shapes: Sequence[str], sizes: Sequence[int], workdir: Path, *, timeout: float) -> dict[str, Any]:
    """Measure every shape at every size; returns {shape: {roles: {measure: result}}}."""
    compile_sources()
    py = sys.executable
    out: dict[str, Any] = {}
    for shape in shapes:
        out[shape] = {}
        for roles in sizes:
            snap = workdir / f"shape-{shape}-{roles}.json"
            made = measure(
                [py, "-m", "benchmarks.shape_bench", "prepare", shape, str(roles), str(snap)], timeout=timeout
            )
            if not _ok(made) or "child" not in made:
                out[shape][str(roles)] = {"prepare": made}
                continue
            target = made["child"]["target"]
            res: dict[str, Any] = {"target": target, "bytes": made["child"]["bytes"]}
            res.update(commands(snap, timeout=timeout))
            res["who_fresh"] = measure(
                [py, "-m", "benchmarks.shape_bench", "who", "--snapshot", str(snap), "--target", target],
                timeout=timeout,
            )
            res["who"] = measure([py, "-m", "benchmarks.stage", "who", "--snapshot", str(snap)], timeout=timeout)
            res["pipeline"] = measure(
                [py, "-m", "benchmarks.stage", "pipeline", "--snapshot", str(snap)], timeout=timeout
            )
            out[shape][str(roles)] = res
            _log(shape, roles, res)
    return out


def commands(snapshot: Path, *, timeout: float) -> dict[str, dict[str, Any]]:
    """``irsa access`` then ``irsa findings`` as a user runs them, the graph cache on and empty at first
    (``access`` builds the graph and keeps it, ``findings`` starts from it), and each of them with the
    cache off (``*_nocache``: each builds the graph)."""
    py = sys.executable
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        on = {**os.environ, "IRSA_CACHE": "on", "IRSA_CACHE_DIR": cache}
        for command in ("access", "findings"):
            out[command] = measure([py, "-m", "irsa_lib.cli", command, str(snapshot)], timeout=timeout, env=on)
    off = {**os.environ, "IRSA_CACHE": "off"}
    for command in ("access", "findings"):
        cmd = [py, "-m", "irsa_lib.cli", command, str(snapshot)]
        out[f"{command}_nocache"] = measure(cmd, timeout=timeout, env=off)
    return out


def _log(shape: str, roles: int, res: dict[str, Any]) -> None:
    parts = []
    for k in ("access", "findings", "access_nocache", "findings_nocache", "who_fresh", "pipeline"):
        r = res[k]
        parts.append(f"{k} {r.get('wall', float('nan')):.1f}s/{r.get('cpu', float('nan')):.1f}cpu" if r["status"] == "ok"
                     else f"{k} {r['status']}")  # fmt: skip
    print(f"{shape:>15} {roles:>6}  " + "  ".join(parts) + f"  load {_loads(res)}", file=sys.stderr, flush=True)


# --- markdown --------------------------------------------------------------------------------------


def _ok(r: dict[str, Any] | None) -> bool:
    return bool(r) and r.get("status") == "ok"  # type: ignore[union-attr]


def _s(r: dict[str, Any] | None, key: str = "wall") -> str:
    if not _ok(r):
        return str((r or {}).get("status", "-"))
    assert r is not None
    v = float(r[key])
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s"


def _pair(res: dict[str, Any], key: str, suffix: str = "") -> float | None:
    """``irsa access`` + ``irsa findings`` (``suffix="_nocache"``: each with the graph cache off)."""
    a, f = res.get(f"access{suffix}"), res.get(f"findings{suffix}")
    return float(a[key]) + float(f[key]) if _ok(a) and _ok(f) else None  # type: ignore[index]


def _who_built(res: dict[str, Any]) -> dict[str, float] | None:
    w = res.get("who")
    child = (w or {}).get("child") or {}
    return child if _ok(w) and child.get("status") == "ok" else None


def _loads(res: dict[str, Any]) -> str:
    """The lowest and highest one-minute load average seen at the start and end of a size's runs."""
    seen = [x for r in res.values() if isinstance(r, dict) for x in r.get("load", ()) if not math.isnan(x)]
    return f"{min(seen):.1f}-{max(seen):.1f}" if seen else "-"


def _peak(res: dict[str, Any]) -> float | None:
    measured = ("access", "findings", "access_nocache", "findings_nocache", "who_fresh", "pipeline")
    peaks = [float(res[k]["peak_mib"]) for k in measured if _ok(res.get(k))]
    return max(peaks) if peaks else None


def shape_lines(shapes: dict[str, Any]) -> list[str]:
    """The per-shape tables and the budget table, as markdown lines."""
    if not shapes:
        return []
    out = [
        "## Organisation shapes",
        "",
        "`benchmarks/shapes.py`: one account and one cluster, one SecureString parameter and one service account "
        "per role (see its docstring for each shape). Each figure is a fresh process: wall time / CPU time "
        "(user + system). `irsa access` and `irsa findings` are the commands as a user runs them (interpreter "
        "start and imports included), one after the other with the graph cache on and empty at first: "
        "`access` builds the graph and keeps it, `findings` starts from it; *cache off*: the two again with "
        "`IRSA_CACHE=off`, each building the graph; who-can-read fresh = load + build (without the edges that overwrite a value, which no reading query follows) + one query in a new process; on a built "
        "graph = median of 7 queries, the first (which builds the query view) apart. Peak = the largest peak RSS "
        "of those processes and of load + build + table + findings in one process. Load average: the machine's "
        "one-minute load average at the start and end of each of those processes, lowest-highest.",
        "",
    ]
    for shape, sizes in shapes.items():
        out += [f"### {shape}", ""]
        out.append("| roles | `irsa access` | `irsa findings` | access + findings | access + findings, cache off | "
                   "who-can-read fresh | who-can-read built: median / first | peak | "
                   "× per doubling (access + findings, CPU) | load average |")  # fmt: skip
        out.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        prev: float | None = None
        prev_roles: int | None = None
        for roles, res in sizes.items():
            pair_w, pair_c = _pair(res, "wall"), _pair(res, "cpu")
            pair = f"{pair_w:.1f} s / {pair_c:.1f} s" if pair_w is not None and pair_c is not None else "-"
            off_w, off_c = _pair(res, "wall", "_nocache"), _pair(res, "cpu", "_nocache")
            off = f"{off_w:.1f} s / {off_c:.1f} s" if off_w is not None and off_c is not None else "-"
            w = _who_built(res)
            who = f"{w['seconds'] * 1000:.0f} ms / {w['first_seconds'] * 1000:.0f} ms" if w else "-"
            peak = _peak(res)
            growth = ""
            if pair_c is not None and prev is not None and prev_roles is not None:
                growth = f"×{(pair_c / prev) ** (1 / math.log2(int(roles) / prev_roles)):.2f}"
            prev, prev_roles = pair_c, int(roles)
            out.append(
                f"| {int(roles):,} | {_s(res.get('access'))} / {_s(res.get('access'), 'cpu')} | "
                f"{_s(res.get('findings'))} / {_s(res.get('findings'), 'cpu')} | {pair} | {off} | "
                f"{_s(res.get('who_fresh'))} / {_s(res.get('who_fresh'), 'cpu')} | {who} | "
                f"{'-' if peak is None else f'{peak:.0f} MiB'} | {growth} | {_loads(res)} |"
            )
        out.append("")
    out += budget_lines(shapes)
    return out


def budget_lines(shapes: dict[str, Any]) -> list[str]:
    """One row per shape: each budget of issue 19, the measured figure, and whether it holds, judged on
    wall time (as the issue states the budget) and on CPU time (what a shared machine inflates least)."""
    out = [
        "### Budget per shape (issue 19)",
        "",
        f"Targets: at {BUDGET_ROLES:,} roles `irsa access` + `irsa findings` ≤ {BUDGET_PAIR_S:.0f} s, who-can-read "
        f"≤ {WHO_BUILT_S} s on a built graph (slowest query, the first included) and ≤ {WHO_FRESH_S:.0f} s from a "
        f"fresh process; growth per doubling ≤ ×{DOUBLING} from the smallest to the largest size measured "
        f"(access + findings); peak memory ≤ {PEAK_GIB:.0f} GiB at the largest size. Wall time / CPU time; "
        "*met* judges wall time, *met on CPU time* the same targets on CPU time. Access + findings as a user "
        "runs them (the second starts from the graph the first kept); with the cache off, each building it, "
        "beside them (not judged).",
        "",
        "| shape | access + findings | cache off | who, built | who, fresh | growth per doubling | peak at largest | "
        "met | met on CPU time |",
        "|---|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for shape, sizes in shapes.items():
        res = sizes.get(str(BUDGET_ROLES))
        wall: list[bool] = []
        cpu: list[bool] = []
        pair = off = who = "-"
        fresh: dict[str, Any] | None = None
        if res is not None:
            off_w, off_c = _pair(res, "wall", "_nocache"), _pair(res, "cpu", "_nocache")
            if off_w is not None and off_c is not None:
                off = f"{off_w:.1f} s / {off_c:.1f} s"
            pair_w, pair_c = _pair(res, "wall"), _pair(res, "cpu")
            if pair_w is not None and pair_c is not None:
                pair = f"{pair_w:.1f} s / {pair_c:.1f} s"
                wall.append(pair_w <= BUDGET_PAIR_S)
                cpu.append(pair_c <= BUDGET_PAIR_S)
            w = _who_built(res)
            if w:  # timed inside the process with process-wide wall clock only
                slowest = max(w["max_seconds"], w["first_seconds"])
                who = f"{slowest * 1000:.0f} ms"
                wall.append(slowest <= WHO_BUILT_S)
                cpu.append(slowest <= WHO_BUILT_S)
            fresh = res.get("who_fresh")
            if _ok(fresh):
                assert fresh is not None
                wall.append(float(fresh["wall"]) <= WHO_FRESH_S)
                cpu.append(float(fresh["cpu"]) <= WHO_FRESH_S)
        keys = sorted(int(k) for k in sizes)
        growth = "-"
        first, last = sizes[str(keys[0])], sizes[str(keys[-1])]
        for key, checks in (("wall", wall), ("cpu", cpu)):
            a, b = _pair(first, key), _pair(last, key)
            if a and b and keys[-1] > keys[0]:
                per = (b / a) ** (1 / math.log2(keys[-1] / keys[0]))
                checks.append(per <= DOUBLING)
                growth = (growth if key == "cpu" else "") + f"×{per:.2f}" + (" / " if key == "wall" else "")
        if growth != "-":
            growth += f" ({keys[0]:,} → {keys[-1]:,})"
        peak = _peak(last)
        peak_s = "-" if peak is None else f"{peak / 1024:.2f} GiB at {keys[-1]:,}"
        if peak is not None:
            wall.append(peak / 1024 <= PEAK_GIB)
            cpu.append(peak / 1024 <= PEAK_GIB)
        complete = res is not None and len(wall) >= 5
        met = [("yes" if all(c) else "**no**") if complete else "not measured in full" for c in (wall, cpu)]
        out.append(
            f"| {shape} | {pair} | {off} | {who} | {_s(fresh)} / {_s(fresh, 'cpu')} | {growth} | {peak_s} | "
            f"{met[0]} | {met[1]} |"
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shape_bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("who", help="load, build and ask one who-can-read question (timed by the caller)")
    w.add_argument("--snapshot", type=Path, required=True)
    w.add_argument("--target", required=True)
    p = sub.add_parser("prepare", help="write a shape's snapshot and print the value to ask about")
    p.add_argument("shape", choices=list(SHAPES))
    p.add_argument("roles", type=int)
    p.add_argument("snapshot", type=Path)
    r = sub.add_parser("run", help="measure shapes and print the markdown")
    r.add_argument("--shapes", default=",".join(SHAPES))
    r.add_argument("--sizes", default=",".join(map(str, SIZES)))
    r.add_argument("--workdir", type=Path, default=ROOT / "reports" / "bench")
    r.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    if args.command == "who":
        print(json.dumps(who_fresh(args.snapshot, args.target)))
        return 0
    if args.command == "prepare":
        print(json.dumps(prepare(args.shape, args.roles, args.snapshot)))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    results = run_shapes(shapes, [int(x) for x in args.sizes.split(",")], args.workdir, timeout=args.timeout)
    (args.workdir / "shapes.json").write_text(json.dumps(results, indent=1) + "\n")
    print("\n".join(shape_lines(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
