"""The inbound WhatsApp message as it travels from the gateway to the worker (no secrets in it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from wta_runtime.db.storable import StorableStr


class MediaItem(BaseModel):
    """One attachment Twilio announced (`MediaUrlN` / `MediaContentTypeN`)."""

    url: StorableStr
    content_type: StorableStr | None = None


class InboundMessage(BaseModel):
    """A webhook Twilio posted, reduced to what the runtime uses plus every raw parameter.

    The fields the worker stores are made storable (no NUL) as the message is built or read;
    `params` keeps the parameters exactly as Twilio posted them.
    """

    tenant: str
    message_sid: StorableStr
    account_sid: StorableStr
    from_number: StorableStr
    to_number: StorableStr
    body: StorableStr = ""
    profile_name: StorableStr | None = None
    wa_id: StorableStr | None = None
    media: list[MediaItem] = Field(default_factory=list)
    button_payload: StorableStr | None = None
    button_text: StorableStr | None = None
    received_at: datetime
    params: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_twilio(
        cls, tenant: str, params: dict[str, str], received_at: datetime
    ) -> InboundMessage:
        """Build the message from webhook parameters already checked for the required keys."""
        # One validation of plain values, attachments included (the gateway builds one a webhook).
        num_media = int(params.get("NumMedia", "0") or 0)
        media = [
            {"url": params[f"MediaUrl{i}"], "content_type": params.get(f"MediaContentType{i}")}
            for i in range(num_media)
            if f"MediaUrl{i}" in params
        ]
        return cls.model_validate(
            {
                "tenant": tenant,
                "message_sid": params["MessageSid"],
                "account_sid": params["AccountSid"],
                "from_number": params["From"],
                "to_number": params["To"],
                "body": params.get("Body", ""),
                "profile_name": params.get("ProfileName"),
                "wa_id": params.get("WaId"),
                "media": media,
                "button_payload": params.get("ButtonPayload"),
                "button_text": params.get("ButtonText"),
                "received_at": received_at,
                "params": params,
            }
        )
