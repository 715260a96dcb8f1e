"""A new tenant database: the plans PostgreSQL keeps for a turn's statements read by index.

The worker's statements are prepared once per connection; after five runs PostgreSQL keeps a
generic plan, made while a new database is still nearly empty and not analyzed. A plan that
reads a whole table there keeps reading it on every turn, while the table grows.
"""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from tests.utils.databases import migrated_database
from wta_runtime.channel import rate_limit
from wta_runtime.db import agent_records, conversation_store, outbound, receive, thread_leases
from wta_runtime.db.driver import Sql
from wta_runtime.db.migrate import alembic_config, upgrade_database

# Every statement of a turn's usual way (and the variants it takes when there is less to do).
TURN_STATEMENTS: dict[str, Sql] = {
    "receive": receive._STATEMENT,
    "receive, taking the lease": receive._WITH_LEASE,
    "lease": thread_leases._ACQUIRE,
    "lease renewal": thread_leases._RENEW,
    "lease release": thread_leases._RELEASE,
    "turn state": conversation_store._TURN_STATE,
    "recent messages": conversation_store._RECENT,
    "earlier turns": agent_records._EARLIER_TURNS,
    "reply stored": outbound._SAVE_FENCED,
    "reply stored with the turn's record": outbound._SAVE_FENCED_RECORDED,
    "turn's record": agent_records._RECORD_TURN,
    "pacing slot": rate_limit._RESERVE_FENCED,
    "pacing slot and attempt": rate_limit._RESERVE_FENCED_ATTEMPT,
    "sent": outbound._MARK_SENT,
    "sent, progress and release": conversation_store._SENT_PROGRESS_AND_RELEASE,
    "progress and release": conversation_store._PROGRESS_AND_RELEASE,
}
INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE indexname IN ('messages_by_twilio_sid', 'conversations_by_contact', 'thread_leases_expiry')
"""


async def _generic_plan(connection: asyncpg.Connection, sql: Sql) -> str:
    """The plan PostgreSQL keeps for `sql` once it stops planning it for its parameters."""
    await connection.execute(f"PREPARE turn_statement AS {sql.text}")
    try:
        nulls = ", ".join("NULL" for _ in sql.names)
        rows = await connection.fetch(f"EXPLAIN (COSTS OFF) EXECUTE turn_statement({nulls})")
    finally:
        await connection.execute("DEALLOCATE turn_statement")
    return "\n".join(row[0] for row in rows)


async def test_a_turns_statements_read_by_index_in_the_plans_a_fresh_database_keeps(
    database_url: str,
) -> None:
    async with migrated_database(database_url, "fresh_plans") as (_, connection):
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        plans = {
            name: await _generic_plan(connection, sql) for name, sql in TURN_STATEMENTS.items()
        }

    # None looks a message up by its SID: that index is only ever a tenant-wide read for them.
    whole_reads = {
        name: [line.strip() for line in plan.splitlines() if "Seq Scan" in line]
        for name, plan in plans.items()
        if "Seq Scan" in plan or "messages_by_twilio_sid" in plan
    }
    assert whole_reads == {}, "\n\n".join(plans[name] for name in whole_reads)


async def test_the_index_migrations_of_the_worker_downgrade_to_the_indexes_before_them(
    database_url: str,
) -> None:
    async with migrated_database(database_url, "index_migrations") as (url, connection):
        migrated = dict(await connection.fetch(INDEXES))
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
        downgraded = dict(await connection.fetch(INDEXES))
        await asyncio.to_thread(upgrade_database, url)
        upgraded_again = dict(await connection.fetch(INDEXES))

    assert migrated["messages_by_twilio_sid"].endswith("WHERE (twilio_sid IS NOT NULL)")
    by_contact = migrated["conversations_by_contact"]
    assert by_contact.endswith("(tenant, contact_number, business_number, created_at)")
    assert "thread_leases_expiry" not in migrated
    assert downgraded.keys() == {"messages_by_twilio_sid", "thread_leases_expiry"}
    assert "WHERE" not in downgraded["messages_by_twilio_sid"]
    assert upgraded_again == migrated
