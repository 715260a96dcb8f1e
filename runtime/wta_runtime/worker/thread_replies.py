"""Storing a reply and delivering it, only while this worker owns the conversation thread.

The turn and the dead-letter path both answer through here: the reply is stored (fenced by the
thread's lease) before anything is sent, and each part is sent only while the lease still holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.catalog import Tenant
from wta_runtime.channel.delivery import DeliveryReport, OutboundDelivery
from wta_runtime.db import conversation_store as store
from wta_runtime.db.outbound import save_outbound
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import ThreadLease, fence
from wta_runtime.worker.thread_ownership import ThreadOwnership

# The turn holding a thread ends within its model and Twilio timeouts; waiting is not a failure.
THREAD_WAIT_SECONDS = 300.0


class ThreadReplies:
    """Own a thread, store its reply under that ownership, deliver it under the same."""

    def __init__(
        self,
        *,
        ownership: ThreadOwnership,
        delivery: OutboundDelivery,
        clock: Callable[[], datetime],
    ) -> None:
        self.ownership = ownership
        self.delivery = delivery
        self._clock = clock

    @asynccontextmanager
    async def own(self, thread: str) -> AsyncIterator[ThreadLease]:
        """Hold the thread's lease for the block (waiting for another turn of it to end)."""
        async with self.ownership.hold(thread, timeout=THREAD_WAIT_SECONDS) as lease:
            yield lease

    async def store(
        self,
        session: AsyncSession,
        lease: ThreadLease,
        *,
        conversation: Conversation,
        key: str,
        parts: list[str],
        author: str,
        agent: str | None,
        provider: str | None,
        answers: Sequence[Message] = (),
        details: dict[str, Any] | None = None,
        media_urls: Sequence[str] = (),
    ) -> list[Message]:
        """In the caller's transaction: store the reply and settle what it `answers`."""
        await fence(session, lease)
        stored = await save_outbound(
            session,
            conversation=conversation,
            key=key,
            parts=parts,
            author=author,
            agent=agent,
            provider=provider,
            now=self._clock(),
            details=details,
            media_urls=media_urls,
        )
        if answers:
            await store.mark_answered(session, answers, key)
        return stored

    async def deliver(
        self,
        tenant: Tenant,
        conversation: Conversation,
        parts: Sequence[Message],
        lease: ThreadLease,
    ) -> DeliveryReport:
        """Send the parts still pending, each only while `lease` holds."""
        # The conversation answered holds the contact's newest message: its time opens the window.
        return await self.delivery.deliver(
            tenant, conversation, parts, lease=lease, last_inbound=conversation.last_inbound_at
        )
