"""Storing a reply and delivering it, only while this worker owns the conversation thread.

The turn and the dead-letter path both answer through here: the reply is stored (fenced by the
thread's lease) before anything is sent, and each part is sent only while the lease still holds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.catalog import Tenant
from wta_runtime.channel.delivery import UNREAD, DeliveryReport, OutboundDelivery, Unread
from wta_runtime.db import conversation_store as store
from wta_runtime.db.agent_records import TurnRecordRows, record_turn
from wta_runtime.db.consent import ConsentEvent
from wta_runtime.db.conversation_store import Progress
from wta_runtime.db.driver import DATABASE_ERRORS, driver
from wta_runtime.db.outbound import outbound_rows, save_outbound, save_outbound_fenced
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import ThreadLease, fence
from wta_runtime.worker.thread_ownership import ThreadOwnership

log = logging.getLogger("wta.worker")
# The turn holding a thread ends within its model and Twilio timeouts; waiting is not a failure.
THREAD_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class ReplyDraft:
    """A reply about to be stored: its text, who wrote it, and the messages it answers."""

    conversation: Conversation
    key: str
    parts: list[str]
    author: str
    agent: str | None
    provider: str | None
    answers: Sequence[Message] = ()
    details: dict[str, Any] | None = None
    media_urls: Sequence[str] = ()

    def outbound(self) -> dict[str, Any]:
        """The arguments `save_outbound` and `outbound_rows` take (all but the time)."""
        return {
            "conversation": self.conversation,
            "key": self.key,
            "parts": self.parts,
            "author": self.author,
            "agent": self.agent,
            "provider": self.provider,
            "details": self.details,
            "media_urls": self.media_urls,
        }


class ThreadReplies:
    """Own a thread, store its reply under that ownership, deliver it under the same."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        ownership: ThreadOwnership,
        delivery: OutboundDelivery,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._db = driver(sessions)
        self.ownership = ownership
        self.delivery = delivery
        self._clock = clock

    @asynccontextmanager
    async def own(
        self, thread: str, *, taken: ThreadLease | None = None
    ) -> AsyncIterator[ThreadLease]:
        """Hold the thread's lease for the block (waiting for another turn of it to end), or
        the lease `taken` already."""
        async with self.ownership.hold(thread, timeout=THREAD_WAIT_SECONDS, taken=taken) as lease:
            yield lease

    async def store(
        self, session: AsyncSession, lease: ThreadLease, draft: ReplyDraft
    ) -> list[Message]:
        """In the caller's transaction: store the reply and settle what it answers."""
        await fence(session, lease)
        stored = await save_outbound(session, **draft.outbound(), now=self._clock())
        if draft.answers:
            await store.mark_answered(session, draft.answers, draft.key)
        return stored

    async def store_alone(
        self, lease: ThreadLease, draft: ReplyDraft, *, record: TurnRecordRows | None = None
    ) -> list[Message]:
        """`store` in one statement of its own, with the agent's `record` of the turn (written
        only while the lease holds); the transactional way when that cannot tell."""
        lease.check()
        rows = outbound_rows(**draft.outbound(), now=self._clock())
        answers = [m.id for m in draft.answers]
        stored = await save_outbound_fenced(
            self._db,
            token=lease.token,
            rows=rows,
            key=draft.key,
            conversation=draft.conversation.id,
            answers=answers,
            record=record,
        )
        if len(stored) == len(rows):
            return stored
        # Lease lost, or a part stored before: the transaction says which (and raises if lost).
        # The record was written with the parts the statement stored, if the lease held.
        async with self._sessions.begin() as session:
            return await self.store(session, lease, draft)

    async def record_stored(self, record: TurnRecordRows | None) -> None:
        """The agent's record of a turn whose reply was stored in a transaction of its own."""
        if record is None:
            return
        try:
            await record_turn(self._db, record)
        except DATABASE_ERRORS:
            # The reply matters more than its bookkeeping: log and let it go out.
            log.warning("could not record the agent turn", exc_info=True)

    async def deliver(
        self,
        tenant: Tenant,
        conversation: Conversation,
        parts: Sequence[Message],
        lease: ThreadLease,
        *,
        consent: ConsentEvent | Unread | None = UNREAD,
        progress: Progress | None = None,
    ) -> DeliveryReport:
        """Send the parts still pending, each only while `lease` holds."""
        # The conversation answered holds the contact's newest message: its time opens the window.
        return await self.delivery.deliver(
            tenant,
            conversation,
            parts,
            lease=lease,
            last_inbound=conversation.last_inbound_at,
            consent=consent,
            progress=progress,
        )
