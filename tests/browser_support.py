"""Headless Chromium for the browser tests: screenshots, the requests a page made, PNG pixels.

How "no request left 127.0.0.1" is established: Chromium runs with
``--host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"`` (no host name resolves, so nothing
*can* leave) and ``--log-net-log``, which records every URL request the network stack starts. The
page's own requests are the ``URL_REQUEST_START_JOB`` events whose initiator is not the browser
itself (Chromium's own background fetches, such as component updates, carry the initiator
``"not an origin"`` and are not the page's doing). Every page request must be to ``file:``,
``data:``, ``blob:`` or 127.0.0.1. A control page with an external stylesheet, script and image
proves the check sees such requests (``test_network_check_detects_external_requests``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = shutil.which("chromium")
SKIP_REASON = "chromium is not installed (CI installs it: apt-get install -y chromium)"

Pixel = Callable[[tuple[int, int, int]], bool]
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome", "chrome-error"}


@dataclass(frozen=True)
class PageLoad:
    screenshot: Path
    requests: tuple[str, ...]
    """URLs the page requested (browser-internal requests excluded)."""


def _chromium(work: Path, name: str, budget_ms: int) -> list[str]:
    """Headless Chromium that cannot resolve any host but 127.0.0.1 and logs every request it starts."""
    assert CHROMIUM, SKIP_REASON
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={work / (name + '.profile')}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--log-net-log={work / (name + '.netlog.json')}",
        f"--virtual-time-budget={budget_ms}",
    ]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    # the timeout only stops a hung browser; nothing is asserted about time
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


def load_page(
    page: Path,
    work: Path,
    *,
    name: str = "shot",
    width: int = 1280,
    height: int = 900,
    budget_ms: int = 8000,
) -> PageLoad:
    """Open ``page`` from file:// in headless Chromium, screenshot it and record its requests."""
    shot = work / f"{name}.png"
    args = [*_chromium(work, name, budget_ms), f"--window-size={width},{height}", f"--screenshot={shot}"]
    _run([*args, page.resolve().as_uri()])
    if not shot.exists():
        raise AssertionError(f"chromium wrote no screenshot of {page}")
    return PageLoad(screenshot=shot, requests=page_requests(work / f"{name}.netlog.json"))


@dataclass(frozen=True)
class PageDom:
    dom: str
    """The main document serialised after its scripts ran (``--dump-dom``)."""
    requests: tuple[str, ...]


def load_dom(page: Path, work: Path, *, name: str = "dom", budget_ms: int = 8000) -> PageDom:
    """Open ``page`` in headless Chromium, let its scripts run, and return its DOM and the requests it made."""
    proc = _run([*_chromium(work, name, budget_ms), "--dump-dom", page.resolve().as_uri()])
    return PageDom(dom=proc.stdout, requests=page_requests(work / f"{name}.netlog.json"))


def run_in_page(
    page: Path, work: Path, script: str, *, name: str = "probe", budget_ms: int = 60000, fragment: str = ""
) -> PageAnswer:
    """Open a copy of ``page`` (in its own folder, so its side files resolve) with ``script`` appended,
    in headless Chromium, at ``#fragment`` if given; ``script`` puts its answer as JSON text into
    ``<pre id="probe">``. Returns that answer and the requests the page made. The script runs in the
    real page: it waits for what it needs (``await`` is allowed; it is wrapped in an async function)."""
    assert CHROMIUM, SKIP_REASON
    probe = page.with_name(f"{page.stem}.{name}.html")
    body = (
        '<pre id="probe"></pre><script>(async () => { const out = document.getElementById("probe");'
        f" try {{ {script} }} catch (e) {{ out.textContent = JSON.stringify({{error: String(e)}}); }} }})();</script>"
    )
    probe.write_text(page.read_text(encoding="utf-8") + body, encoding="utf-8")
    url = probe.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    proc = _run([*_chromium(work, name, budget_ms), "--window-size=1400,1000", "--dump-dom", url])
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.DOTALL)
    text = html.unescape(match.group(1)) if match else ""
    if not text:
        raise AssertionError(f"the page's probe gave no answer: {proc.stdout[-1500:]}")
    return PageAnswer(answer=json.loads(text), requests=page_requests(work / f"{name}.netlog.json"))


@dataclass(frozen=True)
class PageAnswer:
    answer: Any
    requests: tuple[str, ...]


def page_requests(net_log: Path) -> tuple[str, ...]:
    """URLs of the requests a page started, from a Chromium net log (browser-internal ones excluded)."""
    data = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in data["events"]:
        params = event.get("params") or {}
        if event.get("type") == start_job and "url" in params and params.get("initiator") != "not an origin":
            urls.append(str(params["url"]))
    return tuple(urls)


def leaving_requests(requests: tuple[str, ...]) -> list[str]:
    """The requests that would leave this machine (anything but local schemes and 127.0.0.1)."""
    out = []
    for url in requests:
        parsed = urlparse(url)
        if parsed.scheme in LOCAL_SCHEMES or parsed.hostname == "127.0.0.1":
            continue
        out.append(url)
    return out


# ---------------------------------------------------------------- PNG


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    pixels: list[tuple[int, int, int]]
    """Row-major RGB."""

    def count(self, predicate: Pixel, *, top: int = 0) -> int:
        """How many pixels from row ``top`` down satisfy ``predicate(rgb)``."""
        return sum(1 for p in self.pixels[top * self.width :] if predicate(p))


def decode_png(data: bytes) -> Image:
    """A minimal PNG decoder for Chromium screenshots: 8-bit RGB/RGBA, not interlaced."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    width = height = bit_depth = color_type = interlace = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, bit_depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if bit_depth != 8 or color_type not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {bit_depth}, colour type {color_type}, interlace {interlace}")
    bpp = 3 if color_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        pixels.extend((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, bpp))
        prev = line
    return Image(width, height, pixels)


def near(color: str, tolerance: int = 6) -> Pixel:
    """A predicate: the pixel is within ``tolerance`` of the ``#rrggbb`` colour on every channel."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))

    def pred(p: tuple[int, int, int]) -> bool:
        return abs(p[0] - r) <= tolerance and abs(p[1] - g) <= tolerance and abs(p[2] - b) <= tolerance

    return pred


def saturated(p: tuple[int, int, int]) -> bool:
    """A coloured (not white, grey or black) pixel."""
    return max(p) - min(p) > 60
