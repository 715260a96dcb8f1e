"""The inbound WhatsApp message as it travels from the gateway to the worker (no secrets in it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class MediaItem(BaseModel):
    """One attachment Twilio announced (`MediaUrlN` / `MediaContentTypeN`)."""

    url: str
    content_type: str | None = None


class InboundMessage(BaseModel):
    """A webhook Twilio posted, reduced to what the runtime uses plus every raw parameter."""

    tenant: str
    message_sid: str
    account_sid: str
    from_number: str
    to_number: str
    body: str = ""
    profile_name: str | None = None
    wa_id: str | None = None
    media: list[MediaItem] = Field(default_factory=list)
    button_payload: str | None = None
    button_text: str | None = None
    received_at: datetime
    params: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_twilio(
        cls, tenant: str, params: dict[str, str], received_at: datetime
    ) -> InboundMessage:
        """Build the message from webhook parameters already checked for the required keys."""
        num_media = int(params.get("NumMedia", "0") or 0)
        media = [
            MediaItem(url=params[f"MediaUrl{i}"], content_type=params.get(f"MediaContentType{i}"))
            for i in range(num_media)
            if f"MediaUrl{i}" in params
        ]
        return cls(
            tenant=tenant,
            message_sid=params["MessageSid"],
            account_sid=params["AccountSid"],
            from_number=params["From"],
            to_number=params["To"],
            body=params.get("Body", ""),
            profile_name=params.get("ProfileName"),
            wa_id=params.get("WaId"),
            media=media,
            button_payload=params.get("ButtonPayload"),
            button_text=params.get("ButtonText"),
            received_at=received_at,
            params=params,
        )
