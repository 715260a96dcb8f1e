"""What a node leaves on the host after its processes stop: mounts, cgroups and shim processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The kubelet's pod cgroups (cgroupfs driver), in every hierarchy.
POD_CGROUP = "kubepods"


def mounts_under(folder: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[Path]:
    """Mount points inside `folder`, deepest first."""
    prefix = str(folder.resolve())
    points = []
    for line in mountinfo.read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(Path(point))
    return sorted(points, key=lambda p: len(p.parts), reverse=True)


def unmount_all(folder: Path) -> None:
    """Unmount everything mounted inside `folder` (volumes, overlays, shm), deepest first."""
    for point in mounts_under(folder):
        if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "--lazy", str(point)], capture_output=True, check=False)


def processes_mentioning(text: str, proc: Path = Path("/proc")) -> list[int]:
    """Pids whose command line contains `text` (a node's socket path names its shims)."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def kill_pids(pids: list[int]) -> None:
    """SIGKILL each pid that still exists."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def remove_pod_cgroups(root: Path = CGROUP_ROOT) -> list[Path]:
    """Remove the kubelet's empty pod cgroups in every hierarchy; returns those still busy."""
    busy = []
    for tree in sorted(root.glob(f"*/{POD_CGROUP}")):
        for folder in sorted(
            (p for p in [tree, *tree.rglob("*")] if p.is_dir()),
            key=lambda p: len(p.parts),
            reverse=True,
        ):
            try:
                folder.rmdir()
            except OSError:
                busy.append(folder)
    return busy


def pod_processes(root: Path = CGROUP_ROOT) -> list[int]:
    """Pids in the kubelet's pod cgroups (the containers of a node whose session was killed)."""
    found: set[int] = set()
    for procs in root.glob(f"pids/{POD_CGROUP}/**/cgroup.procs"):
        with contextlib.suppress(OSError):
            found.update(int(line) for line in procs.read_text().split())
    return sorted(found)
