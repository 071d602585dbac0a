"""The benchmark harness itself: call counting, endpoint seeding, the results table, the draw timer."""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from benchmarks import shape_bench
from benchmarks.browser import HOOK, chromium, draw_time, with_hook
from benchmarks.endpoint import CountingApp, operation_of
from benchmarks.run import render_markdown
from benchmarks.synthetic import MANAGEMENT_ACCOUNT, generate, seed_endpoint
from irsa_lib.graph import build_graph
from irsa_lib.render.graph_html import render_trust_graph

AUTH = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=x"


@pytest.mark.parametrize(
    ("environ", "body", "expected"),
    [
        ({"HTTP_AUTHORIZATION": AUTH.format(svc="ssm"), "HTTP_X_AMZ_TARGET": "AmazonSSM.DescribeParameters"}, b"",
         "ssm:DescribeParameters"),
        ({"HTTP_AUTHORIZATION": AUTH.format(svc="iam")}, b"Action=GetAccountAuthorizationDetails&Version=2010-05-08",
         "iam:GetAccountAuthorizationDetails"),
        ({"HTTP_AUTHORIZATION": AUTH.format(svc="sts"), "QUERY_STRING": "Action=GetCallerIdentity"}, b"",
         "sts:GetCallerIdentity"),
        ({"HTTP_AUTHORIZATION": AUTH.format(svc="eks"), "REQUEST_METHOD": "GET", "PATH_INFO": "/clusters"}, b"",
         "eks:GET /clusters"),
    ],
)  # fmt: skip
def test_operation_of_each_protocol(environ: dict[str, Any], body: bytes, expected: str) -> None:
    assert operation_of(environ, body) == expected


@pytest.fixture(scope="module")
def counting_endpoint() -> Iterator[tuple[str, CountingApp]]:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = CountingApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield url, app
    # moto's backends are process-wide: leave nothing behind for other tests' endpoints in this process
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b""), timeout=30)
    server.shutdown()


