"""A reply's parts are found by their exact keys: all of them, in order, and no other reply's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.conversations import conversation_in
from tests.utils.databases import migrated_database
from wta_runtime.db.outbound import message_parts, parts_query, save_outbound

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("count", [1, 7, 8, 9, 17])
async def test_every_part_of_a_reply_is_found_in_order(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> None:
    conversation = await conversation_in(sessions, "progress")
    key = f"reply:SM{count}parts{conversation.id.hex}"
    texts = [f"part {n}" for n in range(1, count + 1)]
    async with sessions.begin() as session:
        await save_outbound(
            session,
            conversation=conversation,
            key=key,
            parts=texts,
            author="agent",
            agent="assistant",
            provider="openai",
            now=NOW,
        )
        # Replies whose keys start like this one's are not its parts.
        for other in (key + "0", key + "#x"):
            await save_outbound(
                session,
                conversation=conversation,
                key=other,
                parts=["not this reply"] * 2,
                author="agent",
                agent="assistant",
                provider="openai",
                now=NOW,
            )
    async with sessions() as session:
        parts = await message_parts(session, conversation.tenant, key)
    assert [p.body for p in parts] == texts


async def test_a_replys_parts_are_looked_up_by_key_not_by_reading_the_tenants_messages(
    database_url: str,
) -> None:
    query = parts_query("acme-pizza", "reply:SM0123", 0)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with migrated_database(database_url, "reply_parts") as (_, connection):
        await connection.execute("SET enable_seqscan = off")
        plan = [row[0] for row in await connection.fetch(f"EXPLAIN (COSTS OFF) {sql}")]
    # The key bounds the index scan; a filter on it would read every message of the tenant.
    assert any("Index Cond" in line and "idempotency_key" in line for line in plan), plan
    assert not any("Filter" in line and "idempotency_key" in line for line in plan), plan
