"""`wta run`, `wta chat`, `wta check-env` and `wta stop` as a newcomer uses them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.utils.webhooks import new_contact
from wta_runtime.local.processes import free_port, port_open


def _wta(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wta_runtime", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def local_env(tmp_path: Path) -> dict[str, str]:
    """Settings of a `wta run` on free ports with its data in a temporary folder."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WTA_")}
    nats, postgres = free_port(), free_port()
    return {
        **clean,
        "WTA_LOCAL_DATA_DIR": str(tmp_path / "wta-data"),
        "WTA_MANIFESTS_DIR": str(EXAMPLES),
        "WTA_LOCAL_NATS_PORT": str(nats),
        "WTA_LOCAL_POSTGRES_PORT": str(postgres),
        "WTA_NATS_URL": f"nats://127.0.0.1:{nats}",
        "WTA_DATABASE_URL": f"postgresql+asyncpg://wta@127.0.0.1:{postgres}/wta",
        "WTA_LOCAL_TWILIO_PORT": str(free_port()),
        "WTA_GATEWAY_PORT": str(free_port()),
        "WTA_WORKER_METRICS_PORT": str(free_port()),
    }


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "wta_runtime", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while b"is running locally" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("wta run did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.1)
    return process


@pytest.fixture
def running(local_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = _start(local_env, tmp_path / "run.log")
    yield process
    if process.poll() is None:
        # SIGTERM, as `wta stop` does: a killed `wta run` would leave NATS and PostgreSQL behind.
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _child_running(run: subprocess.Popen[bytes], command: str) -> int:
    """The pid of the `wta <command>` process `wta run` started (by its arguments exactly: a
    data folder path, e.g. under a test named "worker", is in other children's commands)."""
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    [found] = [
        int(child)
        for child in children
        if Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[1:4]
        == [b"-m", b"wta_runtime", command.encode()]
    ]
    return found


def _environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def test_run_chat_and_stop(
    running: subprocess.Popen[bytes], local_env: dict[str, str], tmp_path: Path
) -> None:
    contact = new_contact()

    chat = _wta(local_env, "chat", "--contact", contact, "-m", "Do you deliver?")
    check = _wta(local_env, "check-env")
    stop = _wta(local_env, "stop")
    exit_code = running.wait(timeout=30)

    assert chat.returncode == 0, chat.stdout + chat.stderr
    assert "[offline agent] Yes, we deliver" in chat.stdout
    # The example tenant has the typing indicator on: the local Twilio showed it, before the reply.
    assert chat.stdout.index("Acme Pizza is typing...") < chat.stdout.index("Yes, we deliver")
    assert check.returncode == 0, check.stdout
    for name in ("NATS", "PostgreSQL", "OpenAI endpoint", "Twilio API", "Manifests"):
        assert name in check.stdout
    assert stop.returncode == 0
    assert exit_code == 0
    for port in ("WTA_GATEWAY_PORT", "WTA_LOCAL_NATS_PORT", "WTA_LOCAL_POSTGRES_PORT"):
        assert not port_open(int(local_env[port])), f"{port} still open after stop"


def test_metrics_listen_on_loopback_and_media_stays_in_the_data_folder(
    running: subprocess.Popen[bytes], local_env: dict[str, str], tmp_path: Path
) -> None:
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    port = local_env["WTA_WORKER_METRICS_PORT"]
    addresses = [
        line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")
    ]
    assert addresses == [f"127.0.0.1:{port}"], addresses
    environ = _environ(_child_running(running, "worker"))
    media = str(tmp_path / "wta-data" / "media").encode()
    assert b"WTA_MEDIA_DIR=" + media in environ
    # Tools and documents served on this machine are reachable in a local run.
    assert b"WTA_EGRESS_ALLOW=127.0.0.0/8,::1/128" in environ


def test_the_worker_connects_to_nats_as_its_tenants_own_user(
    running: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    worker = _environ(_child_running(running, "worker"))
    gateway = _environ(_child_running(running, "gateway"))
    config = (tmp_path / "wta-data" / "nats.conf").read_text()

    assert any(v.startswith(b"WTA_NATS_URL=nats://wta-tenant-acme-pizza:") for v in worker)
    assert any(v.startswith(b"WTA_NATS_URL=nats://wta-gateway:") for v in gateway)
    assert '"user": "wta-tenant-acme-pizza"' in config
    assert "$JS.API.CONSUMER.MSG.NEXT.WTA_INBOUND_ACME_PIZZA.runtime-worker" in config


def test_a_taken_port_is_named_with_the_setting_that_moves_it(
    local_env: dict[str, str], tmp_path: Path
) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(local_env["WTA_GATEWAY_PORT"])))
        blocker.listen()
        result = _wta(local_env, "run", timeout=60)

    assert result.returncode == 1
    assert f"gateway: port {local_env['WTA_GATEWAY_PORT']} is already in use" in result.stderr
    assert "WTA_GATEWAY_PORT" in result.stderr
    assert "is running locally" not in result.stdout
    assert not port_open(int(local_env["WTA_LOCAL_NATS_PORT"]))  # nothing was left running


def test_data_survives_a_restart(local_env: dict[str, str], tmp_path: Path) -> None:
    contact = new_contact()
    first = _start(local_env, tmp_path / "first.log")
    _wta(local_env, "chat", "--contact", contact, "-m", "menu")
    _wta(local_env, "stop")
    first.wait(timeout=30)

    second = _start(local_env, tmp_path / "second.log")
    try:
        psql = _psql(
            local_env,
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.contact_number = :'contact'",
            contact=contact,
        )
    finally:
        _wta(local_env, "stop")
        second.wait(timeout=30)

    assert psql == "2"


def _psql(env: dict[str, str], sql: str, **variables: str) -> str:
    from wta_runtime.local.embedded_postgres import postgres_bin_dir

    port = env["WTA_LOCAL_POSTGRES_PORT"]
    argv = [str(postgres_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", port, "-U", "wta", "-tA"]
    argv += [f"--variable={name}={value}" for name, value in variables.items()]
    result = subprocess.run(argv, input=sql, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_check_env_explains_what_is_missing(local_env: dict[str, str]) -> None:
    result = _wta(local_env, "check-env")

    assert result.returncode == 1
    assert "FAIL" in result.stdout
    assert "make run" in result.stdout


def test_seed_lists_the_example_tenant(local_env: dict[str, str]) -> None:
    result = _wta(local_env, "seed")

    assert result.returncode == 0
    assert "acme-pizza" in result.stdout
    assert "+14155550100" in result.stdout
    assert "pizza-assistant (default)" in result.stdout
