"""Pulls each served tenant's stream and settles every message: ack, retry later, or give up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from pydantic import ValidationError

from wta_runtime import metrics
from wta_runtime.catalog import UnknownTenantError
from wta_runtime.channel.sender import SendError
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ACK_WAIT_SECONDS, MAX_DELIVERIES, ensure_tenant_stream
from wta_runtime.worker.backlog import StreamBacklog
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.heartbeat import heartbeat
from wta_runtime.worker.status_updates import StatusApplier
from wta_runtime.worker.turn_processor import TurnProcessor

log = logging.getLogger("wta.worker")

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
FETCH_BATCH = 16
DRAIN_SECONDS = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing message is tried, and how long to wait before each retry."""

    attempts: int = 5
    delays: Sequence[float] = RETRY_DELAYS

    def __post_init__(self) -> None:
        if not 1 <= self.attempts < MAX_DELIVERIES:
            raise ValueError(f"attempts must be 1 to {MAX_DELIVERIES - 1}")

    def delay(self, attempt: int) -> float:
        """Backoff after failed attempt number `attempt` (1-based)."""
        return self.delays[min(attempt, len(self.delays)) - 1] if self.delays else 0.0


def is_final(exc: BaseException) -> bool:
    """Failures no retry can fix; everything else (model, Twilio 5xx/429, database) is retried."""
    return isinstance(exc, SendError) and not exc.retryable


class InboundConsumer:
    """Pull loops per tenant; up to `concurrency` turns at once in all, each thread in order."""

    def __init__(
        self,
        js: JetStreamContext,
        processor: TurnProcessor,
        tenants: list[str],
        *,
        dead_letters: DeadLetters,
        statuses: StatusApplier,
        policy: RetryPolicy | None = None,
        concurrency: int = 16,
        ack_wait: float = ACK_WAIT_SECONDS,
    ) -> None:
        self._js = js
        self._processor = processor
        self._tenants = tenants
        self._dead_letters = dead_letters
        self._statuses = statuses
        self._policy = policy or RetryPolicy()
        self._concurrency = concurrency
        self._ack_wait = ack_wait
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        for tenant in self._tenants:
            await ensure_tenant_stream(self._js, TenantStream(tenant), ack_wait=self._ack_wait)
        turns, statuses = asyncio.Semaphore(self._concurrency), asyncio.Semaphore(FETCH_BATCH)
        async with asyncio.TaskGroup() as group:
            for tenant in self._tenants:
                names = TenantStream(tenant)
                turn = partial(self.handle, names)
                group.create_task(self._pull(names, names.worker_durable, turn, turns))
                group.create_task(
                    self._pull(names, names.status_durable, self._statuses.handle, statuses)
                )

    def stop(self) -> None:
        self._stopping.set()

    async def _pull(
        self,
        names: TenantStream,
        durable: str,
        handler: Callable[[Msg], Coroutine[Any, Any, None]],
        slots: asyncio.Semaphore,
    ) -> None:
        """Fetch as many messages as there are free slots (shared by every tenant of the worker)."""
        subscription = await self._js.pull_subscribe_bind(durable, stream=names.stream)
        log.info("consuming %s with %s", names.stream, durable)
        running: set[asyncio.Task[None]] = set()

        async def run(msg: Msg) -> None:
            try:
                await handler(msg)
            finally:
                slots.release()

        while not self._stopping.is_set():
            await slots.acquire()
            wanted = 1
            while wanted < FETCH_BATCH and not slots.locked():
                await slots.acquire()
                wanted += 1
            try:
                batch = await subscription.fetch(wanted, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                batch = []  # nothing arrived within the second (nats-py raises either)
            for _ in range(wanted - len(batch)):
                slots.release()
            for msg in batch:
                task = asyncio.create_task(run(msg))
                running.add(task)
                task.add_done_callback(running.discard)
        if running:  # finish the turns in flight; what does not finish is redelivered
            await asyncio.wait(running, timeout=DRAIN_SECONDS)
        await subscription.unsubscribe()

    async def handle(self, names: TenantStream, msg: Msg) -> None:
        """Process one stream message and settle it: ack, nak with backoff, or give up."""
        try:
            inbound = InboundMessage.model_validate_json(msg.data)
        except ValidationError:
            log.error("dropping malformed stream message on %s", msg.subject)
            await msg.term()
            return
        attempt = msg.metadata.num_delivered
        if attempt > self._policy.attempts:
            # The last attempt never finished: the worker died in it. Do not try a fourth death.
            await self._give_up(names, msg, inbound, "a worker stopped during the last attempt")
            return
        thread = msg.subject if msg.subject != names.inbound_subject else None
        try:
            async with heartbeat(msg, every=self._ack_wait / 3):
                outcome = await self._processor.handle(
                    inbound,
                    stream_seq=msg.metadata.sequence.stream,
                    backlog=StreamBacklog(self._js, names, thread) if thread else None,
                )
        except UnknownTenantError:
            log.error("no configuration for tenant %s; message kept for redelivery", names.tenant)
            await msg.nak(delay=self._policy.delay(attempt))
            return
        except Exception as exc:
            if not is_final(exc) and attempt < self._policy.attempts:
                log.warning("turn failed (%s); retry %d of %s", exc, attempt, inbound.message_sid)
                await msg.nak(delay=self._policy.delay(attempt))
            else:
                log.exception("giving up on %s after %d attempt(s)", inbound.message_sid, attempt)
                await self._give_up(names, msg, inbound, f"{type(exc).__name__}: {exc}")
            return
        metrics.TURNS.labels(names.tenant, self._agent_label(names.tenant), outcome).inc()
        await msg.ack()

    def _agent_label(self, tenant: str) -> str:
        agent = self._processor.catalog.by_name(tenant).default_agent()
        return agent.name if agent else ""

    async def _give_up(
        self, names: TenantStream, msg: Msg, inbound: InboundMessage, reason: str
    ) -> None:
        metrics.TURNS.labels(names.tenant, self._agent_label(names.tenant), "dead_letter").inc()
        try:
            await self._dead_letters.give_up(
                names, inbound, reason=reason, attempts=msg.metadata.num_delivered
            )
        except Exception:
            log.exception("could not dead-letter %s; it will be redelivered", inbound.message_sid)
            return
        await msg.term()
