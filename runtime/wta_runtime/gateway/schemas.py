"""What the handoff and conversation API reads and returns."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


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
    assigned_to: str | None


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
    reason: str = Field(min_length=1, max_length=256, description="Why a person takes over.")


class AssignRequest(BaseModel):
    staff: str = Field(min_length=1, max_length=256, description="Who takes the conversation.")


class HumanReplyCreate(BaseModel):
    text: str = Field(min_length=1, max_length=4096, description="What the person writes.")
    staff: str | None = Field(default=None, max_length=256, description="Who writes it.")
    media_urls: list[str] = Field(default_factory=list, max_length=10)


class HumanReplyPublic(BaseModel):
    """The stored message(s) of a human reply and what happened to them."""

    messages: list[MessagePublic]
    sent: int
    refused_reason: str | None
    template: bool
