"""The worker process sweeps its tenant's timers itself, as a runtime pod's only container does:
conversations idle and expire with no scheduler process running, and its metrics say so."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TIMER_NUMBER, TIMER_TENANT, EngineWorkers
from tests.utils.conversations import conversations_of
from tests.utils.waiting import eventually
from wta_runtime.db import conversation_store as store
from wta_runtime.local.processes import ManagedProcess


@pytest.fixture(scope="module")
def sweeping_worker(engine_workers: EngineWorkers) -> Iterator[ManagedProcess]:
    process = engine_workers.spawn(
        TIMER_TENANT, "timer-worker", {"WTA_SCHEDULER_INTERVAL_SECONDS": "1"}
    )
    yield process
    process.stop()
    engine_workers.processes.remove(process)


async def _open(
    sessions: async_sessionmaker[AsyncSession], *, opened: datetime, replied: bool
) -> str:
    contact = "+1555" + str(secrets.randbelow(10**7)).zfill(7)
    async with sessions.begin() as session:
        conversation = await store.open_conversation(
            session,
            tenant=TIMER_TENANT,
            contact=contact,
            business=TIMER_NUMBER,
            contact_name=None,
            now=opened,
            pending_timeout=timedelta(hours=48),
        )
        if replied:
            await store.move_to_progress(
                session, conversation=conversation, now=opened, timeout=timedelta(hours=24)
            )
    return contact


async def _becomes(
    sessions: async_sessionmaker[AsyncSession], contact: str, status: str
) -> list[str]:
    async def statuses() -> list[str]:
        return [c.status for c in await conversations_of(sessions, contact)]

    def moved(found: list[str]) -> bool:
        return found == [status]

    return await eventually(statuses, until=moved)


def _samples(port: int, name: str) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    return {
        sample.labels.get("state", ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels.get("tenant") == TIMER_TENANT
    }


async def test_a_pending_conversation_past_its_expiry_expires_without_a_scheduler_process(
    sweeping_worker: ManagedProcess, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = await _open(sessions, opened=datetime.now(UTC) - timedelta(days=3), replied=False)

    await _becomes(sessions, contact, "expired")

    assert sweeping_worker.port is not None
    assert _samples(sweeping_worker.port, "wta_conversations_expired_total")["expired"] >= 1


async def test_a_conversation_in_progress_pauses_after_the_idle_timer(
    sweeping_worker: ManagedProcess, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = await _open(sessions, opened=datetime.now(UTC) - timedelta(hours=2), replied=True)

    await _becomes(sessions, contact, "idle_timeout")

    port = sweeping_worker.port
    assert port is not None

    def gauges() -> dict[str, float]:
        return _samples(port, "wta_conversations")

    def counted(found: dict[str, float]) -> bool:
        return found.get("idle_timeout", 0) >= 1

    found = await eventually(gauges, until=counted)
    assert set(found) == {"pending", "progress", "human_handoff", "idle_timeout"}
