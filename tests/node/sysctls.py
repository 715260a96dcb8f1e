"""Host sysctls the kubelet changes, saved before it starts and put back after it stops."""

from __future__ import annotations

from pathlib import Path

# The kubelet sets these at start (protectKernelDefaults: false); they are not per namespace.
KUBELET_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
PROC_SYS = Path("/proc/sys")


def save(keys: tuple[str, ...] = KUBELET_SYSCTLS, root: Path = PROC_SYS) -> dict[str, str]:
    """The current values of `keys` that exist on this kernel."""
    return {key: (root / key).read_text() for key in keys if (root / key).exists()}


def restore(saved: dict[str, str], root: Path = PROC_SYS) -> list[str]:
    """Write the saved values back; returns the keys that differed (what the kubelet changed)."""
    changed = []
    for key, value in saved.items():
        path = root / key
        if path.read_text() != value:
            path.write_text(value)
            changed.append(key)
    return changed
