"""Handles one inbound message: store it, answer its burst once, in order, send the reply once."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime import metrics
from wta_runtime.agents.model_calls import RETRYABLE, ModelFailure
from wta_runtime.agents.runtime import RECENT_TOOL_RESULTS
from wta_runtime.agents.selection import history_window
from wta_runtime.agents.spend_limits import Periods, time_zone
from wta_runtime.agents.turn import AgentProvider, AgentReply, AgentTurn
from wta_runtime.agents.usage import EARLIER_OUTCOMES
from wta_runtime.catalog import Agent, Tenant, TenantCatalog
from wta_runtime.channel.delivery import UNREAD, DeliveryReport, OutboundDelivery
from wta_runtime.channel.delivery_status import UNSENT
from wta_runtime.channel.rate_limit import SenderPacer
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.channel.split import split_message
from wta_runtime.channel.typing import TypingIndicator
from wta_runtime.conversation.bursts import seconds_until
from wta_runtime.conversation.lifecycle import CLOSED, State
from wta_runtime.db import conversation_store as store
from wta_runtime.db.driver import driver
from wta_runtime.db.handoffs import handoff_values
from wta_runtime.db.outbound import message_parts
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import ThreadLease, fence
from wta_runtime.db.transitions import transition
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.worker.consent_turns import ConsentTurns
from wta_runtime.worker.inbox import Inbox, thread_key
from wta_runtime.worker.known_opt_outs import KnownOptOuts
from wta_runtime.worker.media_intake import MediaIntake
from wta_runtime.worker.settling import (
    MARKERS,
    WITH_HUMAN,
    Outcome,
    answers_plainly,
    closes_after_reply,
    fallback_text,
    flag,
    is_farewell,
    refuse_pending,
    settle_without_agent,
)
from wta_runtime.worker.thread_ownership import ThreadOwnership
from wta_runtime.worker.thread_replies import ReplyDraft, ThreadReplies
from wta_runtime.worker.turn_context import build_turn
from wta_runtime.worker.withheld_replies import WithheldReplies

log = logging.getLogger("wta.worker")


def utcnow() -> datetime:
    return datetime.now(UTC)


def reply_key(message_sid: str) -> str:
    """The deterministic id of the reply to an inbound message (the newest of its burst)."""
    return f"reply:{message_sid}"


async def _ends_with_goodbye(session: AsyncSession, tenant: Tenant, key: str) -> bool:
    """Whether the burst the stored reply `key` answers ended with a goodbye (the key names its
    newest message); a fallback leaves the conversation open for a person to look at."""
    prefix = reply_key("")
    if not key.startswith(prefix):
        return False
    newest = await store.find_message(session, tenant.name, key.removeprefix(prefix))
    return newest is not None and is_farewell(tenant, newest)


@dataclass(frozen=True)
class TurnResult:
    """How a turn ended, and the agent that answered it ("" when no agent did)."""

    outcome: Outcome
    agent: str = ""


class Backlog(Protocol):
    """Earlier stream messages of the same thread, as (stream sequence, message)."""

    async def pending(self) -> list[tuple[int, InboundMessage]]: ...


class TurnProcessor:
    """Runs the data path for one message; safe to run again, and on any replica, at any time.

    No database connection is held while the model or Twilio is called: the thread is owned
    through a lease (`ThreadOwnership`), and every write and send of the turn is fenced by it.
    """

    def __init__(
        self,
        *,
        catalog: TenantCatalog,
        sessions: async_sessionmaker[AsyncSession],
        provider: AgentProvider,
        sender: OutboundSender,
        clock: Callable[[], datetime] = utcnow,
        media: MediaIntake | None = None,
        pacer: SenderPacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        ownership: ThreadOwnership | None = None,
        typing: TypingIndicator | None = None,
        known_opt_outs: KnownOptOuts | None = None,
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self._provider = provider
        self.clock = clock
        self._media = media
        self._sleep = sleep
        self._typing = typing or TypingIndicator(sender)
        self.known_opt_outs = known_opt_outs or KnownOptOuts()
        self._db = driver(sessions)
        self.inbox = Inbox(sessions, clock)
        delivery = OutboundDelivery(
            sessions=sessions,
            sender=sender,
            pacer=pacer or SenderPacer(sessions),
            clock=clock,
            sleep=sleep,
        )
        self.replies = ThreadReplies(
            sessions=sessions,
            ownership=ownership or ThreadOwnership(sessions),
            delivery=delivery,
            clock=clock,
        )
        self._withheld = WithheldReplies(sessions=sessions, delivery=delivery)
        self._consent = ConsentTurns(
            sessions=sessions, replies=self.replies, clock=clock, known=self.known_opt_outs
        )

    async def handle(
        self,
        inbound: InboundMessage,
        *,
        stream_seq: int | None = None,
        backlog: Backlog | None = None,
        earlier: Sequence[tuple[int, InboundMessage]] = (),
    ) -> TurnResult:
        """Answer `inbound` with every earlier unanswered message of its conversation.

        `earlier` are messages of the same thread that this worker holds (stream sequence,
        message); `backlog` finds those that other replicas may hold.
        """
        tenant = self.catalog.by_name(inbound.tenant)
        if tenant.spec.suspend:
            return TurnResult("tenant_suspended")
        key = thread_key(tenant.name, inbound.from_number, inbound.to_number)
        ownership = self.replies.ownership
        # Without a burst window nothing is waited for before the turn owns its thread: the
        # statement that stores a new message takes the thread's lease too, when it is free.
        ask = None if tenant.spec.conversation.burst_window else ownership.ask(key)
        received = await self.inbox.store_owning(tenant, inbound, stream_seq=stream_seq, lease=ask)
        stored, taken = received.message, None
        if ask is not None and received.lease_token is not None:
            taken = ownership.taken(ask, received.lease_token)  # a new message: not settled
        elif await self._settled(tenant, stored):
            return TurnResult("already_replied")
        else:
            await self._wait_for_quiet(tenant, stored)
        async with self.replies.own(key, taken=taken) as lease:
            earlier_messages = list(earlier)
            if backlog is not None:
                held = {seq for seq, _ in earlier_messages}
                earlier_messages += [
                    item
                    for item in await backlog.pending()
                    if item[0] not in held and item[1].message_sid != inbound.message_sid
                ]
            # A lagging stream holds many earlier messages, mostly stored already: ask once.
            stored_sids = await self.inbox.stored_sids(
                tenant, [message.message_sid for _, message in earlier_messages]
            )
            for seq, message in earlier_messages:
                if message.message_sid not in stored_sids:
                    await self.inbox.store(tenant, message, stream_seq=seq)
            result = await self._turn(tenant, inbound.message_sid, lease)
        metrics.TURN_SECONDS.labels(tenant.name).observe(
            max(0.0, (self.clock() - inbound.received_at).total_seconds())
        )
        return result

    async def _settled(self, tenant: Tenant, message: Message) -> bool:
        """Answered and every part of the answer left (or never will): nothing to do."""
        if message.answered_by is None:
            return False
        if message.answered_by in MARKERS:
            return True
        async with self.sessions() as session:
            parts = await message_parts(session, tenant.name, message.answered_by)
        return all(p.delivery_status not in UNSENT for p in parts)

    async def _wait_for_quiet(self, tenant: Tenant, message: Message) -> None:
        """Let a burst finish: the contact's quick follow-ups are answered in the same reply."""
        if not tenant.spec.conversation.burst_window:
            return  # no window: nothing to wait for, no need to ask
        while (moment := await self.inbox.settled_at(tenant, message.conversation_id)) is not None:
            wait = seconds_until(moment, self.clock())
            if wait <= 0:
                return
            await self._sleep(wait)

    async def _turn(self, tenant: Tenant, message_sid: str, lease: ThreadLease) -> TurnResult:
        """Owning the thread: settle every unanswered message of the conversation at once."""
        limited = tenant.spec.spending.limited
        state = await store.turn_state(
            self._db,
            tenant.name,
            message_sid,
            reply_prefix=reply_key(""),
            periods=Periods.at(self.clock(), time_zone(tenant.spec)) if limited else None,
            window=history_window(tenant),
            outcomes=EARLIER_OUTCOMES,
            tool_calls=RECENT_TOOL_RESULTS,
        )
        assert state is not None
        conversation, batch = state.conversation, state.batch
        self.known_opt_outs.saw(
            tenant.name, conversation.contact_number, opted_out=state.opt_out is not None
        )
        # The usual turn only reads here; what must be written first goes through a
        # transaction fenced by the lease (settling without the bot, a reply found stored).
        key = reply_key(batch[-1].idempotency_key) if batch else None
        if key is not None and (decided := await self._consent.settle(tenant, state, key, lease)):
            return TurnResult(decided)
        plain = (
            key is not None
            and not state.reply_stored
            and answers_plainly(tenant, tenant.default_agent(), conversation, batch)
        )
        answer: AgentReply | None
        if plain and key is not None:
            answer, parts = await self._answer(tenant, conversation, batch, key, lease, state=state)
            closes = closes_after_reply(tenant, batch)
        else:
            settled = await self._settle_first(tenant, message_sid, lease)
            if isinstance(settled, TurnResult):
                if settled.outcome == "with_human":
                    await self._withheld.settle(tenant, message_sid, lease)
                return settled
            conversation, parts, answer, closes = settled
        # The consent read with the turn's state holds while the thread's lease does (a keyword
        # of this thread waits for it); the unusual turn lets delivery read it again.
        consent = state.opt_out if plain else UNREAD
        # The usual turn (no action, no goodbye) moves the conversation on and frees the thread
        # with its reply's `sent` mark: one statement less.
        usual = not (answer.actions if answer is not None else ()) and not closes
        progress = (
            store.Progress(conversation.id, tenant.spec.timers.progress, lease.token)
            if usual
            else None
        )
        report = await self.replies.deliver(
            tenant, conversation, parts, lease, consent=consent, progress=progress
        )
        await self._after_delivery(tenant, conversation, report, answer, lease, closes=closes)
        agent = answer.agent if answer is not None and answer.agent else ""
        if report.refused and not report.sent:
            return TurnResult("refused", agent)
        return TurnResult("replied" if report.sent else "already_replied", agent)

    async def _settle_first(
        self, tenant: Tenant, message_sid: str, lease: ThreadLease
    ) -> TurnResult | tuple[Conversation, list[Message], AgentReply | None, bool]:
        """The unusual turn, in a fenced transaction: the result, or a stored reply to deliver
        (and whether the burst it answers ends with a goodbye that closes the conversation)."""
        async with self.sessions.begin() as session:
            await fence(session, lease)
            message = await store.find_message(session, tenant.name, message_sid)
            assert message is not None
            if message.answered_by in MARKERS:
                return TurnResult(MARKERS[message.answered_by])
            conversation = await session.get(
                Conversation, message.conversation_id, populate_existing=True
            )
            assert conversation is not None
            if message.answered_by is not None:
                key = message.answered_by
                if conversation.status == State.HUMAN_HANDOFF:
                    # A person took over after this reply was stored: the bot stays silent.
                    await refuse_pending(session, tenant.name, key, WITH_HUMAN, self.clock())
                    return TurnResult("with_human")
                closes = await _ends_with_goodbye(session, tenant, key)
                return conversation, await message_parts(session, tenant.name, key), None, closes
            if conversation.status in CLOSED:
                conversation = await self.inbox.carry_over(session, tenant, conversation)
            batch = await store.unanswered_inbound(session, conversation.id)
            settled = await settle_without_agent(
                session, tenant, tenant.default_agent(), conversation, batch, now=self.clock()
            )
            if settled is not None:
                return TurnResult(settled)
            key = reply_key(batch[-1].idempotency_key)
            parts = await message_parts(session, tenant.name, key)
            if parts:
                await store.mark_answered(session, batch, key)  # stored before a crash
                return conversation, parts, None, closes_after_reply(tenant, batch)
        # A conversation carried over to a new one: answer it like any other burst.
        answer, parts = await self._answer(tenant, conversation, batch, key, lease)
        return conversation, parts, answer, closes_after_reply(tenant, batch)

    async def _answer(
        self,
        tenant: Tenant,
        conversation: Conversation,
        batch: list[Message],
        key: str,
        lease: ThreadLease,
        *,
        state: store.TurnState | None = None,
    ) -> tuple[AgentReply, list[Message]]:
        """Run the agent on the burst and store its reply, split for WhatsApp, before any send.

        Only a burst the bot answers gets here (consent and a person were settled before), so
        the contact sees the bot "typing..." on their newest message while the reply is made.
        `state`, when read for this very burst, holds what the agent is given besides it.
        """
        async with self._typing.while_replying(tenant, batch[-1].idempotency_key):
            attachments = await self._media.attachments(tenant, batch) if self._media else {}
            default = tenant.default_agent()
            assert default is not None
            # The agents package chooses who answers; the history covers any agent's window.
            turn = await build_turn(
                self._db,
                tenant=tenant,
                agent=default,
                window=history_window(tenant),
                conversation=conversation,
                batch=batch,
                attachments=attachments,
                human_handled=state.human_handled if state else None,
                spent=state.spent if state else None,
                recent=state.recent if state else None,
                earlier=state.earlier if state else None,
            )
            answer = await self._run_agent(tenant, turn)
        draft = ReplyDraft(
            conversation=conversation,
            key=key,
            parts=split_message(answer.text, max_parts=tenant.spec.spending.max_reply_parts),
            author="system" if answer.fallback else "agent",
            agent=answer.agent,
            provider=answer.provider,
            answers=batch,
            details={"answers": [m.idempotency_key for m in batch]},
            media_urls=answer.media_urls,
        )
        if not answer.fallback:
            return answer, await self.replies.store_alone(lease, draft, record=answer.record)
        async with self.sessions.begin() as session:
            parts = await self.replies.store(session, lease, draft)
            await flag(session, conversation, "agent_failed", self.clock())
        await self.replies.record_stored(answer.record)
        return answer, parts

    async def _run_agent(self, tenant: Tenant, turn: AgentTurn) -> AgentReply:
        started = time.perf_counter()
        try:
            answer = await self._provider.reply(turn)
        except ModelFailure as failure:
            if failure.reason in RETRYABLE:
                raise  # transient: the consumer retries with backoff, then dead-letters
            return self._fallback(tenant, turn.agent)
        except Exception:
            return self._fallback(tenant, turn.agent)
        # The provider says which agent answered (it selects); a plain provider is the default.
        answered_by = answer.agent or turn.agent.name
        answer = dataclasses.replace(answer, agent=answered_by)
        metrics.AGENT_SECONDS.labels(tenant.name, answered_by, answer.provider).observe(
            time.perf_counter() - started
        )
        return answer

    def _fallback(self, tenant: Tenant, agent: Agent) -> AgentReply:
        # Whatever the model did, the user gets the friendly fallback, never an error.
        log.exception("agent of tenant %s failed; sending fallback", tenant.name)
        metrics.TURNS.labels(tenant.name, agent.name, "agent_failed").inc()
        return AgentReply(
            text=fallback_text(tenant, agent),
            provider="fallback",
            fallback=True,
            agent=agent.name,
        )

    async def _after_delivery(
        self,
        tenant: Tenant,
        conversation: Conversation,
        report: DeliveryReport,
        answer: AgentReply | None,
        lease: ThreadLease,
        *,
        closes: bool,
    ) -> None:
        """A sent reply moves the conversation to progress; the agent may also close or hand off,
        and a burst that ended with the contact's goodbye closes as theirs (`user_closed`)."""
        if not report.sent or report.progressed:
            return
        now = self.clock()
        actions = answer.actions if answer is not None else ()
        if not actions and not closes:
            # The usual turn: its last write moves the conversation and frees the thread.
            lease.releasing = True
            await store.progress_and_release(
                self._db,
                conversation_id=conversation.id,
                now=now,
                timeout=tenant.spec.timers.progress,
                token=lease.token,
            )
            lease.released = True
            return
        async with self.sessions.begin() as session:
            await store.move_to_progress(
                session, conversation=conversation, now=now, timeout=tenant.spec.timers.progress
            )
            # A handoff the agent asked for still reaches a person; otherwise the goodbye wins
            # over the agent's own close (closing priority), so it is applied first.
            if closes and not any(a.kind == "handoff_to_human" for a in actions):
                await transition(
                    session,
                    conversation.id,
                    State.USER_CLOSED,
                    reason="user_closing_words",
                    now=now,
                )
            for action in actions:
                if action.kind == "close_conversation":
                    await transition(
                        session, conversation.id, State.AGENT_CLOSED, reason="agent", now=now
                    )
                elif action.kind == "handoff_to_human":
                    await transition(
                        session,
                        conversation.id,
                        State.HUMAN_HANDOFF,
                        reason="agent_handoff",
                        now=now,
                        values=handoff_values(action.reason, action.after_hours, now),
                    )
                    if action.after_hours is not None:
                        metrics.HANDOFFS_AFTER_HOURS.labels(tenant.name).inc()
