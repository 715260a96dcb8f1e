"""Worker processes forked from a server that has imported the worker once (multiprocessing's
forkserver): each starts in a fraction of a second instead of seconds of imports, so a test can
SIGKILL the worker and start the next one hundreds of times on two cores.

Each is a process of its own running `wta worker` (`wta_runtime.cli.worker`) with its own
environment and log file; a SIGKILL ends it as it would end a pod's container.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import datetime
from multiprocessing.process import BaseProcess
from pathlib import Path

_FORKSERVER = multiprocessing.get_context("forkserver")


def _serve(env: dict[str, str], log_path: str) -> None:
    """In the forked process: the given environment only, output to the log, then the worker."""
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.write(log, f"{datetime.now()} forked\n".encode())
    os.environ.clear()
    os.environ.update(env)
    from wta_runtime.cli import worker

    worker()


class ForkedWorkers:
    """Starts workers with `env`, logging to `logs/worker-<n>.log`, and SIGKILLs them."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self._env = env
        self._logs = logs
        self.started = 0
        self._log_of: dict[int | None, Path] = {}
        _FORKSERVER.set_forkserver_preload(["wta_runtime.cli", "wta_runtime.worker.main", "uvloop"])

    def start(self) -> BaseProcess:
        log = self._logs / f"worker-{self.started}.log"
        process = _FORKSERVER.Process(target=_serve, args=(self._env, str(log)), daemon=True)
        process.start()
        self.started += 1
        self._log_of[process.pid] = log
        return process

    def consuming(self, process: BaseProcess) -> bool:
        """Whether the worker has started consuming its tenant's messages (its log says so)."""
        log = self._log_of.get(process.pid)
        return log is not None and log.is_file() and b" consuming " in log.read_bytes()

    @staticmethod
    def kill(process: BaseProcess) -> None:
        """SIGKILL, and wait until it is gone."""
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=10)
        assert not process.is_alive()

    @staticmethod
    def stop(process: BaseProcess) -> None:
        """SIGTERM: the worker stops consuming and closes its connections."""
        process.terminate()
        process.join(timeout=15)
        if process.is_alive():
            process.kill()
            process.join(timeout=10)
