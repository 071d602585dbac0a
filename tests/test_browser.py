"""The HTML views in a real browser: the graph canvas draws, and nothing is fetched from elsewhere.

Runs headless Chromium from Debian (``apt-get install -y chromium``; ``.ci/run`` installs it).
See ``tests/browser_support.py`` for how requests are recorded and pixels decoded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from irsa_lib.render.graph_html import NODE_STYLES, render_trust_graph
from tests.browser_support import CHROMIUM, SKIP_REASON, decode_png, leaving_requests, load_page, near, saturated
from tests.render_fixtures import demo_like_graph

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)]

ROLE_ORANGE = NODE_STYLES["iam-role"].color
PARAM_GREEN = NODE_STYLES["ssm-parameter"].color


def without_drawing(page: Path) -> Path:
    """The same page with the call that draws the network removed: everything but the canvas."""
    text = page.read_text(encoding="utf-8")
    assert text.count("drawGraph();") == 1
    control = page.with_name(page.stem + "-undrawn.html")
    control.write_text(text.replace("drawGraph();", ""), encoding="utf-8")
    return control


def assert_graph_drew(page: Path, work: Path, *, height: int = 900, min_pixels: int = 400) -> None:
    """The canvas drew nodes: many more node-coloured pixels than on the same page left undrawn.

    Undrawn, only the static legend (one 11 px swatch per type) shows those colours, so the
    difference is what vis-network painted on the canvas.
    """
    on = load_page(page, work, name=page.stem, height=height)
    off = load_page(without_drawing(page), work, name=page.stem + "-undrawn", height=height)
    assert leaving_requests(on.requests) == []
    shot_on, shot_off = decode_png(on.screenshot.read_bytes()), decode_png(off.screenshot.read_bytes())
    for colour in (ROLE_ORANGE, PARAM_GREEN):
        drawn = shot_on.count(near(colour)) - shot_off.count(near(colour))
        assert drawn > min_pixels, f"{page.name}: {colour}: only {drawn} more pixels when drawn"
    assert shot_on.count(saturated) > shot_off.count(saturated) + 2000


def test_trust_graph_draws_offline(tmp_path: Path) -> None:
    page = tmp_path / "graph.html"
    page.write_text(render_trust_graph(demo_like_graph()), encoding="utf-8")
    assert_graph_drew(page, tmp_path)


def test_network_check_detects_external_requests(tmp_path: Path) -> None:
    """The control: a page that does fetch from other hosts is caught (so the checks above can fail)."""
    page = tmp_path / "external.html"
    page.write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<script src="http://203.0.113.7/y.js"></script></head>'
        '<body><img src="https://img.example.org/a.png"><p>hello</p></body></html>',
        encoding="utf-8",
    )
    load = load_page(page, tmp_path, name="external")
    assert sorted(leaving_requests(load.requests)) == [
        "http://203.0.113.7/y.js",
        "https://cdn.example.com/x.css",
        "https://img.example.org/a.png",
    ]


def test_blank_page_has_no_drawing(tmp_path: Path) -> None:
    """The pixel check itself: a page with no graph has no node-coloured pixels."""
    page = tmp_path / "blank.html"
    page.write_text("<html><body><p>nothing drawn here</p></body></html>", encoding="utf-8")
    shot = decode_png(load_page(page, tmp_path, name="blank").screenshot.read_bytes())
    assert shot.count(near(ROLE_ORANGE)) == 0 and shot.count(saturated) == 0


def test_overview_of_an_organisation_draws_offline(tmp_path: Path) -> None:
    """The default page of a graph too large to draw node by node: the overview of its riskiest chains."""
    from benchmarks.synthetic import generate
    from irsa_lib.analysis import analyse

    a = analyse(generate("tiny", seed=0))
    page = tmp_path / "overview.html"
    page.write_text(render_trust_graph(a.graph, findings=a.findings, rows=a.rows), encoding="utf-8")
    assert "overview: the riskiest chains" in page.read_text(encoding="utf-8")
    # below its notices; a wide picture fitted to the frame draws its few roles small
    assert_graph_drew(page, tmp_path, height=1300, min_pixels=100)
