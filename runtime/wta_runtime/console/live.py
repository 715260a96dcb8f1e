"""Server-sent events that push a re-rendered page section whenever it changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse

# How often a section is re-rendered; a new handoff shows up within this.
INTERVAL_SECONDS = 0.4
# A stream ends after this many renders; the browser's EventSource reconnects by itself.
MAX_RENDERS = 4500


def sse_event(name: str, data: str) -> str:
    """One server-sent event; every line of `data` gets its own `data:` field."""
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {name}\n{lines}\n"


async def _changes(request: Request, render: Callable[[], Awaitable[str]]) -> AsyncIterator[str]:
    last = None
    yield "retry: 1000\n\n"
    for _ in range(MAX_RENDERS):
        if await request.is_disconnected():
            return
        html = await render()
        if html != last:
            last = html
            yield sse_event("fragment", html)
        await asyncio.sleep(INTERVAL_SECONDS)


def live_section(request: Request, render: Callable[[], Awaitable[str]]) -> StreamingResponse:
    """A text/event-stream of `render()`'s output, sent again each time it differs."""
    return StreamingResponse(
        _changes(request, render),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )
