"""Sends stored outbound messages once each: 24 h window, pacing, Twilio, then the `sent` mark.

Each part is marked `attempted` before it is handed to Twilio; a part found `attempted` (its
sender died or timed out before recording Twilio's answer) is first looked for at Twilio and
adopted when found, and only sent again when Twilio does not have it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime import metrics
from wta_runtime.agents.spend_limits import Periods, time_zone
from wta_runtime.catalog import Tenant
from wta_runtime.channel.delivery_status import ATTEMPTED, UNSENT
from wta_runtime.channel.rate_limit import SenderPacer
from wta_runtime.channel.sender import OutboundSender, SendError, SentMessage, Template
from wta_runtime.conversation.template_variables import content_variables
from wta_runtime.conversation.window import Refuse, UseTemplate, decide_send
from wta_runtime.db.consent import ConsentEvent, blocked_by, opted_out
from wta_runtime.db.contacts import last_inbound_at
from wta_runtime.db.conversation_store import Progress, sent_progress_and_release
from wta_runtime.db.driver import driver
from wta_runtime.db.engine import single_statements
from wta_runtime.db.outbound import mark_attempted, mark_sent, mark_unsent
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import ThreadLease

log = logging.getLogger("wta.channel")

REPLACED_BY_TEMPLATE = "replaced_by_template"
OPTED_OUT = "opted_out"
TEMPLATE_NEEDS_VALUES = "template_needs_variables"


def _template_details(template: Template | None) -> dict[str, Any] | None:
    """What a message sent as a template keeps: which one, with which values (the audit)."""
    if template is None:
        return None
    return {"template": template.content_sid, "template_variables": dict(template.variables)}


class Unread:
    """The contact's consent was not read by the caller: delivery reads it."""


UNREAD = Unread()
RESENT = "not there, sending it again"
# A send Twilio did not answer within its timeout may still be acted on after it: its part is
# looked for no earlier than this many timeouts after it left, or a slow Twilio's message would
# be missed and sent twice.
SETTLE_TIMEOUTS = 2


@dataclass(frozen=True)
class DeliveryReport:
    """What happened to the unsent parts of one outbound message (`sent` counts those adopted)."""

    sent: int = 0
    refused: int = 0
    refused_reason: str | None = None
    template: bool = False
    # The `progress` asked for was written with the last part's `sent` mark (lease released).
    progressed: bool = False


