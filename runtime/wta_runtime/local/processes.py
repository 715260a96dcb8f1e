"""Starting and stopping the child processes of the local platform."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ProcessStartError(RuntimeError):
    """A child process exited or never became ready; the message includes its last output."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def _tail(path: Path | None, lines: int = 20) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A child process with a name, a readiness port and a log file (or the terminal)."""

    name: str
    argv: Sequence[str]
    port: int | None = None
    env: dict[str, str] | None = None
    log_path: Path | None = None
    cwd: Path | None = None
    preexec_user: tuple[int, int] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the process and wait until its port accepts connections."""
        stdout = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            stdout = self.log_path.open("ab")
        user = self.preexec_user

        def drop_privileges() -> None:
            if user is not None:
                os.setgid(user[1])
                os.setuid(user[0])

        self.process = subprocess.Popen(
            list(self.argv),
            env=self.env,
            cwd=self.cwd,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout else None,
            preexec_fn=drop_privileges if user is not None else None,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while self.port is not None and not port_open(self.port):
            if self.process.poll() is not None:
                raise ProcessStartError(
                    f"{self.name} exited with code {self.process.returncode}\n"
                    + _tail(self.log_path)
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ProcessStartError(f"{self.name} not ready after {timeout:.0f}s")
            time.sleep(0.05)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if the process has not exited within `timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
