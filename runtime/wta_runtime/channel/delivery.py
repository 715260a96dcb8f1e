"""Sends stored outbound messages once each: 24 h window, pacing, Twilio, then the `sent` mark."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime import metrics
from wta_runtime.catalog import Tenant
from wta_runtime.channel.rate_limit import SenderPacer
from wta_runtime.channel.sender import OutboundSender, SendError, Template
from wta_runtime.conversation.window import Refuse, UseTemplate, decide_send
from wta_runtime.db.contacts import last_inbound_at
from wta_runtime.db.engine import single_statements
from wta_runtime.db.outbound import mark_sent, mark_unsent
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import ThreadLease

log = logging.getLogger("wta.channel")

REPLACED_BY_TEMPLATE = "replaced_by_template"


@dataclass(frozen=True)
class DeliveryReport:
    """What happened to the pending parts of one outbound message."""

    sent: int = 0
    refused: int = 0
    refused_reason: str | None = None
    template: bool = False


class OutboundDelivery:
    """The one way a message leaves: stored first (by the caller), sent once, marked sent."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        sender: OutboundSender,
        pacer: SenderPacer,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._single = single_statements(sessions)
        self._sender = sender
        self._pacer = pacer
        self._clock = clock

    async def deliver(
        self,
        tenant: Tenant,
        conversation: Conversation,
        parts: Sequence[Message],
        *,
        lease: ThreadLease | None = None,
        last_inbound: datetime | None = None,
    ) -> DeliveryReport:
        """Send every still-pending part, in order; raises `SendError` when Twilio fails one.

        With the thread's `lease`, nothing is sent once it is lost (`LeaseLostError`).
        `last_inbound`, when the caller knows it, is the contact's last message (24 h window).
        """
        pending = [p for p in parts if p.delivery_status == "pending"]
        if not pending:
            return DeliveryReport()
        last = last_inbound
        if last is None:
            async with self._single() as session:
                last = await last_inbound_at(
                    session,
                    tenant=tenant.name,
                    business=conversation.business_number,
                    contact=conversation.contact_number,
                )
        template = tenant.spec.template
        decision = decide_send(
            last,
            self._clock(),
            template_sid=template.content_sid if template else None,
            template_variables=template.variables if template else None,
        )
        if isinstance(decision, Refuse):
            await self._refuse(pending, decision.reason)
            return DeliveryReport(refused=len(pending), refused_reason=decision.reason)
        if isinstance(decision, UseTemplate):
            # Outside the window the template re-opens the conversation; the text cannot go.
            approved = Template(decision.content_sid, decision.variables)
            await self._send(tenant, conversation, pending[0], approved, lease)
            await self._refuse(pending[1:], REPLACED_BY_TEMPLATE)
            return DeliveryReport(sent=1, refused=len(pending) - 1, template=True)
        for part in pending:
            await self._send(tenant, conversation, part, None, lease)
        return DeliveryReport(sent=len(pending))

    async def _send(
        self,
        tenant: Tenant,
        conversation: Conversation,
        part: Message,
        template: Template | None,
        lease: ThreadLease | None,
    ) -> None:
        await self._pacer.wait_turn(
            tenant=tenant.name,
            sender=conversation.business_number,
            per_second=tenant.spec.rate_limit.messages_per_second,
            lease=lease,
        )
        if lease is not None:
            lease.check()  # the pacer may have waited: still ours, right before it leaves
        try:
            sent = await self._sender.send(
                tenant,
                from_number=conversation.business_number,
                to_number=conversation.contact_number,
                body=part.body,
                media_urls=list(part.details.get("media_urls", [])),
                template=template,
            )
        except SendError as exc:
            if not exc.retryable:
                async with self._sessions.begin() as session:
                    await mark_unsent(
                        session,
                        message_id=part.id,
                        status="failed",
                        reason=str(exc),
                        error_code=exc.code,
                        now=self._clock(),
                    )
            raise
        metrics.OUTBOUND_MESSAGES.labels(tenant.name, sent.status).inc()
        details = {"template": template.content_sid} if template else None
        async with self._single() as session:
            await mark_sent(
                session,
                message_id=part.id,
                twilio_sid=sent.sid,
                status=sent.status,
                now=self._clock(),
                details=details,
            )
        part.delivery_status = sent.status
        part.twilio_sid = sent.sid

    async def _refuse(self, parts: Sequence[Message], reason: str) -> None:
        if not parts:
            return
        log.warning("%d outbound message(s) not sent: %s", len(parts), reason)
        async with self._sessions.begin() as session:
            for part in parts:
                await mark_unsent(
                    session, message_id=part.id, status="refused", reason=reason, now=self._clock()
                )
                part.delivery_status = "refused"
