"""A Twilio status callback as it travels from the gateway to the worker."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class StatusUpdate(BaseModel):
    """What Twilio said about one outbound message (`MessageStatus`, `ErrorCode`)."""

    tenant: str
    message_sid: str
    status: str
    error_code: str | None = None
    received_at: datetime

    @property
    def dedup_id(self) -> str:
        """Twilio retries a callback: one stream message per message and status."""
        return f"status:{self.message_sid}:{self.status}"
