"""`wta staff add|reset|remove|list`: accounts made on the command line log into the console."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.console.conftest import TENANT_A, ConsolePlatform, StaffLogin, log_in


def wta_staff(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WTA_")}
    return subprocess.run(
        [sys.executable, "-m", "wta_runtime", "staff", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**env, "WTA_DATABASE_URL": database_url},
        timeout=60,
        check=False,
    )


async def test_an_account_made_on_the_command_line_logs_in_until_reset_or_removed(
    console_platform: ConsolePlatform, database_url: str
) -> None:
    email = f"Ana.{os.urandom(3).hex()}@{TENANT_A}.example"
    added = wta_staff(database_url, "add", TENANT_A, email, "--role", "supervisor")
    again = wta_staff(database_url, "add", TENANT_A, email)
    weak = wta_staff(database_url, "reset", TENANT_A, email, "--password-stdin", stdin="short\n")
    listed = wta_staff(database_url, "list", TENANT_A)
    first = StaffLogin(TENANT_A, email.lower(), added.stdout.strip())
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        before_reset = await log_in(client, first)
        still_in = await client.get("/console")
        new_password = "a-long-new-password-1"
        reset = wta_staff(
            database_url, "reset", TENANT_A, email, "--password-stdin", stdin=new_password + "\n"
        )
        logged_out = await client.get("/console")
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        old = await log_in(client, first)
        new = await log_in(client, StaffLogin(TENANT_A, email.lower(), new_password))
    removed = wta_staff(database_url, "remove", TENANT_A, email)
    removed_twice = wta_staff(database_url, "remove", TENANT_A, email)
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        after_remove = await log_in(client, StaffLogin(TENANT_A, email.lower(), new_password))

    assert added.returncode == 0
    assert len(first.password) >= 12
    assert again.returncode == 1
    assert "already has a staff member" in again.stderr
    assert weak.returncode == 2
    assert "at least 12 characters" in weak.stderr
    assert f"{email.lower()}\tsupervisor" in listed.stdout
    assert before_reset.status_code == 303
    assert still_in.status_code == 200
    assert reset.returncode == 0
    assert new_password not in reset.stdout
    assert logged_out.status_code == 303  # a reset ends every session of the account
    assert [old.status_code, new.status_code] == [401, 303]
    assert removed.returncode == 0
    assert removed_twice.returncode == 1
    assert after_remove.status_code == 401
