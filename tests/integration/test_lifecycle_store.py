"""Every lifecycle move in PostgreSQL: checked, versioned, in the history, safe when concurrent."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.conversations import T0, conversation_in, history, reload
from wta_runtime.conversation.lifecycle import (
    ALLOWED_MOVES,
    CLOSED,
    IllegalMoveError,
    State,
)
from wta_runtime.db import conversation_store as store
from wta_runtime.db.transitions import Moved, transition


async def _move(
    sessions: async_sessionmaker[AsyncSession],
    conversation_id: uuid.UUID,
    target: State,
    *,
    seen: int | None = None,
    reason: str = "test",
) -> Moved:
    async with sessions.begin() as session:
        return await transition(
            session,
            conversation_id,
            target,
            reason=reason,
            now=T0,
            seen_version=seen,
        )


@pytest.mark.parametrize(("current", "target"), list(itertools.product(State, State)))
async def test_every_pair_of_states_in_the_database(
    sessions: async_sessionmaker[AsyncSession], current: State, target: State
) -> None:
    conversation = await conversation_in(sessions, current.value)

    if current == target or (current in CLOSED and target in CLOSED):
        moved = await _move(sessions, conversation.id, target)
        assert not moved.changed
        assert (await reload(sessions, conversation.id)).version == 1
        assert await history(sessions, conversation.id) == []
    elif target in ALLOWED_MOVES[current]:
        moved = await _move(sessions, conversation.id, target)
        row = await reload(sessions, conversation.id)
        assert (moved.before, moved.after, moved.version) == (current, target, 2)
        assert (row.status, row.version) == (target.value, 2)
        assert (row.closed_at is not None) == (target in CLOSED)
        [change] = await history(sessions, conversation.id)
        assert (change.from_status, change.to_status) == (current.value, target.value)
    else:
        with pytest.raises(IllegalMoveError):
            await _move(sessions, conversation.id, target)
        row = await reload(sessions, conversation.id)
        assert (row.status, row.version) == (current.value, 1)


async def test_concurrent_writers_leave_one_consistent_history(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await conversation_in(sessions, "progress")
    targets = [State.PROGRESS, State.HUMAN_HANDOFF, State.IDLE_TIMEOUT] * 10
    random.Random(7).shuffle(targets)

    async def writer(target: State) -> None:
        # e.g. human_handoff -> idle_timeout is refused and writes nothing
        with contextlib.suppress(IllegalMoveError):
            await _move(sessions, conversation.id, target)

    await asyncio.gather(*(writer(t) for t in targets))

    row = await reload(sessions, conversation.id)
    changes = await history(sessions, conversation.id)
    assert row.version == 1 + len(changes)
    assert changes, "some writers must have moved it"
    chain = ["progress"] + [c.to_status for c in changes]
    assert [c.from_status for c in changes] == chain[:-1]
    assert row.status == chain[-1]


async def test_twenty_replies_racing_move_pending_to_progress_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await conversation_in(sessions, "pending")

    results = await asyncio.gather(
        *(_move(sessions, conversation.id, State.PROGRESS) for _ in range(20))
    )

    assert sum(r.changed for r in results) == 1
    assert (await reload(sessions, conversation.id)).version == 2
    assert len(await history(sessions, conversation.id)) == 1


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        (State.AGENT_CLOSED, State.USER_CLOSED, State.USER_CLOSED),
        (State.USER_CLOSED, State.AGENT_CLOSED, State.USER_CLOSED),
        (State.EXPIRED, State.SUPPORT_CLOSED, State.SUPPORT_CLOSED),
        (State.USER_CLOSED, State.FAILED, State.FAILED),
        (State.FAILED, State.EXPIRED, State.FAILED),
    ],
)
async def test_when_two_closings_race_the_stronger_wins_in_either_order(
    sessions: async_sessionmaker[AsyncSession], first: State, second: State, winner: State
) -> None:
    conversation = await conversation_in(sessions, "progress")
    seen = conversation.version  # both writers decided on version 1

    await _move(sessions, conversation.id, first, seen=seen)
    await _move(sessions, conversation.id, second, seen=seen)

    row = await reload(sessions, conversation.id)
    assert row.status == winner.value
    assert row.version == 1 + len(await history(sessions, conversation.id))


async def test_concurrent_closings_end_with_the_stronger_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(5):
        conversation = await conversation_in(sessions, "progress")
        await asyncio.gather(
            _move(sessions, conversation.id, State.AGENT_CLOSED, seen=1),
            _move(sessions, conversation.id, State.USER_CLOSED, seen=1),
        )
        assert (await reload(sessions, conversation.id)).status == "user_closed"


async def test_a_late_close_does_not_rewrite_a_conversation_closed_long_ago(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await conversation_in(sessions, "progress")
    await _move(sessions, conversation.id, State.HUMAN_HANDOFF)
    await _move(sessions, conversation.id, State.EXPIRED)

    moved = await _move(sessions, conversation.id, State.USER_CLOSED, seen=1)

    assert not moved.changed
    assert (await reload(sessions, conversation.id)).status == "expired"


async def test_a_contact_writing_after_a_close_gets_a_new_linked_conversation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    closed = await conversation_in(sessions, "progress")
    await _move(sessions, closed.id, State.AGENT_CLOSED)

    async with sessions.begin() as session:
        opened = await store.open_conversation(
            session,
            tenant=closed.tenant,
            contact=closed.contact_number,
            business=closed.business_number,
            contact_name=None,
            now=T0,
            pending_timeout=closed.expires_at - T0,  # type: ignore[operator]
        )

    assert opened.id != closed.id
    assert opened.previous_conversation_id == closed.id
    assert opened.status == "pending"
    assert [(c.from_status, c.to_status) for c in await history(sessions, opened.id)] == [
        (None, "pending")
    ]
