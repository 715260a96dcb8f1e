"""Stores each inbound message once, in its conversation, and tells when a burst has settled."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.catalog import Tenant
from wta_runtime.conversation.bursts import quiet_at
from wta_runtime.conversation.lifecycle import State
from wta_runtime.db import bursts
from wta_runtime.db import conversation_store as store
from wta_runtime.db.driver import driver
from wta_runtime.db.engine import single_statements
from wta_runtime.db.receive import Received, receive
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import LeaseAsk
from wta_runtime.db.transitions import transition
from wta_runtime.stream.inbound import InboundMessage


def bare(number: str) -> str:
    return number.removeprefix("whatsapp:")


def thread_key(tenant: str, contact: str, business: str) -> str:
    """One contact talking to one business number: the unit that is answered in order."""
    return f"{tenant}|{bare(contact)}|{bare(business)}"


def inbound_details(inbound: InboundMessage) -> dict[str, Any]:
    """What the turn needs later besides the body (no credentials, no raw parameters)."""
    return {
        "profile_name": inbound.profile_name,
        "num_media": len(inbound.media),
        "media": [item.model_dump() for item in inbound.media],
        "button_text": inbound.button_text,
        "button_payload": inbound.button_payload,
        "received_at": inbound.received_at.isoformat(),
    }


class Inbox:
    """The database side of receiving: idempotent by `MessageSid`, ordered by stream sequence."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._reads = single_statements(sessions)
        self._db = driver(sessions)
        self._clock = clock

    async def store(
        self, tenant: Tenant, inbound: InboundMessage, *, stream_seq: int | None = None
    ) -> Message:
        """The stored message; stored now (a user returning from idle resumes progress) if new."""
        return (await self.store_owning(tenant, inbound, stream_seq=stream_seq)).message

    async def store_owning(
        self,
        tenant: Tenant,
        inbound: InboundMessage,
        *,
        stream_seq: int | None = None,
        lease: LeaseAsk | None = None,
    ) -> Received:
        """`store`, and with `lease` the thread's lease token when the message is new and its
        thread free (taken by the same statement); no token otherwise."""
        received = await receive(
            self._db,
            tenant=tenant.name,
            contact=bare(inbound.from_number),
            business=bare(inbound.to_number),
            profile_name=inbound.profile_name,
            message_sid=inbound.message_sid,
            body=inbound.body,
            details=inbound_details(inbound),
            stream_seq=stream_seq,
            received_at=inbound.received_at,
            now=self._clock(),
            pending_timeout=tenant.spec.timers.pending,
            lease=lease,
        )
        if received is not None:
            return received
        async with self._sessions.begin() as session:
            found = await store.find_message(session, tenant.name, inbound.message_sid)
            if found is not None:
                return Received(found)
            now = self._clock()
            conversation = await store.open_conversation(
                session,
                tenant=tenant.name,
                contact=bare(inbound.from_number),
                business=bare(inbound.to_number),
                contact_name=inbound.profile_name,
                now=now,
                pending_timeout=tenant.spec.timers.pending,
            )
            message = await store.record_inbound(
                session,
                conversation=conversation,
                message_sid=inbound.message_sid,
                body=inbound.body,
                details=inbound_details(inbound),
                now=now,
                received_at=inbound.received_at,
                stream_seq=stream_seq,
            )
            if conversation.status == State.IDLE_TIMEOUT:
                await transition(
                    session,
                    conversation.id,
                    State.PROGRESS,
                    reason="user_returned",
                    now=now,
                    values={"expires_at": now + tenant.spec.timers.progress},
                )
            return Received(message)

    async def stored_sids(self, tenant: Tenant, sids: list[str]) -> set[str]:
        """Which of these `MessageSid`s are stored already (one query for a whole backlog)."""
        if not sids:
            return set()
        async with self._reads() as session:
            return await bursts.stored_keys(session, tenant.name, sids)

    async def settled_at(self, tenant: Tenant, conversation_id: uuid.UUID) -> datetime | None:
        """When the burst of unanswered messages may be answered; None when nothing waits."""
        async with self._reads() as session:
            oldest, newest = await bursts.unanswered_span(session, conversation_id)
        if oldest is None or newest is None:
            return None
        return quiet_at(oldest, newest, tenant.spec.conversation.burst_window)

    async def carry_over(
        self, session: AsyncSession, tenant: Tenant, closed: Conversation
    ) -> Conversation:
        """Unanswered messages of a conversation closed meanwhile move to the contact's next one."""
        successor = await store.open_conversation(
            session,
            tenant=tenant.name,
            contact=closed.contact_number,
            business=closed.business_number,
            contact_name=closed.contact_name,
            now=self._clock(),
            pending_timeout=tenant.spec.timers.pending,
        )
        await bursts.move_unanswered(session, source=closed.id, target=successor.id)
        return successor
