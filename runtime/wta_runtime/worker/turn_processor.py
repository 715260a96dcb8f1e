"""Handles one inbound message: store it, run the agent, store the reply, send it once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime import metrics
from wta_runtime.agents.turn import AgentProvider, AgentReply, AgentTurn, HistoryEntry
from wta_runtime.catalog import Agent, Tenant, TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.db import conversation_store as store
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.stream.inbound import InboundMessage

log = logging.getLogger("wta.worker")

Outcome = Literal["replied", "already_replied", "with_human", "no_agent", "tenant_suspended"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def reply_key(message_sid: str) -> str:
    """The deterministic id of the reply to an inbound message, stored before the send."""
    return f"reply:{message_sid}"


@dataclass(frozen=True)
class PreparedTurn:
    conversation: Conversation
    reply: Message | None
    turn: AgentTurn | None


class TurnProcessor:
    """Runs the data path for one message; safe to run again for the same message."""

    def __init__(
        self,
        *,
        catalog: TenantCatalog,
        sessions: async_sessionmaker[AsyncSession],
        provider: AgentProvider,
        sender: OutboundSender,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.catalog = catalog
        self._sessions = sessions
        self._provider = provider
        self._sender = sender
        self._clock = clock

    async def handle(self, inbound: InboundMessage) -> Outcome:
        tenant = self.catalog.by_name(inbound.tenant)
        if tenant.spec.suspend:
            return "tenant_suspended"
        agent = tenant.default_agent()
        prepared = await self._prepare(tenant, agent, inbound)
        if prepared.conversation.status == "human_handoff":
            return "with_human"
        reply = prepared.reply
        if reply is not None and reply.delivery_status not in ("pending", None):
            return "already_replied"
        if reply is None:
            if prepared.turn is None or agent is None:
                return "no_agent"
            answer = await self._run_agent(tenant, agent, prepared.turn)
            async with self._sessions.begin() as session:
                reply = await store.save_reply(
                    session,
                    conversation=prepared.conversation,
                    key=reply_key(inbound.message_sid),
                    body=answer.text,
                    agent=agent.name,
                    provider=answer.provider,
                    now=self._clock(),
                )
        await self._send(tenant, inbound, prepared.conversation, reply)
        metrics.TURN_SECONDS.labels(tenant.name).observe(
            max(0.0, (self._clock() - inbound.received_at).total_seconds())
        )
        return "replied"

    async def _prepare(
        self, tenant: Tenant, agent: Agent | None, inbound: InboundMessage
    ) -> PreparedTurn:
        now = self._clock()
        async with self._sessions.begin() as session:
            conversation = await store.open_conversation(
                session,
                tenant=tenant.name,
                contact=inbound.from_number.removeprefix("whatsapp:"),
                business=inbound.to_number.removeprefix("whatsapp:"),
                contact_name=inbound.profile_name,
                now=now,
                pending_timeout=tenant.spec.timers.pending,
            )
            stored = await store.record_inbound(
                session,
                conversation=conversation,
                message_sid=inbound.message_sid,
                body=inbound.body,
                details={"profile_name": inbound.profile_name, "num_media": len(inbound.media)},
                now=now,
            )
            reply = await store.find_message(session, tenant.name, reply_key(inbound.message_sid))
            turn = None
            if agent is not None and reply is None:
                window = await store.recent_messages(
                    session, conversation.id, agent.spec.memory.window + 1
                )
                history = tuple(
                    HistoryEntry("user" if m.direction == "inbound" else "assistant", m.body)
                    for m in window
                    if m.id != stored.id and m.created_at <= stored.created_at
                )
                turn = AgentTurn(
                    tenant=tenant,
                    agent=agent,
                    contact_name=conversation.contact_name,
                    history=history[-agent.spec.memory.window :],
                    user_text=stored.body,
                )
        return PreparedTurn(conversation=conversation, reply=reply, turn=turn)

    async def _run_agent(self, tenant: Tenant, agent: Agent, turn: AgentTurn) -> AgentReply:
        started = time.perf_counter()
        try:
            answer = await self._provider.reply(turn)
        except Exception:
            # Whatever the model did, the user gets the friendly fallback, never an error.
            log.exception("agent %s of tenant %s failed; sending fallback", agent.name, tenant.name)
            metrics.TURNS.labels(tenant.name, agent.name, "agent_failed").inc()
            text = agent.spec.fallback_message or tenant.spec.fallback_message
            return AgentReply(text=text, provider="fallback")
        metrics.AGENT_SECONDS.labels(tenant.name, agent.name, answer.provider).observe(
            time.perf_counter() - started
        )
        return answer

    async def _send(
        self, tenant: Tenant, inbound: InboundMessage, conversation: Conversation, reply: Message
    ) -> None:
        sent = await self._sender.send_text(
            tenant,
            from_number=inbound.to_number,
            to_number=inbound.from_number,
            body=reply.body,
        )
        metrics.OUTBOUND_MESSAGES.labels(tenant.name, sent.status).inc()
        now = self._clock()
        async with self._sessions.begin() as session:
            await store.mark_sent(
                session, message_id=reply.id, twilio_sid=sent.sid, status=sent.status, now=now
            )
            current = await session.scalar(
                select(Conversation).where(Conversation.id == conversation.id).with_for_update()
            )
            if current is not None and current.status in ("pending", "progress", "idle_timeout"):
                await store.move_to_progress(
                    session, conversation=current, now=now, timeout=tenant.spec.timers.progress
                )
