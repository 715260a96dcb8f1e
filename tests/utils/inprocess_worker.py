"""A worker running in the test's event loop, on real NATS, PostgreSQL and a Twilio server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import nats
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.conversations import inbound
from wta_runtime.agents.turn import AgentProvider
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import REQUEST_TIMEOUT_SECONDS, OutboundSender
from wta_runtime.specs.tenant import ConversationRules
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.worker.consumer import InboundConsumer, RetryPolicy
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.status_updates import StatusApplier
from wta_runtime.worker.turn_processor import TurnProcessor


@dataclass
class Worker:
    tenant: str
    js: JetStreamContext
    processor: TurnProcessor | None = None

    async def publish(self, message: InboundMessage) -> None:
        names = TenantStream(self.tenant)
        await self.js.publish(
            names.thread_subject(message.from_number, message.to_number),
            message.model_dump_json().encode(),
            stream=names.stream,
            headers={"Nats-Msg-Id": message.message_sid},
        )

    def message(self, contact: str, body: str) -> InboundMessage:
        return inbound(contact, body, at=datetime.now(UTC), tenant=self.tenant)


def new_tenant_name() -> str:
    return "inproc-" + secrets.token_hex(4)


@contextlib.asynccontextmanager
async def running_worker(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    nats_url: str,
    twilio_url: str,
    agent: AgentProvider,
    *,
    policy: RetryPolicy,
    concurrency: int,
    name: str | None = None,
    send_timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> AsyncIterator[Worker]:
    """A worker for a fresh copy of acme-pizza (its own stream, `name` or a new one) with no
    burst wait."""
    name = name or new_tenant_name()
    base = catalog.by_name("acme-pizza")
    spec = base.spec.model_copy(
        update={"conversation": ConversationRules(burst_window=timedelta(0))}
    )
    tenants = TenantCatalog({name: dataclasses.replace(base, name=name, spec=spec)})
    sender = OutboundSender(twilio_url, timeout=send_timeout)
    processor = TurnProcessor(catalog=tenants, sessions=sessions, provider=agent, sender=sender)
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    consumer = InboundConsumer(
        js,
        processor,
        [name],
        dead_letters=DeadLetters(
            js,
            tenant_of=tenants.by_name,
            sessions=sessions,
            inbox=processor.inbox,
            replies=processor.replies,
            sender=sender,
            clock=processor.clock,
            known_opt_outs=processor.known_opt_outs,
        ),
        statuses=StatusApplier(sessions, processor.clock),
        policy=policy,
        concurrency=concurrency,
        ack_wait=5.0,
    )
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.3)  # streams and consumers exist
    try:
        yield Worker(name, js, processor)
    finally:
        consumer.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        await sender.close()
        await connection.close()
