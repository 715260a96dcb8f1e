"""The machine a benchmark ran on, for the report."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """Kernel, architecture, cores, memory and Python version of this machine."""
    memory = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {memory} RAM, "
        f"Python {platform.python_version()}"
    )
