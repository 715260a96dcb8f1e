"""Several runtime pods migrate one database at once (replicas, rolling updates, mode moves)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
from alembic.script import ScriptDirectory

from tests.utils.databases import fresh_database
from wta_runtime.db.migrate import alembic_config
from wta_runtime.db.migration_lock import MIGRATION_LOCK_KEY

PODS = 4


def _env(database_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "WTA_DATABASE_URL": database_url,
    }


def _migrate_at_once(database_url: str) -> list[subprocess.CompletedProcess[str]]:
    pods = [
        subprocess.Popen(
            [sys.executable, "-m", "wta_runtime", "migrate"],
            env=_env(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PODS)
    ]
    finished = []
    for pod in pods:
        stdout, stderr = pod.communicate(timeout=300)
        finished.append(subprocess.CompletedProcess(pod.args, pod.returncode, stdout, stderr))
    return finished


async def test_pods_migrating_a_fresh_database_at_once_all_succeed_and_it_is_at_head_once(
    database_url: str,
) -> None:
    url, plain_url = fresh_database(database_url, "migrate_race")

    pods = await asyncio.to_thread(_migrate_at_once, url)

    assert [p.returncode for p in pods] == [0] * PODS, [p.stderr[-3000:] for p in pods]
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    connection = await asyncpg.connect(plain_url)
    try:
        versions = await connection.fetch("SELECT version_num FROM alembic_version")
        conversations = await connection.fetchval("SELECT to_regclass('conversations')::text")
    finally:
        await connection.close()
    assert sorted(row["version_num"] for row in versions) == sorted(heads)
    assert conversations == "conversations"


async def test_a_migration_kept_waiting_past_its_lock_timeout_fails_saying_why(
    database_url: str,
) -> None:
    url, plain_url = fresh_database(database_url, "migrate_stuck")
    stuck = await asyncpg.connect(plain_url)
    try:
        await stuck.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        waited = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "wta_runtime", "migrate", "--lock-timeout", "1"],
            env=_env(url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        version_table = await stuck.fetchval("SELECT to_regclass('alembic_version')::text")
    finally:
        await stuck.close()
    assert waited.returncode == 1
    assert "not migrated" in waited.stdout
    assert "migration lock" in waited.stdout
    assert version_table is None
