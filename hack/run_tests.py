"""`make test`: the whole suite as two pytest processes side by side.

The real-node family (`-m node`) spends its minutes waiting on the kubelet and the pods, and the
chaos family (`-m chaos`) on outages and restarts: they run one after the other beside the rest
of the suite, which keeps the cores busy. (On a machine loaded by other work, the chaos family's
faults can come and go before the load reaches them: run `-m chaos` alone there.)
Each process has its own --basetemp (pytest empties its base folder at start, so two sessions
sharing one delete each other's servers). The rest prints as it goes; the other's output
follows it, and is in a file meanwhile.
The exit status is 0 only if both passed; their temporary folders are kept when one failed.

    python -m hack.run_tests [pytest arguments for both, e.g. a folder]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SIDE = "node or chaos"
# pytest's exit status when nothing was selected, e.g. `-m node` on a folder without node tests.
NO_TESTS = 5


def pytest(marks: str, basetemp: Path, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-m", marks, f"--basetemp={basetemp}", *args]


def main(args: list[str]) -> int:
    root = Path(tempfile.mkdtemp(prefix="wta-test-"))
    side_log = root / "node.log"
    print(
        f"tests/node and tests/chaos run alongside the rest; their output follows (meanwhile: "
        f"{side_log})",
        flush=True,
    )
    with side_log.open("w") as log:
        side = subprocess.Popen(
            pytest(SIDE, root / "side", args), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            rest = subprocess.call(pytest(f"not ({SIDE})", root / "rest", args))
        finally:
            # Ctrl-C reaches both processes: wait, so the node is cleaned up before returning.
            side_status = side.wait()
    print("\n===== tests/node and tests/chaos, which ran alongside the rest =====", flush=True)
    sys.stdout.write(side_log.read_text())
    print(f"\nmake test: the rest exited {rest}, tests/node and tests/chaos {side_status}")
    if {rest, side_status} - {0, NO_TESTS}:
        print(f"make test: logs and data of both are kept in {root}")
        return 1
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
