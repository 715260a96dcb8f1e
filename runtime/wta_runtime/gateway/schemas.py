"""What the handoff and conversation API reads and returns, and the bounds of what it reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# PostgreSQL's OFFSET is a bigint; no page of conversations starts past this.
MAX_OFFSET = 2**31 - 1
# A tenant is a Kubernetes object name (a DNS-1123 subdomain).
TENANT_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
MEDIA_URL = r"^https?://[^\s]+$"


def storable(text: str) -> str:
    """Refuse what PostgreSQL's text and jsonb cannot hold, rather than fail on it with a 500."""
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (\\x00)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return text


# Any string the API reads that may reach the database.
StorableStr = Annotated[str, AfterValidator(storable)]


class ConversationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    contact_number: str
    business_number: str
    contact_name: str | None
    status: str
    version: int
    previous_conversation_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    flagged_at: datetime | None
    flag_reason: str | None
    handoff_at: datetime | None
    handoff_reason: str | None
    # Handed to people outside business hours; `back_at`: the next opening, in the tenant's zone.
    after_hours: bool
    back_at: datetime | None
    assigned_to: str | None

    def in_zone(self, time_zone: str | None) -> ConversationPublic:
        """The same conversation with `back_at` written in the tenant's time zone."""
        if time_zone is None or self.back_at is None:
            return self
        return self.model_copy(update={"back_at": self.back_at.astimezone(ZoneInfo(time_zone))})


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    direction: str
    author: str
    body: str
    twilio_sid: str | None
    delivery_status: str | None
    error_code: str | None
    failure_reason: str | None
    agent: str | None
    created_at: datetime
    sent_at: datetime | None


class StateChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    reason: str
    changed_at: datetime


class HandoffRequest(BaseModel):
    reason: StorableStr = Field(
        min_length=1, max_length=256, description="Why a person takes over."
    )


class AssignRequest(BaseModel):
    staff: StorableStr = Field(
        min_length=1, max_length=256, description="Who takes the conversation."
    )


class HumanReplyCreate(BaseModel):
    text: StorableStr = Field(min_length=1, max_length=4096, description="What the person writes.")
    staff: StorableStr | None = Field(default=None, max_length=256, description="Who writes it.")
    media_urls: list[Annotated[StorableStr, Field(max_length=2048, pattern=MEDIA_URL)]] = Field(
        default_factory=list, max_length=10, description="Public http(s) URLs to attach."
    )
    template_variables: dict[Annotated[str, Field(max_length=64)], StorableStr] | None = Field(
        default=None,
        max_length=20,
        description=(
            "Values of the tenant template's per-send placeholders (spec.template."
            "perSendVariables), by name: sent with the template when the 24 h window has closed. "
            "Exactly the declared names; required then if the template declares any."
        ),
    )


class HumanReplyPublic(BaseModel):
    """The stored message(s) of a human reply and what happened to them."""

    messages: list[MessagePublic]
    sent: int
    refused_reason: str | None
    template: bool


class ConsentEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    reason: str
    created_at: datetime


class ContactConsentPublic(BaseModel):
    """Whether anything may be sent to the contact, and every opt-out and opt-in, oldest first."""

    contact_number: str
    opted_out: bool
    events: list[ConsentEventPublic]
