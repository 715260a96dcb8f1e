"""One real node per machine: its addresses and network namespace names are fixed.

A pytest run that collected node tests waits here for any other run's node to be gone, so two
checkouts of the project (or two developers on one machine) can run the node tests at once.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO

LOCK_PATH = Path(
    os.environ.get("WTA_NODE_LOCK") or Path(tempfile.gettempdir()) / "wta-real-node.lock"
)
_held: list[IO[str]] = []


def hold_node_lock() -> bool:
    """Take the machine's node lock for the rest of this process; False if it had to wait."""
    if _held:
        return True
    handle = LOCK_PATH.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        waited = False
    except BlockingIOError:
        print(f"\nwaiting for another run's real node to stop ({LOCK_PATH}) ...", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        waited = True
    _held.append(handle)
    return not waited
