"""A stored reply the bot must not send any more (a person took the conversation over), whose
parts a crashed worker may already have handed to Twilio (`attempted`).

No delivery will ever come for such a reply, so its attempted parts are settled here, owning the
thread: a part Twilio has is adopted (its SID recorded: the contact got it), any other is
refused as not sent. Nothing stays `attempted`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.catalog import Tenant
from wta_runtime.channel.delivery import OutboundDelivery
from wta_runtime.channel.delivery_status import ATTEMPTED
from wta_runtime.db import conversation_store as store
from wta_runtime.db.engine import single_statements
from wta_runtime.db.outbound import message_parts
from wta_runtime.db.tables import Conversation
from wta_runtime.db.thread_leases import ThreadLease
from wta_runtime.worker.settling import MARKERS, WITH_HUMAN


class WithheldReplies:
    """Settles the attempted parts of the reply to a message left to a person."""

    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], delivery: OutboundDelivery
    ) -> None:
        self._reads = single_statements(sessions)
        self._delivery = delivery

    async def settle(self, tenant: Tenant, message_sid: str, lease: ThreadLease) -> None:
        """Adopt or refuse each `attempted` part of the reply answering `message_sid`."""
        async with self._reads() as session:
            message = await store.find_message(session, tenant.name, message_sid)
            if message is None or message.answered_by in (None, *MARKERS):
                return
            assert message.answered_by is not None
            parts = await message_parts(session, tenant.name, message.answered_by)
            if not any(p.delivery_status == ATTEMPTED for p in parts):
                return
            conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        await self._delivery.withdraw(tenant, conversation, parts, lease=lease, reason=WITH_HUMAN)
