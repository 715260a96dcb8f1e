"""Giving up on a message: keep it in the dead-letter stream, tell the contact, flag the thread."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from nats.js import JetStreamContext

from wta_runtime.catalog import Tenant
from wta_runtime.channel.sender import OutboundSender, SendError
from wta_runtime.conversation.lifecycle import State
from wta_runtime.db import conversation_store as store
from wta_runtime.db.outbound import message_parts, save_outbound
from wta_runtime.db.tables import Conversation
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.worker.inbox import thread_key
from wta_runtime.worker.settling import MARKERS, fallback_text, flag, refuse_pending
from wta_runtime.worker.turn_processor import THREAD_WAIT_SECONDS, TurnProcessor

log = logging.getLogger("wta.worker")


def fallback_key(message_sid: str) -> str:
    return f"fallback:{message_sid}"


class DeadLetters:
    """What happens after the last attempt at a message (or when retrying cannot help)."""

    def __init__(
        self, js: JetStreamContext, processor: TurnProcessor, sender: OutboundSender
    ) -> None:
        self._js = js
        self._processor = processor
        self._sender = sender

    async def give_up(
        self,
        names: TenantStream,
        inbounds: Sequence[InboundMessage],
        *,
        reason: str,
        attempts: int,
    ) -> None:
        """Dead-letter the messages (one thread's, oldest first), send one fallback, flag it."""
        for inbound in inbounds:
            await self._js.publish(
                names.dead_letter_subject,
                inbound.model_dump_json().encode(),
                stream=names.dead_letter_stream,
                headers={
                    "Nats-Msg-Id": inbound.message_sid,
                    "Wta-Reason": reason[:512],
                    "Wta-Attempts": str(attempts),
                },
            )
        inbound = inbounds[-1]
        tenant = self._processor.catalog.by_name(inbound.tenant)
        try:
            await self._fallback(tenant, inbound, reason)
        except SendError as exc:
            log.error("fallback to %s not sent: %s", tenant.name, exc)
        except Exception:
            # Even without the database the contact should hear from us, once (no redelivery).
            log.exception("fallback for %s not recorded; sending it unrecorded", tenant.name)
            await self._sender.send(
                tenant,
                from_number=inbound.to_number,
                to_number=inbound.from_number,
                body=fallback_text(tenant, tenant.default_agent()),
            )

    async def _fallback(self, tenant: Tenant, inbound: InboundMessage, reason: str) -> None:
        processor = self._processor
        clock = processor.clock
        stored = await processor.inbox.store(tenant, inbound)
        key = fallback_key(inbound.message_sid)
        lock = thread_key(tenant.name, inbound.from_number, inbound.to_number)
        async with processor.locks.hold(lock, timeout=THREAD_WAIT_SECONDS):
            async with processor.sessions.begin() as session:
                conversation = await session.get(
                    Conversation, stored.conversation_id, populate_existing=True
                )
                assert conversation is not None
                message = await store.find_message(session, tenant.name, inbound.message_sid)
                assert message is not None
                if message.answered_by is None:
                    batch = await store.unanswered_inbound(session, conversation.id)
                    await store.mark_answered(session, batch, key)
                elif message.answered_by not in MARKERS:
                    await refuse_pending(
                        session, tenant.name, message.answered_by, "gave_up", clock()
                    )
                await flag(session, conversation, f"dead_letter: {reason}"[:256], clock())
                if conversation.status == State.HUMAN_HANDOFF:
                    return  # a person answers; the bot stays silent even now
                await save_outbound(
                    session,
                    conversation=conversation,
                    key=key,
                    parts=[fallback_text(tenant, tenant.default_agent())],
                    author="system",
                    agent=None,
                    provider="fallback",
                    now=clock(),
                    details={"reason": reason[:256]},
                )
            async with processor.sessions() as session:
                parts = await message_parts(session, tenant.name, key)
            await processor.delivery.deliver(tenant, conversation, parts)
