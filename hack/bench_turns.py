"""Reads the pipeline's result from the database: when each inbound message was answered.

A reply may answer several messages of a conversation at once (they arrived while an earlier
turn of it ran), so turns are matched to replies by `answered_by`, not by counting sends.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

_TURNS = text(
    """
    SELECT (i.details->>'received_at')::timestamptz AS received, o.sent_at AS replied,
           i.answered_by
    FROM messages i
    LEFT JOIN messages o
      ON o.tenant = i.tenant AND o.direction = 'outbound' AND o.idempotency_key = i.answered_by
    WHERE i.tenant = :tenant AND i.direction = 'inbound'
    """
)


@dataclass(frozen=True)
class Turn:
    received: datetime
    replied: datetime | None
    reply: str | None


async def _turns(database_url: str, tenant: str) -> list[Turn]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(_TURNS, {"tenant": tenant})).all()
    finally:
        await engine.dispose()
    return [Turn(row.received, row.replied, row.answered_by) for row in rows]


def wait_for_turns(database_url: str, tenant: str, total: int, *, timeout: float) -> list[Turn]:
    """The stored turns, once `total` of them have a sent reply (or after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        turns = asyncio.run(_turns(database_url, tenant))
        if sum(t.replied is not None for t in turns) >= total or time.monotonic() > deadline:
            return turns
        time.sleep(0.5)
