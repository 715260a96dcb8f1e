#!/usr/bin/env python3
"""runc, with a negative oomScoreAdj raised to 0 first: containerd's runtime binary on a node
whose root lacks CAP_SYS_RESOURCE (see tests/node/accommodations.py).

Without that capability runc cannot lower a process's oom_score_adj, and the kubelet asks for
-998 on every pod sandbox. Everything else reaches runc unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path


def bundle_of(argv: list[str]) -> Path | None:
    """The --bundle of a `runc create|run` command line, else None."""
    if "create" not in argv and "run" not in argv:
        return None
    for i, arg in enumerate(argv):
        if arg in ("--bundle", "-b") and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--bundle="):
            return Path(arg.split("=", 1)[1])
    return Path.cwd()


def clamp(config_path: Path) -> None:
    """Raise a negative process.oomScoreAdj of an OCI config to 0, in place."""
    config = json.loads(config_path.read_text())
    process = config.get("process") or {}
    if process.get("oomScoreAdj", 0) < 0:
        process["oomScoreAdj"] = 0
        config_path.write_text(json.dumps(config))


def main() -> None:
    argv = sys.argv[1:]
    bundle = bundle_of(argv)
    if bundle is not None and (bundle / "config.json").is_file():
        clamp(bundle / "config.json")
    runc = os.environ.get("WTA_RUNC") or shutil.which("runc") or "/usr/sbin/runc"
    os.execv(runc, [runc, *argv])  # noqa: S606 (runc's own argv, unchanged)


if __name__ == "__main__":
    main()
