"""Giving up on a message: keep it in the dead-letter stream, tell the contact, flag the thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.catalog import Tenant
from wta_runtime.channel.sender import OutboundSender, SendError
from wta_runtime.conversation.consent import OPT_OUT, consent_keyword
from wta_runtime.conversation.lifecycle import State
from wta_runtime.db import conversation_store as store
from wta_runtime.db.outbound import message_parts
from wta_runtime.db.tables import Conversation
from wta_runtime.db.thread_leases import LeaseLostError, fence
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.worker.inbox import Inbox, bare, thread_key
from wta_runtime.worker.known_opt_outs import KnownOptOuts
from wta_runtime.worker.settling import MARKERS, fallback_text, flag, refuse_pending
from wta_runtime.worker.thread_replies import ReplyDraft, ThreadReplies

log = logging.getLogger("wta.worker")


def fallback_key(message_sid: str) -> str:
    return f"fallback:{message_sid}"


async def _delivered(session: AsyncSession, tenant: Tenant, key: str) -> bool:
    """Whether Twilio took every part of the reply `key` (a marker is no reply)."""
    if key in MARKERS:
        return False
    parts = await message_parts(session, tenant.name, key)
    return bool(parts) and all(part.twilio_sid is not None for part in parts)


class DeadLetters:
    """What happens after the last attempt at a message (or when retrying cannot help)."""

    def __init__(
        self,
        js: JetStreamContext,
        *,
        tenant_of: Callable[[str], Tenant],
        sessions: async_sessionmaker[AsyncSession],
        inbox: Inbox,
        replies: ThreadReplies,
        sender: OutboundSender,
        clock: Callable[[], datetime],
        known_opt_outs: KnownOptOuts,
    ) -> None:
        self._js = js
        self._tenant_of = tenant_of
        self._sessions = sessions
        self._inbox = inbox
        self._replies = replies
        self._sender = sender
        self._clock = clock
        self._known_opt_outs = known_opt_outs

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
        tenant = self._tenant_of(inbound.tenant)
        try:
            await self._fallback(tenant, inbound, reason)
        except SendError as exc:
            log.error("fallback to %s not sent: %s", tenant.name, exc)
        except LeaseLostError:
            raise  # another worker holds the thread: give up again later, once it has answered
        except Exception:
            # Even without the database the contact should hear from us, once (no redelivery),
            # unless they opted out as far as this worker can tell without it.
            if self._opted_out_unrecorded(tenant, inbounds):
                log.exception("fallback for %s not recorded; not sent: opted out", tenant.name)
                return
            log.exception("fallback for %s not recorded; sending it unrecorded", tenant.name)
            await self._sender.send(
                tenant,
                from_number=inbound.to_number,
                to_number=inbound.from_number,
                body=fallback_text(tenant, tenant.default_agent()),
            )

    def _opted_out_unrecorded(self, tenant: Tenant, inbounds: Sequence[InboundMessage]) -> bool:
        """Whether the contact opted out, as far as is known without the database: the last
        consent keyword among the messages given up, else what this worker's turns last saw."""
        rules = tenant.spec.consent
        for inbound in reversed(inbounds):
            said = consent_keyword(
                inbound.body, opt_out=rules.opt_out_keywords, opt_in=rules.opt_in_keywords
            )
            if said is not None:
                return said.kind == OPT_OUT
        return self._known_opt_outs.opted_out(tenant.name, bare(inbounds[-1].from_number))

    async def _fallback(self, tenant: Tenant, inbound: InboundMessage, reason: str) -> None:
        clock = self._clock
        stored = await self._inbox.store(tenant, inbound)
        key = fallback_key(inbound.message_sid)
        thread = thread_key(tenant.name, inbound.from_number, inbound.to_number)
        async with self._replies.own(thread) as lease:
            async with self._sessions.begin() as session:
                await fence(session, lease)
                conversation = await session.get(
                    Conversation, stored.conversation_id, populate_existing=True
                )
                assert conversation is not None
                message = await store.find_message(session, tenant.name, inbound.message_sid)
                assert message is not None
                if message.answered_by is None:
                    batch = await store.unanswered_inbound(session, conversation.id)
                    await store.mark_answered(session, batch, key)
                elif await _delivered(session, tenant, message.answered_by):
                    log.warning("%s was answered after all; no fallback", inbound.message_sid)
                    return
                elif message.answered_by not in MARKERS:
                    await refuse_pending(
                        session, tenant.name, message.answered_by, "gave_up", clock()
                    )
                await flag(session, conversation, f"dead_letter: {reason}"[:256], clock())
                if conversation.status == State.HUMAN_HANDOFF:
                    return  # a person answers; the bot stays silent even now
                fallback = ReplyDraft(
                    conversation=conversation,
                    key=key,
                    parts=[fallback_text(tenant, tenant.default_agent())],
                    author="system",
                    agent=None,
                    provider="fallback",
                    details={"reason": reason[:256]},
                )
                parts = await self._replies.store(session, lease, fallback)
            await self._replies.deliver(tenant, conversation, parts, lease)
