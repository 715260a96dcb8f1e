"""The scheduler moves conversations on their timers (injected clock), without user messages."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.db import conversation_store as store
from wta_runtime.db.tables import Conversation, StateChange
from wta_runtime.scheduler.sweeps import expire_conversations, idle_conversations

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def _open(
    sessions: async_sessionmaker[AsyncSession], tenant: str, status: str = "pending"
) -> Conversation:
    async with sessions.begin() as session:
        conversation = await store.open_conversation(
            session,
            tenant=tenant,
            contact="+1555" + str(secrets.randbelow(10**7)).zfill(7),
            business="+14155550100",
            contact_name=None,
            now=T0,
            pending_timeout=timedelta(hours=48),
        )
        if status == "progress":
            await store.move_to_progress(
                session, conversation=conversation, now=T0, timeout=timedelta(hours=24)
            )
        elif status != "pending":
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation.id)
                .values(status=status, expires_at=T0 + timedelta(hours=24))
            )
    return conversation


async def _status(sessions: async_sessionmaker[AsyncSession], conversation: Conversation) -> str:
    async with sessions() as session:
        row = await session.get(Conversation, conversation.id, populate_existing=True)
        assert row is not None
        return row.status


def _tenant() -> str:
    return "sched-" + secrets.token_hex(4)


async def test_idle_progress_conversation_is_paused_after_the_idle_timer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = _tenant()
    conversation = await _open(sessions, tenant, "progress")

    async with sessions.begin() as session:
        early = await idle_conversations(
            session, tenant=tenant, now=T0 + timedelta(minutes=14), idle=timedelta(minutes=15)
        )
    async with sessions.begin() as session:
        late = await idle_conversations(
            session, tenant=tenant, now=T0 + timedelta(minutes=16), idle=timedelta(minutes=15)
        )

    assert (early, late) == (0, 1)
    assert await _status(sessions, conversation) == "idle_timeout"


async def test_idle_and_handoff_conversations_expire_on_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = _tenant()
    idle = await _open(sessions, tenant, "idle_timeout")
    handoff = await _open(sessions, tenant, "human_handoff")
    pending = await _open(sessions, tenant)

    async with sessions.begin() as session:
        moved = await expire_conversations(session, tenant=tenant, now=T0 + timedelta(hours=25))

    assert moved == 2
    assert await _status(sessions, idle) == "expired"
    assert await _status(sessions, handoff) == "expired"
    assert await _status(sessions, pending) == "pending"


async def test_every_move_is_in_the_history_and_bumps_the_version(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = _tenant()
    conversation = await _open(sessions, tenant)

    async with sessions.begin() as session:
        await expire_conversations(session, tenant=tenant, now=T0 + timedelta(hours=49))

    async with sessions() as session:
        history = (
            await session.scalars(
                select(StateChange)
                .where(StateChange.conversation_id == conversation.id)
                .order_by(StateChange.id)
            )
        ).all()
        row = await session.get(Conversation, conversation.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "pending"),
        ("pending", "expired"),
    ]
    assert row is not None
    assert row.version == 2
    assert row.closed_at is not None


async def test_two_schedulers_never_move_one_conversation_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = _tenant()
    conversations = [await _open(sessions, tenant) for _ in range(20)]

    async def sweep() -> int:
        async with sessions.begin() as session:
            return await expire_conversations(
                session, tenant=tenant, now=T0 + timedelta(hours=49), batch=7
            )

    async def sweep_all() -> int:
        total = 0
        while moved := await sweep():
            total += moved
        return total

    totals = await asyncio.gather(sweep_all(), sweep_all())

    assert sum(totals) == 20
    async with sessions() as session:
        moves = (
            await session.scalars(
                select(StateChange).where(
                    StateChange.conversation_id.in_([c.id for c in conversations]),
                    StateChange.to_status == "expired",
                )
            )
        ).all()
    assert len(moves) == 20


async def test_sweep_exports_open_conversations_by_state_and_handoff_age(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from prometheus_client import REGISTRY

    from wta_runtime.scheduler.gauges import export_conversation_gauges

    tenant = _tenant()
    await _open(sessions, tenant)
    await _open(sessions, tenant, "progress")
    await _open(sessions, tenant, "human_handoff")

    async with sessions.begin() as session:
        await export_conversation_gauges(session, tenant=tenant, now=T0 + timedelta(minutes=10))

    def gauge(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"tenant": tenant, **labels})

    assert gauge("wta_conversations", state="pending") == 1
    assert gauge("wta_conversations", state="progress") == 1
    assert gauge("wta_conversations", state="human_handoff") == 1
    assert gauge("wta_conversations", state="idle_timeout") == 0
    assert gauge("wta_handoff_oldest_waiting_seconds") == 600
