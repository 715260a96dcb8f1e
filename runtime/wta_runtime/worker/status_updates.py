"""Applies Twilio status callbacks (published by the gateway) to the stored outbound messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from nats.aio.msg import Msg
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.db.delivery import apply_status
from wta_runtime.stream.status import StatusUpdate

log = logging.getLogger("wta.worker")

# A callback can overtake the worker's own "sent" mark by a few milliseconds: look again later.
UNKNOWN_RETRIES = 5
UNKNOWN_DELAY = 1.0


class StatusApplier:
    """Keeps each outbound message at the furthest status Twilio reported, in any order."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def handle(self, msg: Msg) -> None:
        try:
            update = StatusUpdate.model_validate_json(msg.data)
        except ValidationError:
            log.error("dropping malformed status update on %s", msg.subject)
            await msg.term()
            return
        try:
            async with self._sessions.begin() as session:
                outcome = await apply_status(
                    session,
                    tenant=update.tenant,
                    twilio_sid=update.message_sid,
                    status=update.status,
                    error_code=update.error_code,
                    now=self._clock(),
                )
        except Exception:
            log.exception("status update of %s not applied; retrying", update.message_sid)
            await msg.nak(delay=UNKNOWN_DELAY * 5)
            return
        if outcome == "unknown" and msg.metadata.num_delivered < UNKNOWN_RETRIES:
            await msg.nak(delay=UNKNOWN_DELAY)
            return
        await msg.ack()
