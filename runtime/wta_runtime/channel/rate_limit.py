"""Outbound pacing per sender number, shared by every replica through one row in PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.channel.delivery_status import ATTEMPTED, UNSENT
from wta_runtime.db.driver import Sql, driver
from wta_runtime.db.thread_leases import LeaseLostError, ThreadLease

# Each send reserves the sender's next free slot atomically; slots are 1/rate apart, on the
# database's clock, so replicas on hosts with different clocks still agree.
_RESERVE = Sql(
    """
    INSERT INTO sender_pacing AS p (tenant, sender, next_slot_at)
    VALUES (:tenant, :sender, clock_timestamp() + CAST(:interval AS interval))
    ON CONFLICT (tenant, sender) DO UPDATE
        SET next_slot_at = GREATEST(p.next_slot_at, clock_timestamp()) + :interval
    RETURNING EXTRACT(EPOCH FROM (p.next_slot_at - :interval - clock_timestamp())),
        p.next_slot_at - :interval
    """
)
# The same, taken only while the thread's lease holds: fencing and pacing in one round trip.
_RESERVE_FENCED = Sql(
    """
    INSERT INTO sender_pacing AS p (tenant, sender, next_slot_at)
    SELECT :tenant, :sender, clock_timestamp() + CAST(:interval AS interval)
    WHERE EXISTS (
        SELECT 1 FROM thread_leases WHERE token = :token AND expires_at > clock_timestamp()
    )
    ON CONFLICT (tenant, sender) DO UPDATE
        SET next_slot_at = GREATEST(p.next_slot_at, clock_timestamp()) + :interval
    RETURNING EXTRACT(EPOCH FROM (p.next_slot_at - :interval - clock_timestamp())),
        p.next_slot_at - :interval
    """
)

# The same, and the part about to leave marked attempted (with the time), in one round trip.
_RESERVE_FENCED_ATTEMPT = Sql(
    f"""
    WITH reserved AS (
        INSERT INTO sender_pacing AS p (tenant, sender, next_slot_at)
        SELECT :tenant, :sender, clock_timestamp() + CAST(:interval AS interval)
        WHERE EXISTS (
            SELECT 1 FROM thread_leases WHERE token = :token AND expires_at > clock_timestamp()
        )
        ON CONFLICT (tenant, sender) DO UPDATE
            SET next_slot_at = GREATEST(p.next_slot_at, clock_timestamp()) + :interval
        RETURNING EXTRACT(EPOCH FROM (p.next_slot_at - :interval - clock_timestamp())) AS wait,
            p.next_slot_at - :interval AS slot
    ),
    attempted AS (
        UPDATE messages
        SET delivery_status = '{ATTEMPTED}',
            send_attempted_at = CAST(:attempted_at AS timestamptz)
        WHERE id = :message AND delivery_status IN ({", ".join(f"'{s}'" for s in sorted(UNSENT))})
          AND EXISTS (SELECT 1 FROM reserved)
    )
    SELECT wait, slot FROM reserved
    """  # noqa: S608 (constants of ours, no input)
)


class SenderPacer:
    """Lets at most `per_second` messages leave one sender number per second, across replicas."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = driver(sessions)  # one statement: no transaction round trips
        self._sleep = sleep

    async def wait_turn(
        self,
        *,
        tenant: str,
        sender: str,
        per_second: int,
        lease: ThreadLease | None = None,
        attempt: tuple[uuid.UUID, datetime] | None = None,
    ) -> datetime:
        """Wait for this sender's next slot; return the slot (on the database's clock).

        With `lease`, the slot is only taken while the lease holds (`LeaseLostError` otherwise);
        with it and `attempt` (a part's id and the time), that part is marked attempted too.
        """
        interval = timedelta(seconds=1 / per_second)
        params: dict[str, object] = {"tenant": tenant, "sender": sender, "interval": interval}
        if lease is None:
            row = await self._db.fetchrow(_RESERVE, **params)
        else:
            lease.check()
            statement = _RESERVE_FENCED
            if attempt is not None:
                statement = _RESERVE_FENCED_ATTEMPT
                params |= {"message": attempt[0], "attempted_at": attempt[1]}
            row = await self._db.fetchrow(statement, **params, token=lease.token)
            if row is None:
                lease.lost = True
                raise LeaseLostError(f"lease {lease.token} taken over before a send")
        assert row is not None  # an upsert without the lease's condition returns its row
        wait, slot = row
        seconds = max(0.0, float(wait or 0))
        if seconds:
            await self._sleep(seconds)
        return slot  # type: ignore[no-any-return]
