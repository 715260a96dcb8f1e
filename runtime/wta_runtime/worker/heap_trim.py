"""Gives the heap that turns freed back to the system once the worker has gone quiet.

glibc keeps freed memory for the next allocation; a worker idle after a conversation with a
model held ~2 MiB of it (docs/benchmarks.md "Idle memory per tenant"). `malloc_trim(0)` returns
those pages: once per quiet period after work (under 1 ms of CPU), never while turns run.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
from collections.abc import Callable

QUIET_SECONDS = 10.0


def libc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


class HeapTrim:
    """Trims once a whole quiet period (no turn) has passed since the last turn."""

    def __init__(
        self,
        trim: Callable[[int], int] | None = None,
        *,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self._trim = trim if trim is not None else libc_malloc_trim()
        self._quiet_seconds = quiet_seconds
        self._worked = False
        self._pending = False
        self.trims = 0

    def worked(self) -> None:
        """A turn ran: the next quiet period ends in a trim."""
        self._worked = True

    def tick(self) -> None:
        """The end of one period: trim if it was quiet and work came before it."""
        if self._worked:
            self._worked, self._pending = False, True
        elif self._pending and self._trim is not None:
            self._pending = False
            self._trim(0)
            self.trims += 1

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self._quiet_seconds)
            self.tick()
