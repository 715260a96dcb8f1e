"""`WhatsAppTenant.spec`: one Twilio account, its WhatsApp numbers and its conversation rules."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from wta_runtime.specs.common import Duration, SecretKeyRef, SpecModel

E164 = r"^\+[1-9]\d{6,14}$"


class TwilioAccount(SpecModel):
    """The tenant's own Twilio account; the auth token never leaves its Secret."""

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="Twilio Account SID.")
    auth_token_secret_ref: SecretKeyRef = Field(
        description="Secret key holding the account's auth token (signs webhooks, sends messages)."
    )


class WhatsAppNumber(SpecModel):
    """A WhatsApp sender number owned by the tenant."""

    number: str = Field(pattern=E164, description="E.164 number, e.g. +14155550100.")
    messaging_service_sid: str | None = Field(
        default=None, pattern=r"^MG[0-9a-fA-F]{32}$", description="Optional Messaging Service."
    )


class ModelCredentials(SpecModel):
    """Credentials for the tenant's OpenAI-compatible model endpoint."""

    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the API key; unset uses the platform's."
    )
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint base URL.")


class TenantTimers(SpecModel):
    """How long a conversation may stay in each state before the scheduler moves it."""

    pending: Duration = Field(default=timedelta(hours=48), description="Pending before expiry.")
    progress: Duration = Field(
        default=timedelta(hours=24), description="In progress before expiry."
    )
    idle: Duration = Field(
        default=timedelta(minutes=15), description="Without a message before idle_timeout."
    )


class WhatsAppTenantSpec(SpecModel):
    """Desired state of one tenant."""

    display_name: str = Field(min_length=1, description="Business name shown to agents.")
    twilio: TwilioAccount
    numbers: list[WhatsAppNumber] = Field(min_length=1, description="WhatsApp sender numbers.")
    model: ModelCredentials = Field(default_factory=ModelCredentials)
    timers: TenantTimers = Field(default_factory=TenantTimers)
    fallback_message: str = Field(
        default="Sorry, I cannot answer right now. Please try again in a few minutes.",
        description="Sent when the agent cannot produce a reply.",
    )
    suspend: bool = Field(default=False, description="Stop accepting and processing messages.")
