"""Thread leases in PostgreSQL: taken, renewed and released in one statement each, and fenced.

A lease says which worker answers a conversation thread until `expires_at` (the database's
clock). Taking it draws a new token from a sequence; every write that must come from the owner
checks that token in its own transaction (`fence`), so a worker that paused past its lease can
no longer store anything for the thread, even if it does not know yet that it lost it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.driver import Driver, Sql


def acquire_body(guard: str) -> str:
    """A CTE body taking the thread's lease (`:thread`, `:owner`, `:ttl`) when `guard` holds and
    the thread is free (or its lease expired); it returns the new token."""
    return f"""
    INSERT INTO thread_leases AS l (thread, owner, token, expires_at)
    SELECT :thread, :owner, nextval('thread_lease_tokens'),
           clock_timestamp() + CAST(:ttl AS interval)
    WHERE {guard}
    ON CONFLICT (thread) DO UPDATE
        SET owner = EXCLUDED.owner, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
        WHERE l.expires_at <= clock_timestamp()
    RETURNING token
    """  # noqa: S608 (guards of ours, no input)


_ACQUIRE = Sql(acquire_body("true"))
_RENEW = Sql(
    """
    UPDATE thread_leases SET expires_at = clock_timestamp() + CAST(:ttl AS interval)
    WHERE token = ANY(CAST(:tokens AS bigint[])) AND expires_at > clock_timestamp()
    RETURNING token
    """
)
_RELEASE = Sql("DELETE FROM thread_leases WHERE token = :token")
# FOR SHARE: a takeover (an UPDATE of the row) waits until the fenced transaction has committed.
_FENCE = text(
    "SELECT 1 FROM thread_leases WHERE token = :token AND expires_at > clock_timestamp() FOR SHARE"
)


class LeaseLostError(RuntimeError):
    """This worker no longer owns the thread: another may answer it now; write and send nothing."""


@dataclass(frozen=True)
class LeaseAsk:
    """What taking a thread's lease in another statement needs, and when it was asked."""

    thread: str
    owner: str
    ttl: float
    started: float  # on the local monotonic clock, before the statement

    def params(self) -> dict[str, object]:
        return {"thread": self.thread, "owner": self.owner, "ttl": timedelta(seconds=self.ttl)}


@dataclass
class ThreadLease:
    """A lease this process holds; `valid_until` is on the local monotonic clock, conservative."""

    thread: str
    token: int
    valid_until: float
    lost: bool = False
    # Released by a statement of the turn's own (its last write), not by the holder.
    released: bool = False
    # That statement is under way: a renewal that no longer finds the lease is not a loss.
    releasing: bool = False
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)

    def check(self) -> None:
        """Raise `LeaseLostError` unless the lease is certainly still ours (before a send)."""
        if self.lost or self.monotonic() >= self.valid_until:
            self.lost = True
            raise LeaseLostError(f"lease {self.token} on a conversation thread is no longer held")


async def acquire(db: Driver, ask: LeaseAsk) -> int | None:
    """The new token when the thread was free (or its lease expired); None when it is held."""
    token = await db.fetchval(_ACQUIRE, **ask.params())
    return int(token) if token is not None else None


async def renew(db: Driver, tokens: Iterable[int], *, ttl: float) -> set[int]:
    """Extend the leases still held; the tokens returned are the ones that were."""
    rows = await db.fetch(_RENEW, tokens=list(tokens), ttl=timedelta(seconds=ttl))
    return {int(row[0]) for row in rows}


async def release(db: Driver, token: int) -> None:
    await db.execute(_RELEASE, token=token)


async def fence(session: AsyncSession, lease: ThreadLease) -> None:
    """In the caller's transaction: go on only while `lease` holds; writes then commit under it."""
    lease.check()
    if await session.scalar(_FENCE, {"token": lease.token}) is None:
        lease.lost = True
        raise LeaseLostError(f"lease {lease.token} on a conversation thread was taken over")
