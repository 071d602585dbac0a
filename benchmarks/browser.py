"""How long headless Chromium takes to draw a graph HTML page (measured, never asserted).

The page is copied with a script inserted at the start of ``<body>``: after the vis-network library
(in ``<head>``) has loaded, before pyvis's inline script builds the network. It wraps
``vis.Network`` so the instance's ``afterDrawing`` and stabilisation listeners are registered from
inside the constructor (when it first calls ``setOptions``, before any data is loaded), so the
first frame cannot be missed whether it is drawn in the constructor or, as vis-network does, on a
later animation frame. Times are ``performance.now()``: milliseconds since navigation start, so
HTML parsing, script evaluation and layout are included. As a fallback (no ``vis.Network`` to wrap,
or no event seen), the first animation frame after which a ``<canvas>`` holds a non-transparent
pixel is taken, and ``draw_method`` says which produced the figure; after an ``afterDrawing`` the
canvas is checked once (``canvas_painted``). With physics off the layout is static and there is no
stabilisation to wait for (``physics: false``); with physics on the run waits for it.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3 in,
fd 4 out), so nothing listens on a port and only the Python standard library is needed.

``python -m benchmarks.browser PAGE.html`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOOK = """
<script>
(function () {
  // Installed before the page's own scripts build the network: see the module docstring.
  var b = window.__irsaBench = {hook: null, firstDraw: null, method: null, drawnInConstructor: null,
                                constructed: null, canvasPainted: null, physics: null,
                                stabilized: null, loaded: null, nodes: null, edges: null};
  var building = false;
  window.addEventListener("load", function () { b.loaded = performance.now(); });

  function watch(network, where) {
    if (!network || !network.once || network.__irsaBenchWatched) { return; }
    network.__irsaBenchWatched = true;
    b.hook = where;
    network.once("afterDrawing", function () {
      if (b.firstDraw !== null) { return; }
      b.firstDraw = performance.now();
      b.method = "afterDrawing";
      b.drawnInConstructor = building;
    });
    var settled = function () { b.stabilized = b.stabilized === null ? performance.now() : b.stabilized; };
    network.once("stabilizationIterationsDone", settled);
    network.once("stabilized", settled);
  }

  function describe(network) {
    try { b.nodes = network.body.data.nodes.length; b.edges = network.body.data.edges.length; } catch (e) {}
    try { b.physics = !!network.physics.physicsEnabled; } catch (e) {}
  }

  function install() {
    var Network = window.vis && window.vis.Network;
    if (typeof Network !== "function") { return false; }
    // the constructor calls setOptions before it loads data or can draw: the earliest hold on the instance
    var setOptions = Network.prototype.setOptions;
    Network.prototype.setOptions = function () {
      if (building) { watch(this, "constructor"); }
      return setOptions.apply(this, arguments);
    };
    var Wrapped = function (container, data, options) {
      building = true;
      var network;
      try { network = new Network(container, data, options); } finally { building = false; }
      b.constructed = performance.now();
      watch(network, "after constructor");
      describe(network);
      return network;
    };
    Wrapped.prototype = Network.prototype;
    for (var key in Network) {
      if (Object.prototype.hasOwnProperty.call(Network, key)) { Wrapped[key] = Network[key]; }
    }
    window.vis.Network = Wrapped;
    return true;
  }

  function late() {  // vis was not loaded before this script: fall back to the page's global `network`
    if (b.constructed !== null) { return; }
    if (typeof network === "undefined" || !network || !network.once) { return setTimeout(late, 5); }
    b.constructed = performance.now();
    watch(network, "late");
    describe(network);
  }

  function painted() {  // does any canvas on the page hold a non-transparent pixel?
    var canvases = document.getElementsByTagName("canvas");
    for (var i = 0; i < canvases.length; i++) {
      var c = canvases[i];
      if (!c.width || !c.height) { continue; }
      try {
        var px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        for (var j = 3; j < px.length; j += 4) { if (px[j] !== 0) { return true; } }
      } catch (e) {}
    }
    return false;
  }

  function frame() {
    // after this frame's animation callbacks (vis-network draws in one), so the check never delays a draw
    setTimeout(function () {
      if (b.firstDraw !== null) {
        b.canvasPainted = painted();  // confirms the event drew something
      } else if (painted()) {  // no afterDrawing seen (yet): the pixels decide
        b.firstDraw = performance.now();
        b.canvasPainted = true;
        b.method = "canvas pixels";
      }
      if (b.canvasPainted === null) { requestAnimationFrame(frame); }
    }, 0);
  }

  if (!install()) { late(); }
  requestAnimationFrame(frame);
})();
</script>
"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Pipe:
    """DevTools protocol over Chromium's debugging pipe: NUL-terminated JSON messages."""

    def __init__(self, proc: subprocess.Popen[bytes], write_fd: int, read_fd: int) -> None:
        self.proc, self.write_fd, self.read_fd = proc, write_fd, read_fd
        self.next_id = 0
        self.buffer = b""

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the debugging pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        data: dict[str, Any] = json.loads(raw)
        return data


_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def with_hook(html: str) -> str:
    """``html`` with ``HOOK`` as the first thing in ``<body>`` (at the very start if there is none)."""
    m = _BODY.search(html)
    return html[: m.end()] + HOOK + html[m.end() :] if m else HOOK + html


def _seconds(ms: Any) -> float | None:
    return None if ms is None else float(ms) / 1000


