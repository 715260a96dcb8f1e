"""Pulls each served tenant's stream and settles every message: ack, retry later, or give up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from pydantic import ValidationError

from wta_runtime import metrics
from wta_runtime.catalog import UnknownTenantError
from wta_runtime.channel.sender import SendError
from wta_runtime.db.thread_leases import LeaseLostError
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ACK_WAIT_SECONDS, ensure_tenant_stream
from wta_runtime.worker.backlog import AckFloors, StreamBacklog
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.status_updates import StatusApplier
from wta_runtime.worker.thread_dispatch import Handler, ThreadDispatcher
from wta_runtime.worker.turn_processor import TurnProcessor

log = logging.getLogger("wta.worker")

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
FETCH_BATCH = 16
# Messages a worker holds per runner: the running one and those queued behind busy threads.
HELD_PER_RUNNER = 4
# Messages of one thread that one turn takes at once (they are answered by one reply).
MAX_THREAD_BATCH = 32
DRAIN_SECONDS = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing message is tried, and how long to wait before each retry."""

    attempts: int = 5
    delays: Sequence[float] = RETRY_DELAYS

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int) -> float:
        """Backoff after failed attempt number `attempt` (1-based)."""
        return self.delays[min(attempt, len(self.delays)) - 1] if self.delays else 0.0


