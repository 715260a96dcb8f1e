"""Earlier messages of a conversation thread that are still in the stream, maybe held elsewhere."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream

# A thread rarely has more than a few unacknowledged messages; this bounds a pathological one.
MAX_SCAN = 500
# How long a consumer's ack floor is reused. The floor only rises, so an older one is a safe
# lower bound: the scan then starts a little lower and meets messages stored already.
FLOOR_TTL_SECONDS = 1.0


class AckFloors:
    """The worker consumers' ack floors, asked of JetStream at most once a second each."""

    def __init__(
        self, js: JetStreamContext, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._js = js
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, int]] = {}

    async def floor(self, names: TenantStream) -> int:
        """The last stream sequence acknowledged in order by the tenant's worker consumer."""
        now = self._monotonic()
        known = self._known.get(names.stream)
        if known is not None and now - known[0] < FLOOR_TTL_SECONDS:
            return known[1]
        info = await self._js.consumer_info(names.stream, names.worker_durable)
        floor = int(info.ack_floor.stream_seq if info.ack_floor else 0)
        self._known[names.stream] = (now, floor)
        return floor


class StreamBacklog:
    """Every message on one thread's subject above the consumer's ack floor.

    Another replica may have pulled an older message of the same thread and be slow or dead: the
    turn stores it too (idempotently) so that a reply never answers a newer message first.
    Newer messages count too: a worker runs one thread's messages one after another, so the later
    messages of a burst are only stored in time to be answered with the first this way.
    """

    def __init__(
        self, js: JetStreamContext, names: TenantStream, subject: str, floors: AckFloors
    ) -> None:
        self._js = js
        self._names = names
        self._subject = subject
        self._floors = floors

    async def pending(self) -> list[tuple[int, InboundMessage]]:
        seq = await self._floors.floor(self._names) + 1
        found: list[tuple[int, InboundMessage]] = []
        for _ in range(MAX_SCAN):
            try:
                raw = await self._js.get_msg(
                    self._names.stream, seq=seq, subject=self._subject, next=True
                )
            except NotFoundError:
                break
            assert raw.seq is not None
            # A malformed message is terminated by whoever pulls it; skip it here.
            with contextlib.suppress(ValidationError):
                found.append((raw.seq, InboundMessage.model_validate_json(raw.data or b"")))
            seq = raw.seq + 1
        return found
