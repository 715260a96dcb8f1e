"""A Twilio status callback as it travels from the gateway to the worker."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from wta_runtime.db.storable import StorableStr


class StatusUpdate(BaseModel):
    """What Twilio said about one outbound message (`MessageStatus`, `ErrorCode`)."""

    tenant: str
    message_sid: StorableStr
    status: StorableStr
    error_code: StorableStr | None = None
    received_at: datetime

    @property
    def dedup_id(self) -> str:
        """Twilio retries a callback: one stream message per message and status."""
        return f"status:{self.message_sid}:{self.status}"
