"""Hands fetched stream messages to a fixed set of runners, one conversation thread at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg

log = logging.getLogger("wta.worker")

# Settles every message it is given: the waiting messages of one thread, oldest first.
Handler = Callable[[list[Msg]], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class _Held:
    msg: Msg
    handler: Handler


class ThreadDispatcher:
    """Runs the messages of one thread in arrival order, one batch at a time; threads in parallel.

    A message whose thread is already running here waits in memory, kept alive with
    `in_progress`, instead of taking a runner to wait on the thread's database lock: turns of a
    busy conversation never starve the others. When the thread's runner is free again it takes
    everything that waited (up to `batch`) at once. What waits is bounded by `capacity`.
    The messages a handler is working on are kept alive the same way, by the same task (one
    heartbeat task per turn cost more CPU than the beats).
    """

    def __init__(self, *, runners: int, capacity: int, keepalive: float, batch: int) -> None:
        if runners < 1 or capacity < runners or batch < 1:
            raise ValueError("need a runner, a batch of one, and capacity >= runners")
        self._runners = runners
        self._batch = batch
        self._capacity = capacity
        self._keepalive = keepalive
        self._waiting: dict[str, deque[_Held]] = {}
        self._ready: deque[str] = deque()  # threads with waiting messages and no runner
        self._busy: set[str] = set()
        self._running: dict[int, list[_Held]] = {}  # by runner: the messages it works on
        self._reserved = 0  # fetched or about to be fetched, not settled yet
        # One lock, two wake-ups: a thread made ready wakes one idle runner, not all of them
        # (hundreds of runners woken for every message cost more CPU than the turn's statements).
        lock = asyncio.Lock()
        self._changed = asyncio.Condition(lock)  # room to fetch, closing, hand-back
        self._work = asyncio.Condition(lock)  # a thread is ready for a runner
        self._closing = False

    @property
    def capacity(self) -> int:
        return self._capacity

    async def reserve(self, most: int) -> int:
        """Wait for room, then claim up to `most` places; 0 once the dispatcher closes."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._closing or self._reserved < self._capacity)
            if self._closing:
                return 0
            claimed = min(most, self._capacity - self._reserved)
            self._reserved += claimed
            return claimed

    async def unreserve(self, count: int) -> None:
        """Give back places a fetch did not fill."""
        if count:
            async with self._changed:
                self._reserved -= count
                self._changed.notify_all()

    async def offer(self, thread: str, msg: Msg, handler: Handler) -> None:
        """Queue a message (on a reserved place) behind the earlier ones of its thread."""
        async with self._changed:
            if self._closing:
                self._reserved -= 1
                with contextlib.suppress(Exception):
                    await msg.nak()  # fetched while stopping: another replica takes it now
                return
            queue = self._waiting.setdefault(thread, deque())
            queue.append(_Held(msg, handler))
            if len(queue) == 1 and thread not in self._busy:
                self._ready.append(thread)
                self._work.notify()

    async def run(self, stopping: asyncio.Event, *, drain: float) -> None:
        """Run until `stopping`, finish what runs (up to `drain` s), hand back what waits."""
        runners = [asyncio.create_task(self._runner()) for _ in range(self._runners)]
        keepalive = asyncio.create_task(self._keep_alive())
        await stopping.wait()
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
            self._work.notify_all()
        _, unfinished = await asyncio.wait(runners, timeout=drain)
        for task in (*unfinished, keepalive):
            task.cancel()
        await asyncio.gather(*unfinished, keepalive, return_exceptions=True)
        await self._hand_back()

    async def _runner(self) -> None:
        runner = id(asyncio.current_task())
        while True:
            async with self._work:
                await self._work.wait_for(lambda: self._closing or bool(self._ready))
                if self._closing:
                    return
                thread = self._ready.popleft()
                queue = self._waiting[thread]
                taken = [queue.popleft() for _ in range(min(self._batch, len(queue)))]
                if not queue:
                    del self._waiting[thread]
                self._busy.add(thread)
                self._running[runner] = taken
            try:
                await taken[0].handler([held.msg for held in taken])
            except Exception:
                # The handler settles its messages itself; an escape here must not kill a runner.
                log.exception("unhandled error on %s", thread)
            finally:
                async with self._changed:
                    del self._running[runner]
                    self._busy.discard(thread)
                    self._reserved -= len(taken)
                    if thread in self._waiting:
                        self._ready.append(thread)
                        self._work.notify()
                    self._changed.notify_all()  # room for the fetch

    async def _keep_alive(self) -> None:
        """Tell JetStream that the messages running and waiting are still ours, so they are not
        redelivered: each at least once every `keepalive` seconds."""
        while True:
            await asyncio.sleep(self._keepalive)
            held = [*self._running.values(), *self._waiting.values()]
            for msgs in held:
                for one in list(msgs):
                    with contextlib.suppress(Exception):
                        await one.msg.in_progress()

    async def _hand_back(self) -> None:
        """Messages never started go back to the stream now, for another replica to take."""
        async with self._changed:
            waiting = [held for queue in self._waiting.values() for held in queue]
            self._waiting.clear()
            self._ready.clear()
            self._reserved -= len(waiting)
        for held in waiting:
            with contextlib.suppress(Exception):
                await held.msg.nak()
