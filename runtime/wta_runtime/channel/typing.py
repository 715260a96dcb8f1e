"""Shows a contact that the business is typing, best effort: it never fails a reply, and delays
one only while an indicator call already on its way finishes (at most `TIMEOUT_SECONDS`).

Twilio's WhatsApp typing indicator names the contact's message being answered, marks it read and
shows "typing..." until the reply arrives or about 25 s pass; a turn that runs longer renews it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wta_runtime import metrics
from wta_runtime.catalog import Tenant
from wta_runtime.channel.sender import OutboundSender

log = logging.getLogger("wta.typing")

# WhatsApp hides the indicator after about 25 s: renewed before that while the reply is made.
RENEW_SECONDS = 20.0
# A typing indicator late by more than this is no use; the reply matters, not the indicator.
TIMEOUT_SECONDS = 3.0


class TypingIndicator:
    """Shows "typing..." for a tenant whose `spec.typingIndicator` is enabled, else nothing."""

    def __init__(
        self,
        sender: OutboundSender,
        *,
        renew_every: float = RENEW_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._sender = sender
        self._renew_every = renew_every
        self._timeout = timeout
        self._shown: set[asyncio.Task[None]] = set()

    async def show(self, tenant: Tenant, message_sid: str) -> bool:
        """Show it once for the contact's message; False when off, refused or too slow."""
        if not tenant.spec.typing_indicator.enabled:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                await self._sender.show_typing(tenant, message_sid)
        except Exception as exc:  # best effort: whatever went wrong, the reply still goes
            metrics.TYPING_INDICATOR_FAILURES.labels(tenant.name).inc()
            log.warning("typing indicator of %s not shown: %s", tenant.name, exc or "timed out")
            return False
        metrics.TYPING_INDICATORS.labels(tenant.name).inc()
        return True

    async def _keep_shown(self, tenant: Tenant, message_sid: str, done: asyncio.Event) -> None:
        # Shown once even when the reply is ready before this task first runs (an instant
        # answer): the contact saw a message read and answered, "typing..." in between.
        while True:
            await self.show(tenant, message_sid)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self._renew_every)
            if done.is_set():
                return

    @asynccontextmanager
    async def while_replying(self, tenant: Tenant, message_sid: str) -> AsyncIterator[None]:
        """Keep it shown while the block makes the reply: at once, then renewed, in the
        background. Renewing stops when the block ends, and a call still on its way is waited
        for (at most the call's timeout): Twilio may act on it after a reply sent meanwhile,
        showing "typing..." under the reply. A block that fails stops it at once instead."""
        if not tenant.spec.typing_indicator.enabled:
            yield
            return
        done = asyncio.Event()
        task = asyncio.create_task(self._keep_shown(tenant, message_sid, done))
        self._shown.add(task)  # a running task needs a reference, or it may be collected
        task.add_done_callback(self._shown.discard)
        try:
            yield
        except BaseException:
            done.set()
            task.cancel()
            raise
        done.set()
        await task