@pytest.mark.integration
def test_seed_endpoint_writes_account_zero_and_every_call_is_counted(
    counting_endpoint: tuple[str, CountingApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, app = counting_endpoint
    snap = generate("tiny")
    roles = [r for r in snap.roles if r.account_id == MANAGEMENT_ACCOUNT]
    params = [p for p in snap.ssm_parameters if p.account_id == MANAGEMENT_ACCOUNT]
    secrets = [s for s in snap.secrets if s.account_id == MANAGEMENT_ACCOUNT]
    report = seed_endpoint(url, "tiny")
    assert report.counts["roles"] == len(roles) and report.counts["ssm_parameters"] == len(params)
    assert app.calls["iam:CreateRole"] == len(roles)
    assert app.calls["ssm:PutParameter"] == len(params)
    assert app.calls["secretsmanager:CreateSecret"] == len(secrets)
    assert not {"ssm:GetParameter", "secretsmanager:GetSecretValue", "kms:Decrypt"} & set(app.calls)
    # what the endpoint holds is what the snapshot says (read back through boto3)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ssm = boto3.client("ssm", endpoint_url=url, region_name="us-east-1")
    described = {
        p["Name"]: p["Type"] for page in ssm.get_paginator("describe_parameters").paginate() for p in page["Parameters"]
    }
    assert described == {p.name: p.type for p in params}
    with urllib.request.urlopen(f"{url}/__bench/calls") as resp:
        assert b"ssm:PutParameter" in resp.read()


def _stage(seconds: float, mib: float = 100.0, **extra: Any) -> dict[str, Any]:
    return {"status": "ok", "seconds": seconds, "peak_rss_mib": mib, **extra}


def test_results_table_growth_budget_and_missing_stages() -> None:
    na = {"status": "not available", "reason": "irsa_lib.graph is not present"}
    results = {
        "started": "2026-01-01T00:00:00+00:00",
        "seed": 0,
        "machine": {"nproc": 2, "cpu": "Test CPU", "memory_gib": 8.0, "python": "CPython 3.11.7", "os": "Linux",
                    "load_average": [1.0, 1.0, 1.0]},
        "sizes": {
            "medium": {"generate": _stage(0.1, bytes=10_000_000), "load": _stage(2.0), "build": na,
                       "pipeline": _stage(20.0, parts={"load": 2.0})},
            "large": {"generate": _stage(0.2, bytes=20_000_000), "load": _stage(5.0), "build": na,
                      "pipeline": _stage(75.0, 5000.0, parts={"load": 5.0}),
                      "who": _stage(0.004, max_seconds=0.02)},
        },
    }  # fmt: skip
    md = render_markdown(results)
    assert "| snapshot load (JSON file) | 2.00 s | 100 | 5.00 s | 100 | ×2.50 |" in md
    assert "| graph build | n/a |  | n/a |  |  |" in md
    assert "| load + build + table + findings | < 60 s | 75.0 s (load 5.0 s) | **no** |" in md
    assert "| peak memory of that process | < 4 GiB | 4.88 GiB | **no** |" in md
    assert "| who can read X | < 1 s | median 4 ms, max 20 ms | yes |" in md
    assert "| growth medium → large | ≤ ×2.2 per doubling | ×3.75 | **no** |" in md
    assert "2 cores (nproc), Test CPU" in md


def test_results_browser_rows_name_the_method_and_the_physics() -> None:
    base = {"started": "2026-01-01T00:00:00+00:00", "seed": 0, "sizes": {"large": {}},
            "machine": {"nproc": 2, "cpu": "Test CPU", "memory_gib": 8.0, "python": "CPython 3.11.7", "os": "Linux",
                        "load_average": [1.0, 1.0, 1.0]}}  # fmt: skip
    drawn = {"size": "large", "status": "ok", "browser": "Chrome/1", "bytes": 900_000, "first_draw_s": 0.42,
             "draw_method": "afterDrawing", "physics": False, "stabilized_s": None, "load_event_s": 0.5,
             "nodes": 14, "edges": 22, "timeout_s": 60.0}  # fmt: skip
    md = render_markdown({**base, "browser": drawn})
    assert "| drawn by headless Chromium | < 10 s | 0.4 s | yes |" in md
    assert ("Size large: 0.9 MB page, 14 nodes / 22 edges, load event 0.5 s, first draw 0.4 s (afterDrawing), "
            "physics off (static layout, nothing to stabilise) (Chrome/1).") in md  # fmt: skip
    by_pixels = {**drawn, "first_draw_s": 12.0, "draw_method": "canvas pixels", "physics": True, "stabilized_s": 30.0}
    md = render_markdown({**base, "browser": by_pixels})
    assert "| drawn by headless Chromium | < 10 s | 12.0 s (canvas pixels) | **no** |" in md
    assert "first draw 12.0 s (canvas pixels), physics stabilised 30.0 s" in md
    never = {**drawn, "status": "timeout", "first_draw_s": None, "draw_method": None, "physics": True,
             "load_event_s": None}  # fmt: skip
    md = render_markdown({**base, "browser": never})
    assert "| drawn by headless Chromium | < 10 s | not drawn within 60 s | **no** |" in md
    assert "load event not seen, first draw none within 60 s, physics on, not stabilised within 60 s" in md


def test_results_budget_draw_is_the_large_page_when_several_sizes_were_drawn() -> None:
    base = {"started": "2026-01-01T00:00:00+00:00", "seed": 0, "sizes": {"large": {}, "xlarge": {}},
            "machine": {"nproc": 2, "cpu": "Test CPU", "memory_gib": 8.0, "python": "CPython 3.11.7", "os": "Linux",
                        "load_average": [1.0, 1.0, 1.0]}}  # fmt: skip
    large = {"size": "large", "status": "ok", "browser": "Chrome/1", "bytes": 900_000, "first_draw_s": 0.42,
             "draw_method": "afterDrawing", "physics": False, "load_event_s": 0.5, "nodes": 14, "edges": 22,
             "timeout_s": 60.0}  # fmt: skip
    xlarge = {**large, "size": "xlarge", "first_draw_s": 11.0, "bytes": 2_000_000}
    md = render_markdown({**base, "browsers": [large, xlarge], "browser": xlarge})
    assert "| drawn by headless Chromium | < 10 s | 0.4 s | yes |" in md  # the budget is about the large size
    assert "- Size large: 0.9 MB page" in md and "- Size xlarge: 2.0 MB page" in md


needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed (apt-get install -y chromium)"
)


def _dataset_sizes(page: str) -> tuple[int, int]:
    """How many nodes and edges the page hands to vis-network (its two inline ``vis.DataSet`` literals)."""
    sizes = []
    for name in ("nodes", "edges"):
        m = re.search(rf"^\s*{name} = new vis\.DataSet\((\[.*\])\);\s*$", page, re.MULTILINE)
        assert m is not None, f"no {name} DataSet in the page"
        sizes.append(len(json.loads(m.group(1))))
    return sizes[0], sizes[1]


@pytest.fixture(scope="module")
def trust_graph_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default trust-graph page of the tiny synthetic organisation (as ``benchmarks.stage render`` writes it)."""
    page = tmp_path_factory.mktemp("draw") / "tiny-graph.html"
    page.write_text(render_trust_graph(build_graph(generate("tiny"))), encoding="utf-8")
    return page


def test_hook_runs_before_the_page_builds_its_network(trust_graph_page: Path) -> None:
    """The timer's script sits at the start of <body>: after vis-network is loaded, before drawGraph()."""
    hooked = with_hook(trust_graph_page.read_text(encoding="utf-8"))
    at = hooked.index("window.__irsaBench")
    assert hooked.index("vis-network") < at < hooked.index("new vis.Network(container, data, options)")
    assert with_hook("<p>no body</p>").startswith(HOOK)


@pytest.mark.browser
@needs_chromium
def test_draw_time_of_the_default_trust_graph_page(trust_graph_page: Path) -> None:
    """The page whose first frame the old timer missed (physics off: vis-network draws exactly once)."""
    nodes, edges = _dataset_sizes(trust_graph_page.read_text(encoding="utf-8"))
    assert nodes > 20 and edges > 20  # a real graph, not an empty view
    result = draw_time(trust_graph_page, timeout=120)
    assert result["status"] == "ok", result
    assert result["draw_method"] == "afterDrawing" and result["hook"] == "constructor", result
    assert result["first_draw_s"] is not None and result["first_draw_s"] > 0
    assert result["canvas_painted"] is True
    assert result["physics"] is False and result["stabilized_s"] is None
    assert (result["nodes"], result["edges"]) == (nodes, edges)
    assert result["bytes"] == trust_graph_page.stat().st_size


@pytest.mark.browser
@needs_chromium
def test_a_page_that_never_draws_reports_no_draw(trust_graph_page: Path, tmp_path: Path) -> None:
    """The control: the same page with the network never built gets no figure (so the one above can fail)."""
    text = trust_graph_page.read_text(encoding="utf-8")
    assert text.count("drawGraph();") == 1
    page = tmp_path / "undrawn.html"
    page.write_text(text.replace("drawGraph();", ""), encoding="utf-8")
    result = draw_time(page, timeout=5)
    assert result["status"] == "timeout" and result["first_draw_s"] is None, result
    assert result["hooked"] is False and "no vis-network instance" in result["reason"]


@pytest.mark.browser
@needs_chromium
def test_draw_time_falls_back_to_canvas_pixels(tmp_path: Path) -> None:
    """No vis-network on the page: the first frame after which a canvas holds a drawn pixel is the figure."""
    page = tmp_path / "canvas.html"
    page.write_text(
        '<!DOCTYPE html><html><body><canvas id="c" width="200" height="100"></canvas><script>'
        "requestAnimationFrame(function () { requestAnimationFrame(function () {"
        ' var x = document.getElementById("c").getContext("2d"); x.fillStyle = "#c00"; x.fillRect(10, 10, 50, 50);'
        " }); });</script></body></html>",
        encoding="utf-8",
    )
    result = draw_time(page, timeout=60)
    assert result["status"] == "ok", result
    assert result["draw_method"] == "canvas pixels" and result["hooked"] is False
    assert result["first_draw_s"] is not None and result["first_draw_s"] > 0


@pytest.mark.browser
@needs_chromium
def test_draw_time_of_a_small_vis_network_page(tmp_path: Path) -> None:
    """pyvis's defaults (physics on): the first draw and the stabilisation are both recorded."""
    from pyvis.network import Network

    net = Network(directed=True, cdn_resources="in_line")
    for i in range(3):
        net.add_node(i, label=f"n{i}")
    net.add_edge(0, 1)
    net.add_edge(1, 2)
    page = tmp_path / "g.html"
    page.write_text(net.generate_html(), encoding="utf-8")
    result = draw_time(page, timeout=60)
    assert result["status"] == "ok", result
    assert (result["nodes"], result["edges"]) == (3, 2)
    assert result["draw_method"] == "afterDrawing"
    assert result["first_draw_s"] is not None and result["first_draw_s"] > 0
    assert result["physics"] is True and result["stabilized_s"] is not None and result["stabilized_s"] > 0


def test_measure_reads_only_the_end_of_a_long_output(tmp_path: Path) -> None:
    # the measuring process keeps its own memory small (a child's peak RSS starts from its parent's
    # high-water mark): of a long output it reads the tail, where the result line is
    with (tmp_path / "out").open("w+b") as f:
        f.write(b"row\n" * 100_000 + b'{"n": 1}\n')
        tail = shape_bench._read(f, shape_bench.TAIL_BYTES)
        assert len(tail) == shape_bench.TAIL_BYTES and tail.endswith('{"n": 1}\n')
        assert shape_bench._read(f, None).count("row") == 100_000
    code = "import json\nfor i in range(20000): print('row', i)\nprint(json.dumps({'n': 1}))"
    res = shape_bench.measure([sys.executable, "-c", code], timeout=60)
    assert res["status"] == "ok" and res["child"] == {"n": 1} and "output" not in res
    kept = shape_bench.measure([sys.executable, "-c", code], timeout=60, keep_output=True)
    assert kept["output"].count("row") == 20000


def test_the_task_benchmark_runs_every_partition_in_a_child_of_its_own() -> None:
    """``org_bench tasks`` measures each cluster and rule task apart; together they give the
    partitioned analysis' rows, and a failing task is reported without stopping the rest."""
    from benchmarks.org_bench import _in_child, tasks
    from irsa_lib.partitioned import analyse_in_parts

    out = tasks("tiny", None, ["F08", "F30"])
    parts = analyse_in_parts(generate("tiny"), rules=["F08", "F30"])
    clusters = {k: v for k, v in out["tasks"].items() if k.startswith("cluster ")}
    assert sorted(clusters) == [f"cluster {c}" for c in parts.clusters]
    assert sum(v["result"] for v in clusters.values()) == parts.row_count
    assert out["tasks"]["rule F30"]["result"] == sum(f.rule == "F30" for f in parts.findings)
    assert all({"seconds", "peak_mib", "added_mib"} <= set(v) for v in out["tasks"].values())
    failed = _in_child(lambda: 1 / 0)
    assert failed["status"] == "error" and "ZeroDivisionError" in failed["reason"]
