"""How long headless Chromium takes to draw a graph HTML page (measured, never asserted).

The page is copied with a small script appended that hooks the vis-network ``network`` object pyvis
creates and records ``performance.now()`` (milliseconds since navigation start, so HTML parsing and
script evaluation are included) at the first ``afterDrawing`` event and when physics stabilises.
Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3 in,
fd 4 out), so nothing listens on a port and only the Python standard library is needed.

``python -m benchmarks.browser PAGE.html`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
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
  var b = window.__irsaBench = {hooked: null, firstDraw: null, stabilized: null, loaded: null,
                                nodes: null, edges: null};
  window.addEventListener("load", function () { b.loaded = performance.now(); });
  function hook() {
    if (typeof network === "undefined" || !network || !network.once) { return setTimeout(hook, 5); }
    b.hooked = performance.now();
    try { b.nodes = network.body.data.nodes.length; b.edges = network.body.data.edges.length; } catch (e) {}
    network.once("afterDrawing", function () { b.firstDraw = performance.now(); });
    network.once("stabilizationIterationsDone", function () { b.stabilized = b.stabilized || performance.now(); });
    network.once("stabilized", function () { b.stabilized = b.stabilized || performance.now(); });
  }
  hook();
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


def draw_time(page: Path, *, timeout: float = 60.0) -> dict[str, Any]:
    """Load ``page`` in headless Chromium and report when the graph was first drawn (ms)."""
    exe = chromium()
    if exe is None:
        return {"status": "not available", "reason": "chromium is not installed (apt-get install -y chromium)"}
    html = page.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="irsa-bench-") as tmp:
        copy = Path(tmp) / "page.html"
        idx = html.lower().rfind("</body>")
        copy.write_text(html[:idx] + HOOK + html[idx:] if idx >= 0 else html + HOOK, encoding="utf-8")
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
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=wire, close_fds=False
        )
        os.close(to_child_r)
        os.close(from_child_w)
        try:
            cdp = _Pipe(proc, to_child_w, from_child_r)
            version = cdp.call("Browser.getVersion").get("product")
            target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            cdp.call("Page.enable", session=session)
            started = time.perf_counter()
            cdp.call("Page.navigate", {"url": copy.as_uri()}, session=session)
            state: dict[str, Any] = {}
            while time.perf_counter() - started < timeout:
                res = cdp.call(
                    "Runtime.evaluate",
                    {"expression": "JSON.stringify(window.__irsaBench || null)", "returnByValue": True},
                    session=session,
                )
                state = json.loads(res.get("result", {}).get("value") or "null") or {}
                if state.get("firstDraw") is not None and (state.get("stabilized") is not None or
                                                           time.perf_counter() - started > 2 * state["firstDraw"] / 1000 + 5):  # fmt: skip
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
    drawn = state.get("firstDraw")
    return {
        "status": "ok" if drawn is not None else "timeout",
        "browser": version,
        "bytes": page.stat().st_size,
        "first_draw_s": None if drawn is None else drawn / 1000,
        "stabilized_s": None if state.get("stabilized") is None else state["stabilized"] / 1000,
        "load_event_s": None if state.get("loaded") is None else state["loaded"] / 1000,
        "nodes": state.get("nodes"),
        "edges": state.get("edges"),
        "hooked": state.get("hooked") is not None,
        "wall_s": wall,
        "timeout_s": timeout,
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
