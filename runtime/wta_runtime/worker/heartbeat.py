"""Tells JetStream a message is still being worked on, so a long turn is not redelivered."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from nats.aio.msg import Msg


@contextlib.asynccontextmanager
async def heartbeat(msgs: Sequence[Msg], *, every: float) -> AsyncIterator[None]:
    """Send `in_progress` for each message every `every` seconds while the block runs."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
