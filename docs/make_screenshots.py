"""Regenerate the README screenshots: ``docs/report.png`` and ``docs/graph.png`` from the embedded demo.

Usage (from the repository root, headless Chromium installed)::

    .venv/bin/python docs/make_screenshots.py

Runs the demo (local AWS endpoint + shipped manifests), the access report (papermill + nbconvert)
and the trust graph restricted to paths that reach a secret, then screenshots both pages in
headless Chromium at a reduced scale so the PNGs stay small. Chromium runs with every host name
unresolvable, so nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # this checkout's irsa_lib, whatever is installed


def screenshot(page: Path, png: Path, *, width: int, height: int, scale: float, fragment: str = "") -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=8000",
                f"--force-device-scale-factor={scale}",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                page.resolve().as_uri() + (f"#{fragment}" if fragment else ""),
            ],
            check=True,
            capture_output=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="directory for report.png and graph.png")
    args = parser.parse_args(argv)

    from irsa_lib.demo import run_demo
    from irsa_lib.render.graph_html import Focus, render_trust_graph
    from irsa_lib.render.notebooks import run_report
    from irsa_lib.analysis import analyse

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo = run_demo(work / "demo")
        report = run_report(work / "report", {"snapshot_path": str(demo.snapshot_path)})
        analysis = analyse(demo.snapshot)
        graph = work / "graph.html"
        graph.write_text(
            render_trust_graph(
                analysis.graph,
                focus=Focus(secrets_only=True),
                findings=analysis.findings,
                title="Trust graph: demo, paths that reach a secret",
            ),
            encoding="utf-8",
        )
        args.out.mkdir(parents=True, exist_ok=True)
        screenshot(report.html, args.out / "report.png", width=1400, height=1500, scale=0.6)
        screenshot(graph, args.out / "graph.png", width=1600, height=1000, scale=0.6)
    for name in ("report.png", "graph.png"):
        path = args.out / name
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
