"""Polling helpers: wait for an effect another process produces, with a bounded deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]] | Callable[[], T],
    *,
    until: Callable[[T], bool],
    timeout: float = 20.0,
) -> T:
    """Call `probe` until `until(result)` holds, and return that result; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if until(result):  # type: ignore[arg-type]
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {result!r}")
        await asyncio.sleep(0.05)