class OutboundDelivery:
    """The one way a message leaves: stored first (by the caller), sent once, marked sent."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        sender: OutboundSender,
        pacer: SenderPacer,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._single = single_statements(sessions)
        self._db = driver(sessions)
        self._sender = sender
        self._pacer = pacer
        self._clock = clock
        self._sleep = sleep
        self._settle = timedelta(seconds=SETTLE_TIMEOUTS * sender.timeout)

    async def deliver(
        self,
        tenant: Tenant,
        conversation: Conversation,
        parts: Sequence[Message],
        *,
        lease: ThreadLease | None = None,
        last_inbound: datetime | None = None,
        consent: ConsentEvent | Unread | None = UNREAD,
        template_variables: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> DeliveryReport:
        """Send every part not sent yet, in order; raises `SendError` when Twilio fails one.

        An `attempted` part Twilio already has is adopted (its SID recorded), not sent again.
        With the thread's `lease`, nothing is sent once it is lost (`LeaseLostError`).
        `last_inbound`, when the caller knows it, is the contact's last message (24 h window).
        `consent`, when the caller read it in this turn, is the contact's opt-out in force.
        `template_variables` are a person's values for the template's per-send placeholders,
        used when the window has closed (checked by the caller).
        `progress` (with `lease`, its token): the turn's last write, done with the `sent` mark
        of the last part when that part is sent as text now; `progressed` says whether it was.
        """
        adopted = await self._adopt_attempted(tenant, conversation, parts, lease)
        pending = [p for p in parts if p.delivery_status in UNSENT]
        if not pending:
            return DeliveryReport(sent=adopted)
        refused = await self._refuse_opted_out(tenant, conversation, pending, consent)
        if refused:
            pending = [p for p in pending if p not in refused]
            if not pending:
                return DeliveryReport(sent=adopted, refused=len(refused), refused_reason=OPTED_OUT)
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
        values = content_variables(template, template_variables) if template else None
        decision = decide_send(
            last,
            self._clock(),
            template_sid=template.content_sid if template and values is not None else None,
            template_variables=values,
        )
        if isinstance(decision, Refuse) and template is not None:
            # The template has placeholders a person fills in, and none were given (the bot).
            decision = Refuse(TEMPLATE_NEEDS_VALUES)
        if isinstance(decision, Refuse):
            await self._refuse(tenant, pending, decision.reason)
            return DeliveryReport(
                sent=adopted, refused=len(pending), refused_reason=decision.reason
            )
        if isinstance(decision, UseTemplate):
            # Outside the window the template re-opens the conversation; the text cannot go.
            approved = Template(decision.content_sid, decision.variables)
            await self._send(tenant, conversation, pending[0], approved, lease)
            await self._refuse(tenant, pending[1:], REPLACED_BY_TEMPLATE)
            return DeliveryReport(sent=adopted + 1, refused=len(pending) - 1, template=True)
        for part in pending[:-1]:
            await self._send(tenant, conversation, part, None, lease)
        folded = progress if lease is not None and progress is not None else None
        if folded is not None and lease is not None:
            lease.releasing = True
        await self._send(tenant, conversation, pending[-1], None, lease, progress=folded)
        if folded is not None and lease is not None:
            lease.released = True
        return DeliveryReport(sent=adopted + len(pending), progressed=folded is not None)

    async def withdraw(
        self,
        tenant: Tenant,
        conversation: Conversation,
        parts: Sequence[Message],
        *,
        lease: ThreadLease,
        reason: str,
    ) -> int:
        """Parts that must not leave any more: each `attempted` one Twilio has is adopted (it
        left), the others are refused with `reason` (they never will); how many were adopted."""
        adopted = await self._adopt_attempted(tenant, conversation, parts, lease, withdrawn=reason)
        await self._refuse(tenant, [p for p in parts if p.delivery_status in UNSENT], reason)
        return adopted

    async def _adopt_attempted(
        self,
        tenant: Tenant,
        conversation: Conversation,
        parts: Sequence[Message],
        lease: ThreadLease | None,
        *,
        withdrawn: str | None = None,
    ) -> int:
        """Ask Twilio for each `attempted` part; record the ones it has; how many it had.

        A part Twilio does not have is sent again, unless `withdrawn` says why it will not be.
        """
        taken = {p.twilio_sid for p in parts if p.twilio_sid}
        adopted = 0
        for part in parts:
            if part.delivery_status != ATTEMPTED or part.send_attempted_at is None:
                continue
            settled_at = part.send_attempted_at + self._settle
            if (wait := (settled_at - self._clock()).total_seconds()) > 0:
                await self._sleep(wait)  # the thread's lease and the message are kept alive
            if lease is not None:
                lease.check()  # only the thread's owner may record what the part became
            template = part.details.get("template")
            found = await self._sender.find_sent(
                tenant,
                from_number=conversation.business_number,
                to_number=conversation.contact_number,
                body=None if template else part.body,
                media_count=0 if template else len(part.details.get("media_urls", [])),
                attempted_at=part.send_attempted_at,
                taken=taken,
            )
            outcome = "adopted" if found else "refused" if withdrawn else "resent"
            missing = f"not there, not sent: {withdrawn}" if withdrawn else RESENT
            metrics.OUTBOUND_ATTEMPTS_RESOLVED.labels(tenant.name, outcome).inc()
            log.warning(
                "part %s was handed to Twilio at %s without a recorded answer: %s",
                part.id,
                part.send_attempted_at.isoformat(),
                f"found as {found.sid}, adopted" if found else missing,
            )
            if found is None:
                continue
            await self._record_sent(tenant, part, found, {"adopted": True})
            taken.add(found.sid)
            adopted += 1
        return adopted

    async def _send(
        self,
        tenant: Tenant,
        conversation: Conversation,
        part: Message,
        template: Template | None,
        lease: ThreadLease | None,
        *,
        progress: Progress | None = None,
    ) -> None:
        # Before Twilio has it: if its answer is never recorded, the next delivery looks there
        # (from the slot's reservation on, a little before the send: never after it).
        attempted_at = self._clock()
        folded = lease is not None and template is None
        await self._pacer.wait_turn(
            tenant=tenant.name,
            sender=conversation.business_number,
            per_second=tenant.spec.rate_limit.messages_per_second,
            lease=lease,
            attempt=(part.id, attempted_at) if folded else None,
        )
        if not folded:
            async with self._single() as session:
                await mark_attempted(
                    session,
                    message_id=part.id,
                    now=attempted_at,
                    details=_template_details(template),
                )
        part.delivery_status, part.send_attempted_at = ATTEMPTED, attempted_at
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
        await self._record_sent(tenant, part, sent, _template_details(template), progress)

    async def _record_sent(
        self,
        tenant: Tenant,
        part: Message,
        sent: SentMessage,
        details: dict[str, Any] | None,
        progress: Progress | None = None,
    ) -> None:
        now = self._clock()
        values: dict[str, Any] = {
            "message_id": part.id,
            "twilio_sid": sent.sid,
            "status": sent.status,
            "now": now,
            "day": Periods.at(now, time_zone(tenant.spec)).today,
            "details": details,
        }
        if progress is None:
            await mark_sent(self._db, **values)
        else:
            await sent_progress_and_release(self._db, progress=progress, **values)
        part.delivery_status = sent.status
        part.twilio_sid = sent.sid

    async def _refuse_opted_out(
        self,
        tenant: Tenant,
        conversation: Conversation,
        pending: Sequence[Message],
        consent: ConsentEvent | Unread | None,
    ) -> list[Message]:
        """Refuse what must not reach a contact who opted out (all but their confirmation)."""
        opt_out = consent
        if isinstance(opt_out, Unread):
            async with self._single() as session:
                opt_out = await opted_out(
                    session, tenant=tenant.name, contact=conversation.contact_number
                )
        blocked = blocked_by(opt_out, pending) if opt_out is not None else []
        await self._refuse(tenant, blocked, OPTED_OUT)
        return blocked

    async def _refuse(self, tenant: Tenant, parts: Sequence[Message], reason: str) -> None:
        if not parts:
            return
        metrics.OUTBOUND_REFUSED.labels(tenant.name, reason).inc(len(parts))
        log.warning("%d outbound message(s) not sent: %s", len(parts), reason)
        async with self._sessions.begin() as session:
            for part in parts:
                await mark_unsent(
                    session, message_id=part.id, status="refused", reason=reason, now=self._clock()
                )
                part.delivery_status = "refused"
