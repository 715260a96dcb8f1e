"""What this machine needs so that a kubelet runs on it, each detected and explained.

Each accommodation says why it is there, so a skipped or failing node test can be read without
this file: the suite prints them when the node starts (`NodeSetup.describe()`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CAP_SYS_RESOURCE = 24


@dataclass(frozen=True)
class Accommodation:
    """One thing done differently from a stock node, and the reason found on this machine."""

    name: str
    why: str


@dataclass(frozen=True)
class NodeSetup:
    """The accommodations this machine needs."""

    cgroup_v1: bool
    clamp_oom_score_adj: bool

    @property
    def accommodations(self) -> list[Accommodation]:
        found = [
            Accommodation(
                "node in a network namespace",
                "the kubelet refuses a loopback node IP and tests may use no other host address: "
                "containerd, the kubelet and the pods run in a namespace of the test's own, "
                "with a veth to the host side where the API server, NATS and PostgreSQL listen",
            )
        ]
        if self.cgroup_v1:
            found.append(
                Accommodation(
                    "failCgroupV1: false",
                    "/sys/fs/cgroup is cgroup v1 (or hybrid): the kubelet refuses to start on it "
                    "unless told to; podman uses runc, since crun refuses the hybrid layout",
                )
            )
        if self.clamp_oom_score_adj:
            found.append(
                Accommodation(
                    "runc wrapper clamping oomScoreAdj",
                    "root lacks CAP_SYS_RESOURCE: runc cannot set the negative oom_score_adj "
                    "the kubelet asks for pod sandboxes ('can't get final child's PID from "
                    "pipe: EOF'); hack/runc_oom_clamp.py raises it to 0 before calling runc",
                )
            )
        return found

    def describe(self) -> str:
        """One line per accommodation: its name and why."""
        return "\n".join(f"- {a.name}: {a.why}" for a in self.accommodations)


def has_capability(number: int, status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process holds capability `number` in its effective set."""
    for line in status.read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool((int(line.split()[1], 16) >> number) & 1)
    return False


def is_cgroup_v1(root: Path = Path("/sys/fs/cgroup")) -> bool:
    """Whether the cgroup root is v1 or hybrid (a unified root has `cgroup.controllers`)."""
    return not (root / "cgroup.controllers").exists()


def detect() -> NodeSetup:
    """The accommodations needed here."""
    return NodeSetup(
        cgroup_v1=is_cgroup_v1(),
        clamp_oom_score_adj=not has_capability(CAP_SYS_RESOURCE),
    )


def unsupported_reason() -> str | None:
    """Why a real node cannot run on this machine at all, in one line; None when it can."""
    if os.uname().sysname != "Linux":
        return f"a real node needs Linux (this is {os.uname().sysname})"
    if os.geteuid() != 0:
        return "a real node needs root (containerd, network namespaces, mounts)"
    return None