def _thread(msg: Msg, names: TenantStream | None) -> str:
    """The key messages are serialised on: the conversation thread's subject, else the message."""
    if names is not None and msg.subject != names.inbound_subject:
        return msg.subject
    return f"{msg.subject}#{msg.metadata.sequence.stream}"


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
        concurrency: int = 256,
        ack_wait: float = ACK_WAIT_SECONDS,
        worked: Callable[[], None] = lambda: None,
    ) -> None:
        self._js = js
        self._worked = worked  # told after each turn (the heap is trimmed once quiet again)
        self._processor = processor
        self._tenants = tenants
        self._dead_letters = dead_letters
        self._statuses = statuses
        self._policy = policy or RetryPolicy()
        self._concurrency = concurrency
        self._ack_wait = ack_wait
        self._stopping = asyncio.Event()
        self._floors = AckFloors(js)
        # Set once every tenant's turns and statuses are being pulled.
        self.consuming = asyncio.Event()
        self._bound = 0

    async def run(self) -> None:
        if not self._tenants:
            self.consuming.set()  # nothing to pull: as ready as it will be
        for tenant in self._tenants:
            await ensure_tenant_stream(self._js, TenantStream(tenant), ack_wait=self._ack_wait)
        keepalive = self._ack_wait / 3
        runners = self._concurrency
        turns = ThreadDispatcher(
            runners=runners,
            capacity=runners * HELD_PER_RUNNER,
            keepalive=keepalive,
            batch=MAX_THREAD_BATCH,
        )
        statuses = ThreadDispatcher(
            runners=FETCH_BATCH,
            capacity=FETCH_BATCH * HELD_PER_RUNNER,
            keepalive=keepalive,
            batch=1,
        )
        ownership = self._processor.replies.ownership
        drained = asyncio.Event()  # leases are renewed until the last turn has finished
        async with asyncio.TaskGroup() as group:
            group.create_task(ownership.renew_forever(drained))
            group.create_task(self._drain(turns, drained))
            group.create_task(statuses.run(self._stopping, drain=DRAIN_SECONDS))
            for tenant in self._tenants:
                names = TenantStream(tenant)
                turn = partial(self.handle, names)
                group.create_task(
                    self._pull(names, names.worker_durable, turn, turns, thread_of=names)
                )
                group.create_task(
                    self._pull(
                        names,
                        names.status_durable,
                        partial(_one_at_a_time, self._statuses.handle),
                        statuses,
                    )
                )

    def stop(self) -> None:
        self._stopping.set()

    async def _drain(self, turns: ThreadDispatcher, drained: asyncio.Event) -> None:
        try:
            await turns.run(self._stopping, drain=DRAIN_SECONDS)
        finally:
            drained.set()

    async def _pull(
        self,
        names: TenantStream,
        durable: str,
        handler: Handler,
        dispatcher: ThreadDispatcher,
        *,
        thread_of: TenantStream | None = None,
    ) -> None:
        """Fetch as many messages as the dispatcher (shared by every tenant) has room for.

        With `thread_of`, messages of one conversation thread run one after the other; without,
        every message runs on its own (status callbacks settle in any order).
        """
        subscription = await self._js.pull_subscribe_bind(durable, stream=names.stream)
        log.info("consuming %s with %s", names.stream, durable)
        self._bound += 1
        if self._bound == 2 * len(self._tenants):
            self.consuming.set()
        while not self._stopping.is_set():
            wanted = await dispatcher.reserve(self._fetch_size(dispatcher))
            if not wanted:
                break
            try:
                batch = await subscription.fetch(wanted, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                batch = []  # nothing arrived within the second (nats-py raises either)
            await dispatcher.unreserve(wanted - len(batch))
            for msg in batch:
                await dispatcher.offer(_thread(msg, thread_of), msg, handler)
        await subscription.unsubscribe()

    def _fetch_size(self, dispatcher: ThreadDispatcher) -> int:
        """A share of the room, so that one tenant's idle fetch never holds all of it."""
        return max(1, min(FETCH_BATCH, dispatcher.capacity // (2 * len(self._tenants))))

    async def handle(self, names: TenantStream, msgs: list[Msg]) -> None:
        """Answer the messages of one thread (oldest first) in one turn, and settle each."""
        try:
            await self._handle(names, msgs)
        finally:
            self._worked()

    async def _handle(self, names: TenantStream, msgs: list[Msg]) -> None:
        batch: list[tuple[Msg, InboundMessage]] = []
        for msg in msgs:
            try:
                batch.append((msg, InboundMessage.model_validate_json(msg.data)))
            except ValidationError:
                log.error("dropping malformed stream message on %s", msg.subject)
                await msg.term()
        spent = [item for item in batch if item[0].metadata.num_delivered > self._policy.attempts]
        if spent:
            # The last attempt never finished: the worker died in it. Do not try a fourth death.
            await self._give_up(names, spent, "a worker stopped during the last attempt")
            batch = [item for item in batch if item not in spent]
        if not batch:
            return
        (newest_msg, newest), earlier = batch[-1], batch[:-1]
        attempt = max(msg.metadata.num_delivered for msg, _ in batch)
        thread = newest_msg.subject if newest_msg.subject != names.inbound_subject else None
        try:
            # Kept alive with `in_progress` by the dispatcher while this runs.
            result = await self._processor.handle(
                newest,
                stream_seq=newest_msg.metadata.sequence.stream,
                backlog=StreamBacklog(self._js, names, thread, self._floors) if thread else None,
                earlier=[(msg.metadata.sequence.stream, item) for msg, item in earlier],
            )
        except LeaseLostError:
            # Another worker owns the thread now and answers these; nothing was sent from here.
            log.warning("lost the thread of %s to another worker", newest.message_sid)
            metrics.THREAD_LEASES_LOST.labels(names.tenant).inc()
            await _settle_all(batch, lambda msg: msg.nak(delay=self._policy.delay(1)))
            return
        except UnknownTenantError:
            log.error("no configuration for tenant %s; message kept for redelivery", names.tenant)
            await _settle_all(batch, lambda msg: msg.nak(delay=self._policy.delay(attempt)))
            return
        except Exception as exc:
            if not is_final(exc) and attempt < self._policy.attempts:
                log.warning("turn failed (%s); retry %d of %s", exc, attempt, newest.message_sid)
                await _settle_all(batch, lambda msg: msg.nak(delay=self._policy.delay(attempt)))
            else:
                log.exception("giving up on %s after %d attempt(s)", newest.message_sid, attempt)
                await self._give_up(names, batch, f"{type(exc).__name__}: {exc}")
            return
        metrics.TURNS.labels(names.tenant, result.agent, result.outcome).inc(len(batch))
        await _settle_all(batch, lambda msg: msg.ack())

    async def _give_up(
        self, names: TenantStream, batch: list[tuple[Msg, InboundMessage]], reason: str
    ) -> None:
        metrics.TURNS.labels(names.tenant, "", "dead_letter").inc(len(batch))
        try:
            await self._dead_letters.give_up(
                names,
                [inbound for _, inbound in batch],
                reason=reason,
                attempts=max(msg.metadata.num_delivered for msg, _ in batch),
            )
        except LeaseLostError:
            # Another worker holds the thread and answers it, this message with it most often;
            # the next delivery gives up again and sends the fallback only if it did not.
            log.warning("thread of %s busy; giving up again later", batch[-1][1].message_sid)
            await _settle_all(batch, lambda msg: msg.nak(delay=self._policy.delay(1)))
            return
        except Exception:
            log.exception(
                "could not dead-letter %s; it will be redelivered", batch[-1][1].message_sid
            )
            return
        await _settle_all(batch, lambda msg: msg.term())


async def _settle_all(
    batch: list[tuple[Msg, InboundMessage]], settle: Callable[[Msg], Awaitable[None]]
) -> None:
    for msg, _ in batch:
        await settle(msg)


async def _one_at_a_time(handler: Callable[[Msg], Awaitable[None]], msgs: list[Msg]) -> None:
    """For handlers of single messages (status callbacks, each on its own key)."""
    for msg in msgs:
        await handler(msg)
