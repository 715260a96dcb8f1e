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
        self.spawn()
        self.wait_ready(timeout=timeout)

    def spawn(self) -> None:
        """Start the process without waiting for it."""
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

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        """Wait for the port to accept connections; raise with the log's tail if it died."""
        assert self.process is not None, "spawn() first"
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

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, *, timeout: float = 10.0) -> None:
        """Wait for the process to exit; SIGKILL it after `timeout` seconds."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if the process has not exited within `timeout` seconds."""
        self.terminate()
        self.wait_stopped(timeout=timeout)


def stop_together(processes: list[ManagedProcess], *, timeout: float = 10.0) -> None:
    """Stop several processes at once: all get SIGTERM, then each is waited for."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait_stopped(timeout=timeout)
