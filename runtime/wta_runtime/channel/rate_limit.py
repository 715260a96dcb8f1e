"""Outbound pacing per sender number, shared by every replica through one row in PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.db.engine import single_statements
from wta_runtime.db.thread_leases import LeaseLostError, ThreadLease

# Each send reserves the sender's next free slot atomically; slots are 1/rate apart, on the
# database's clock, so replicas on hosts with different clocks still agree.
_RESERVE = text(
    """
    INSERT INTO sender_pacing AS p (tenant, sender, next_slot_at)
    VALUES (:tenant, :sender, clock_timestamp() + :interval)
    ON CONFLICT (tenant, sender) DO UPDATE
        SET next_slot_at = GREATEST(p.next_slot_at, clock_timestamp()) + :interval
    RETURNING EXTRACT(EPOCH FROM (p.next_slot_at - :interval - clock_timestamp()))
    """
)
# The same, taken only while the thread's lease holds: fencing and pacing in one round trip.
_RESERVE_FENCED = text(
    """
    INSERT INTO sender_pacing AS p (tenant, sender, next_slot_at)
    SELECT :tenant, :sender, clock_timestamp() + :interval
    WHERE EXISTS (
        SELECT 1 FROM thread_leases WHERE token = :token AND expires_at > clock_timestamp()
    )
    ON CONFLICT (tenant, sender) DO UPDATE
        SET next_slot_at = GREATEST(p.next_slot_at, clock_timestamp()) + :interval
    RETURNING EXTRACT(EPOCH FROM (p.next_slot_at - :interval - clock_timestamp()))
    """
)


class SenderPacer:
    """Lets at most `per_second` messages leave one sender number per second, across replicas."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = single_statements(sessions)  # one statement: no transaction round trips
        self._sleep = sleep

    async def wait_turn(
        self, *, tenant: str, sender: str, per_second: int, lease: ThreadLease | None = None
    ) -> float:
        """Wait for this sender's next slot; return how long that was, in seconds.

        With `lease`, the slot is only taken while the lease holds (`LeaseLostError` otherwise).
        """
        interval = timedelta(seconds=1 / per_second)
        params = {"tenant": tenant, "sender": sender, "interval": interval}
        async with self._sessions() as session:
            if lease is None:
                wait = await session.scalar(_RESERVE, params)
            else:
                lease.check()
                result = await session.execute(_RESERVE_FENCED, {**params, "token": lease.token})
                row = result.first()
                if row is None:
                    lease.lost = True
                    raise LeaseLostError(f"lease {lease.token} taken over before a send")
                wait = row[0]
        seconds = max(0.0, float(wait or 0))
        if seconds:
            await self._sleep(seconds)
        return seconds
