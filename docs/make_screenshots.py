"""Regenerate the README screenshots: ``docs/report.png``, ``docs/graph.png``, ``docs/overview.png`` and
``docs/graph-wide.png`` at a realistic size.

Usage (from the repository root, headless Chromium installed)::

    .venv/bin/python docs/make_screenshots.py [--report DIR]

Generates the synthetic organisation ``small`` (500 service accounts, 6,250 values), runs the access
report on it (papermill + nbconvert), then screenshots the report's ranked summary, its focused
trust graph (each reader's chain to one value, the value's KMS key before it) and the standalone
trust graph's default page (the overview of the riskiest chains) in headless Chromium at a reduced
scale so the PNGs stay small; then the focused graph of a value read by 1,600 service accounts through
their own and assumed roles (the root-trust shape of ``benchmarks/shapes.py``). ``--report DIR`` screenshots a report already made by ``irsa report``
instead. Chromium runs with every host name unresolvable, so nothing is fetched from the network.
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


SCROLL_TO_GRAPH = """<script>
(async () => {
  const app = document.getElementById("irsa-app");
  for (let i = 0; i < 1200 && !app.dataset.ready; i++) await new Promise(r => setTimeout(r, 100));
  // show the focused graph alone: its title and frame first, everything else hidden
  const box = document.createElement("div");
  box.style.padding = "8px";
  box.append(document.getElementById("irsa-graph-title"), document.getElementById("irsa-graph"));
  for (const child of Array.from(document.body.children)) child.style.display = "none";
  document.body.prepend(box);
  window.irsaReport.network.redraw();
  window.irsaReport.network.fit();
})();
</script>"""


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
                "--virtual-time-budget=60000",
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
    parser.add_argument(
        "--size", default="small", help="synthetic organisation (benchmarks/synthetic.py) to report on; default small"
    )
    parser.add_argument("--report", type=Path, help="an existing report directory to screenshot instead")
    args = parser.parse_args(argv)

    from benchmarks.synthetic import generate
    from irsa_lib.notebooks import run_report
    from irsa_lib.snapshot import save_snapshot

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.report:
            html = args.report / "access_report.html"
        else:
            snapshot = save_snapshot(generate(args.size, seed=0), work / f"{args.size}.json")
            html = run_report(work / "report", {"snapshot_path": str(snapshot)}).html
        args.out.mkdir(parents=True, exist_ok=True)
        # the summary ranked by risk, then the focused graph of the value most read from outside its
        # namespace: each reader's chain to it, the value's KMS key before it
        screenshot(html, args.out / "report.png", width=1400, height=1700, scale=0.6)
        # a copy beside the data file that scrolls to the graph once the page has drawn it
        graph_page = work / "graph-view.html"
        shutil.copy(html.with_name("report_data.js"), work / "report_data.js")
        graph_page.write_text(html.read_text(encoding="utf-8") + SCROLL_TO_GRAPH, encoding="utf-8")
        screenshot(graph_page, args.out / "graph.png", width=1400, height=820, scale=0.6)
        # the standalone graph's default page: the overview of the riskiest chains
        screenshot(html.with_name("trust-graph.html"), args.out / "overview.png", width=1600, height=1150, scale=0.6)
        # a value read by 1,600 service accounts, each through its own role and the roles it assumes
        # (the root-trust shape of benchmarks/shapes.py): the focused graph counts the crowded nodes
        from benchmarks.shapes import root_trust

        wide = save_snapshot(root_trust(1600), work / "root-trust.json")
        wide_html = run_report(work / "wide", {"snapshot_path": str(wide)}).html
        wide_page = work / "wide" / "graph-view.html"
        wide_page.write_text(wide_html.read_text(encoding="utf-8") + SCROLL_TO_GRAPH, encoding="utf-8")
        screenshot(wide_page, args.out / "graph-wide.png", width=1400, height=700, scale=0.8)
    for name in ("report.png", "graph.png", "overview.png", "graph-wide.png"):
        path = args.out / name
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
