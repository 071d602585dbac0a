"""A short description of the machine a benchmark ran on (cores, CPU, memory, Python, load)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def _cpuinfo_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def describe() -> dict[str, Any]:
    """Cores usable by this process, CPU model, total memory, Python and OS, and the load average now."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": usable,
        "cpu": _cpuinfo_model(),
        "memory_gib": _mem_total_gib(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