def _settled(state: dict[str, Any]) -> bool:
    """Everything is seen: load event, first draw (checked on the canvas), and with physics on, the settling."""
    drawn = state.get("firstDraw") is not None and state.get("canvasPainted") is not None
    settled = state.get("physics") is not True or state.get("stabilized") is not None  # unknown: not waited for
    return drawn and state.get("loaded") is not None and settled


def draw_time(page: Path, *, timeout: float = 60.0) -> dict[str, Any]:
    """Load ``page`` in headless Chromium and report when the graph was first drawn (seconds).

    ``first_draw_s`` is the time from navigation start to the first frame drawn (``draw_method``:
    ``"afterDrawing"`` or ``"canvas pixels"``); ``stabilized_s`` is when physics settled, ``None``
    with ``physics`` false (nothing to settle) or when it did not settle within ``timeout``.
    """
    exe = chromium()
    if exe is None:
        return {"status": "not available", "reason": "chromium is not installed (apt-get install -y chromium)"}
    html = page.read_text(encoding="utf-8")
    # a Chromium child may still be writing its profile while the directory is removed
    with tempfile.TemporaryDirectory(prefix="irsa-bench-", ignore_cleanup_errors=True) as tmp:
        copy = Path(tmp) / "page.html"
        copy.write_text(with_hook(html), encoding="utf-8")
        version, state, wall = _poll(
            exe, copy.as_uri(), Path(tmp), "JSON.stringify(window.__irsaBench || null)", _settled, timeout
        )
    drawn = state.get("firstDraw")
    result: dict[str, Any] = {
        "status": "ok" if drawn is not None else "timeout",
        "browser": version,
        "bytes": page.stat().st_size,
        "first_draw_s": _seconds(drawn),
        "draw_method": state.get("method"),
        "canvas_painted": state.get("canvasPainted"),
        "physics": state.get("physics"),
        "stabilized_s": _seconds(state.get("stabilized")),
        "constructed_s": _seconds(state.get("constructed")),
        "load_event_s": _seconds(state.get("loaded")),
        "nodes": state.get("nodes"),
        "edges": state.get("edges"),
        "hooked": state.get("hook") is not None,
        "hook": state.get("hook"),
        "drawn_in_constructor": state.get("drawnInConstructor"),
        "wall_s": wall,
        "timeout_s": timeout,
    }
    if drawn is None:
        result["reason"] = (
            f"no frame drawn within {timeout:.0f} s"
            if result["hooked"]
            else f"no vis-network instance was created within {timeout:.0f} s"
        )
    return result


def _poll(
    exe: str, url: str, tmp: Path, expression: str, done: Any, timeout: float
) -> tuple[str | None, dict[str, Any], float]:
    """Open ``url`` in headless Chromium over the DevTools pipe and evaluate ``expression`` (a JSON
    string) every 50 ms until ``done(state)`` or ``timeout``: (browser version, last state, seconds)."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()

    def wire() -> None:  # runs in the child before exec: fd 3 = commands in, fd 4 = replies out
        r, w = os.dup(to_child_r), os.dup(from_child_w)  # the pipe ends may themselves be fds 3/4
        os.dup2(r, 3)
        os.dup2(w, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
           f"--user-data-dir={tmp}/profile", "--window-size=1400,900", "about:blank"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=wire, close_fds=False)
    os.close(to_child_r)
    os.close(from_child_w)
    try:
        cdp = _Pipe(proc, to_child_w, from_child_r)
        version = cdp.call("Browser.getVersion").get("product")
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        cdp.call("Page.enable", session=session)
        started = time.perf_counter()
        cdp.call("Page.navigate", {"url": url}, session=session)
        state: dict[str, Any] = {}
        while time.perf_counter() - started < timeout:
            res = cdp.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
            state = json.loads(res.get("result", {}).get("value") or "null") or {}
            if done(state):
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(to_child_w)
        os.close(from_child_r)
    return version, state, wall


_PAINT = """JSON.stringify({
  paint: (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime ?? null,
  loaded: (performance.getEntriesByType("navigation")[0] || {}).loadEventEnd || null,
  ready: (document.getElementById("irsa-app") || {dataset: {}}).dataset.ready || null,
  readyAt: window.__irsaReadyAt ?? null,
  marks: Object.fromEntries(performance.getEntriesByType("mark").filter(m => m.name.startsWith("irsa:"))
                            .map(m => [m.name.slice(5), m.startTime])),
})"""


def paint_time(page: Path, *, timeout: float = 120.0) -> dict[str, Any]:
    """Open the access report ``page`` where it lies (its data file beside it) and report its first
    contentful paint and when its interactive tables were ready (seconds since navigation start)."""
    exe = chromium()
    if exe is None:
        return {"status": "not available", "reason": "chromium is not installed (apt-get install -y chromium)"}
    # a Chromium child may still be writing its profile while the directory is removed
    with tempfile.TemporaryDirectory(prefix="irsa-bench-", ignore_cleanup_errors=True) as tmp:
        version, state, wall = _poll(
            exe, page.resolve().as_uri(), Path(tmp), _PAINT, lambda s: s.get("ready") is not None, timeout
        )
    return {
        "status": "ok" if state.get("paint") is not None else "timeout",
        "browser": version,
        "first_paint_s": _seconds(state.get("paint")),
        "load_event_s": _seconds(state.get("loaded")),
        "tables_ready": state.get("ready"),
        "tables_ready_s": _seconds(state.get("readyAt")),
        "marks_s": {k: _seconds(v) for k, v in (state.get("marks") or {}).items()},
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.browser PAGE.html", file=sys.stderr)
        return 2
    print(json.dumps(draw_time(Path(args[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
