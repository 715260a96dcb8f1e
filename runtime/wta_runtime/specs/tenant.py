"""`WhatsAppTenant.spec`: one Twilio account, its WhatsApp numbers and its conversation rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from wta_runtime.conversation.intents import DEFAULT_CLOSING_KEYWORDS
from wta_runtime.specs.common import (
    DURATION,
    Duration,
    Quantity,
    SecretKeyRef,
    SpecModel,
    cel,
    explained_pattern,
    immutable,
    list_map,
    unique,
    validations,
)
from wta_runtime.specs.tenant_consent import ConsentRules
from wta_runtime.specs.tenant_hours import BusinessHours
from wta_runtime.specs.tenant_media import MediaStorage
from wta_runtime.specs.tenant_spending import Spending
from wta_runtime.specs.tenant_typing import TypingIndicatorSettings

E164 = r"^\+[1-9]\d{6,14}$"
HTTP_URL = r"^https?://[^\s/?#]+([/?#][^\s]*)?$"
HTTP_URL_HINT = explained_pattern(
    "must be an http:// or https:// URL with a host and no spaces, e.g. "
    "https://api.example.com/v1 (ftp://, file:// and other schemes are refused)"
)

ACCOUNT_SID_IMMUTABLE = (
    "twilio.accountSid cannot change: numbers, streams and conversations belong to the account; "
    "create a new WhatsAppTenant for another Twilio account"
)
EXTERNAL_DATABASE_NEEDS_REF = (
    "database.secretRef is required when database.mode is external: "
    "name the Secret key that holds the tenant's database URL"
)
PLATFORM_DATABASE_TAKES_NO_REF = (
    "database.secretRef is only used with mode external: remove it or set mode: external"
)
DATABASE_MODE_IMMUTABLE = (
    "database.mode cannot change once the tenant exists: the conversations stay where they are; "
    "move the data yourself and create a new WhatsAppTenant"
)


DURATION_HINT = explained_pattern("must be a duration in hours, minutes, seconds: 48h, 15m, 1h30m")


class TwilioAccount(SpecModel):
    """The tenant's own Twilio account; the auth token never leaves its Secret."""

    account_sid: str = Field(
        pattern=r"^AC[0-9a-fA-F]{32}$",
        max_length=34,
        description="Twilio Account SID (AC followed by 32 hex digits). Cannot change later.",
        json_schema_extra={
            **immutable(ACCOUNT_SID_IMMUTABLE),
            **explained_pattern(
                "twilio.accountSid must be AC followed by 32 hex digits, "
                "as shown in the Twilio console"
            ),
        },
    )
    auth_token_secret_ref: SecretKeyRef = Field(
        description="Secret key holding the account's auth token (signs webhooks, sends messages)."
    )


class WhatsAppNumber(SpecModel):
    """A WhatsApp sender number owned by the tenant."""

    number: str = Field(
        pattern=E164,
        max_length=16,
        description="E.164 number with country code, e.g. +14155550100 (no spaces or dashes).",
        json_schema_extra=explained_pattern(
            "must be an E.164 number: + country code and number, digits only, e.g. +14155550100"
        ),
    )
    messaging_service_sid: str | None = Field(
        default=None,
        pattern=r"^MG[0-9a-fA-F]{32}$",
        max_length=34,
        json_schema_extra=explained_pattern("must be MG followed by 32 hex digits"),
        description="Messaging Service SID (MG...) to send from; unset sends from the number.",
    )
    webhook_mode: Literal["shared", "tenant"] = Field(
        default="shared",
        description=(
            "Which gateway URL Twilio calls for this number: shared = /api/v1/twilio/webhook "
            "(the tenant is found by number), tenant = /api/v1/twilio/webhook/<tenant name>."
        ),
    )


class ModelCredentials(SpecModel):
    """Credentials for the tenant's OpenAI-compatible model endpoint."""

    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the API key; unset uses the platform's."
    )
    base_url: str | None = Field(
        default=None,
        pattern=HTTP_URL,
        max_length=2048,
        description="OpenAI-compatible endpoint base URL, e.g. https://api.openai.com/v1.",
        json_schema_extra=HTTP_URL_HINT,
    )


class ResourceList(SpecModel):
    """Amounts of CPU and memory, as Kubernetes quantities."""

    cpu: Quantity | None = Field(default=None, description="CPU, e.g. 100m or 1.")
    memory: Quantity | None = Field(default=None, description="Memory, e.g. 256Mi or 1Gi.")


class ResourceRequirements(SpecModel):
    """Requests and limits of each runtime worker container."""

    requests: ResourceList = Field(
        default_factory=lambda: ResourceList(cpu="100m", memory="128Mi"),
        description="What the scheduler reserves for each worker.",
    )
    limits: ResourceList = Field(
        default_factory=lambda: ResourceList(memory="512Mi"),
        description="The most each worker may use; unset CPU means no CPU limit.",
    )


IDLE_AFTER_MINIMUM = timedelta(seconds=10)
_MINIMUM_TEXT = f"{int(IDLE_AFTER_MINIMUM.total_seconds())}s"
IDLE_AFTER_TOO_SHORT = (
    "runtime.idleAfter must be at least 10s (or unset to never sleep): shorter would put the "
    "workers to sleep between the messages of one conversation"
)

IDLE_AFTER_DEDICATED_ONLY = (
    "runtime.idleAfter is for mode dedicated: the shared runtime serves other tenants too and "
    "does not sleep; remove idleAfter or use mode dedicated"
)


class RuntimeSettings(SpecModel):
    """How the operator runs the tenant's runtime workers."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                # A malformed duration is the pattern's error, not this rule's.
                f"!has(self.idleAfter) || !self.idleAfter.matches(r'{DURATION}') || "
                f"duration(self.idleAfter) >= duration('{_MINIMUM_TEXT}')",
                IDLE_AFTER_TOO_SHORT,
                field_path=".idleAfter",
            ),
            cel(
                "!has(self.idleAfter) || !has(self.mode) || self.mode != 'shared'",
                IDLE_AFTER_DEDICATED_ONLY,
                field_path=".idleAfter",
            ),
        )
    )

    mode: Literal["dedicated", "shared"] = Field(
        default="dedicated",
        description="dedicated: the tenant's own worker Deployment; shared: served by the "
        "namespace's shared runtime beside other small tenants, each with its own database role "
        "and NATS user. Changing it moves the tenant without losing a message.",
    )
    replicas: int = Field(
        default=1,
        ge=0,
        le=20,
        description="Worker pods; 0 stops processing but keeps the stream. Mode dedicated only: "
        "the shared runtime's pod count is the operator's WTA_SHARED_RUNTIME_REPLICAS.",
    )
    resources: ResourceRequirements = Field(
        default_factory=ResourceRequirements, description="CPU and memory of each worker."
    )
    image: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Container image of this tenant's workers; unset uses the platform's.",
    )
    idle_after: Duration | None = Field(
        default=None,
        description=(
            "Scale to zero: after this long with no message waiting or handled (e.g. 15m), the "
            "operator stops the workers (status shows Sleeping); the first message, or a "
            "conversation timer coming due, starts them again. Unset: never sleeps."
        ),
        json_schema_extra=DURATION_HINT,
    )

    @field_validator("idle_after")
    @classmethod
    def _idle_after_long_enough(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < IDLE_AFTER_MINIMUM:
            raise ValueError(IDLE_AFTER_TOO_SHORT)
        return value

    @model_validator(mode="after")
    def _idle_after_dedicated_only(self) -> RuntimeSettings:
        if self.idle_after is not None and self.mode == "shared":
            raise ValueError(IDLE_AFTER_DEDICATED_ONLY)
        return self


class TenantTimers(SpecModel):
    """How long a conversation may stay in each state before the scheduler moves it."""

    pending: Duration = Field(
        default=timedelta(hours=48),
        description="A conversation waiting for a first answer expires after this, e.g. 48h.",
        json_schema_extra=DURATION_HINT,
    )
    progress: Duration = Field(
        default=timedelta(hours=24),
        description="A conversation in progress expires after this without activity, e.g. 24h.",
        json_schema_extra=DURATION_HINT,
    )
    idle: Duration = Field(
        default=timedelta(minutes=15),
        description="A conversation without a message for this long becomes idle, e.g. 15m.",
        json_schema_extra=DURATION_HINT,
    )


class OutboundRateLimit(SpecModel):
    """How fast the runtime may send to Twilio."""

    messages_per_second: int = Field(
        default=10, ge=1, le=400, description="Outbound messages per second, per sender number."
    )


TEMPLATE_VARIABLE_NAME = r"^[A-Za-z0-9_]{1,64}$"


class TemplateVariable(SpecModel):
    """A placeholder of the template that a person fills in for each send."""

    name: str = Field(
        pattern=TEMPLATE_VARIABLE_NAME,
        max_length=64,
        json_schema_extra=explained_pattern(
            "must be the placeholder's name as in the template: 1, 2... or letters, digits, _"
        ),
        description='The placeholder as the template writes it, without braces: "2" for {{2}}.',
    )
    example: str | None = Field(
        default=None,
        max_length=256,
        description="A sample value shown to staff in the console's form, e.g. A-1042.",
    )


class OutOfWindowTemplate(SpecModel):
    """The approved WhatsApp template sent when the 24 h customer-service window has closed."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.perSendVariables) || !has(self.variables) || "
                "self.perSendVariables.all(v, !(v.name in self.variables))",
                "a placeholder is either fixed in variables or filled in per send, not both",
                field_path=".perSendVariables",
            )
        )
    )

    content_sid: str = Field(
        pattern=r"^HX[0-9a-fA-F]{32}$",
        max_length=34,
        json_schema_extra=explained_pattern(
            "must be a Content SID: HX followed by 32 hex digits (Twilio console, Content)"
        ),
        description="Twilio Content SID of the approved template (HX followed by 32 hex digits).",
    )
    variables: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Fixed values of template placeholders, sent every time (the bot's sends too), "
            'e.g. {"1": "Acme Pizza"}.'
        ),
    )
    per_send_variables: list[TemplateVariable] = Field(
        default_factory=list,
        max_length=20,
        description=(
            "Placeholders a person fills in for each send: the console shows a field for each, "
            "the handoff API takes them as template_variables. The bot never sends a template "
            "that has any (it has no values for them)."
        ),
        json_schema_extra=list_map("name"),
    )

    @field_validator("per_send_variables")
    @classmethod
    def _names_unique(cls, variables: list[TemplateVariable]) -> list[TemplateVariable]:
        unique([v.name for v in variables], "template variable")
        return variables

    @model_validator(mode="after")
    def _fixed_or_per_send(self) -> OutOfWindowTemplate:
        both = sorted({v.name for v in self.per_send_variables} & set(self.variables))
        if both:
            raise ValueError(
                f"template variable(s) {', '.join(both)}: a placeholder is either fixed in "
                "variables or filled in per send, not both"
            )
        return self


class ConversationRules(SpecModel):
    """How the runtime reads what a contact writes: bursts and closing words."""

    burst_window: Duration = Field(
        default=timedelta(seconds=2),
        description=(
            "Messages a contact sends within this time of each other get one reply that takes "
            "them all into account, e.g. 2s; 0s answers each message on its own."
        ),
        json_schema_extra=DURATION_HINT,
    )
    closing_keywords: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_CLOSING_KEYWORDS.items()},
        description=(
            "Per language, words or phrases that close the conversation as user_closed when the "
            "contact writes a farewell: one of them as a whole word with at most 3 other words "
            "(a message with a question, an attachment, or saying more, is no farewell). A burst "
            "of farewells only closes without a reply; a burst that ends with a farewell after "
            "anything else is answered first, then closed (unless the agent hands it to a person)."
        ),
    )


class DatabasePlacement(SpecModel):
    """Where the tenant's conversations are stored."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.mode != 'external' || has(self.secretRef)",
                EXTERNAL_DATABASE_NEEDS_REF,
                field_path=".secretRef",
                reason="FieldValueRequired",
            ),
            cel("self.mode != 'platform' || !has(self.secretRef)", PLATFORM_DATABASE_TAKES_NO_REF),
            cel("self.mode == oldSelf.mode", DATABASE_MODE_IMMUTABLE, field_path=".mode"),
        )
    )

    mode: Literal["platform", "external"] = Field(
        default="platform",
        description=(
            "platform = a schema and a role of its own in the platform database (created by the "
            "operator); external = the tenant's own database, whose URL is in secretRef."
        ),
    )
    secret_ref: SecretKeyRef | None = Field(
        default=None,
        description="With mode external: Secret key holding the database URL (postgresql://...).",
    )

    @model_validator(mode="after")
    def _secret_matches_mode(self) -> DatabasePlacement:
        if self.mode == "external" and self.secret_ref is None:
            raise ValueError(EXTERNAL_DATABASE_NEEDS_REF)
        if self.mode == "platform" and self.secret_ref is not None:
            raise ValueError(PLATFORM_DATABASE_TAKES_NO_REF)
        return self


class WhatsAppTenantSpec(SpecModel):
    """Desired state of one tenant: a Twilio account, its numbers and its conversation rules."""

    display_name: str = Field(
        min_length=1, max_length=100, description="Business name shown to contacts and agents."
    )
    twilio: TwilioAccount = Field(description="The tenant's Twilio account.")
    numbers: list[WhatsAppNumber] = Field(
        min_length=1,
        max_length=50,
        description="WhatsApp sender numbers of the tenant; each number may appear only once.",
        json_schema_extra=list_map("number"),
    )
    model: ModelCredentials = Field(
        default_factory=ModelCredentials,
        description="Model endpoint and API key used by the tenant's agents unless they set one.",
    )
    runtime: RuntimeSettings = Field(
        default_factory=RuntimeSettings, description="Runtime worker pods of the tenant."
    )
    timers: TenantTimers = Field(
        default_factory=TenantTimers, description="Conversation timers of the lifecycle."
    )
    rate_limit: OutboundRateLimit = Field(
        default_factory=OutboundRateLimit, description="Outbound message rate towards Twilio."
    )
    template: OutOfWindowTemplate | None = Field(
        default=None,
        description="Template for messages outside the 24 h window; unset means none are sent.",
    )
    conversation: ConversationRules = Field(
        default_factory=ConversationRules,
        description="Bursts and closing words of the tenant's conversations.",
    )
    consent: ConsentRules = Field(
        default_factory=ConsentRules,
        description="Keywords that opt a contact out of all messages and back in, and replies.",
    )
    business_hours: BusinessHours | None = Field(
        default=None,
        description=(
            "When the tenant's people answer; a handoff outside them still queues the "
            "conversation, marked after-hours, and tells the contact when people are back. "
            "Unset: people are always there."
        ),
    )
    typing_indicator: TypingIndicatorSettings = Field(
        default_factory=TypingIndicatorSettings,
        description="Whether contacts see 'typing...' while a reply is being prepared.",
    )
    database: DatabasePlacement = Field(
        default_factory=DatabasePlacement, description="Where conversations are stored."
    )
    media: MediaStorage = Field(
        default_factory=MediaStorage,
        description="Where inbound media is kept: the platform's store, or the tenant's bucket.",
    )
    spending: Spending = Field(
        default_factory=Spending,
        description="Model prices, spending limits per day and month, and the parts of a reply.",
    )
    fallback_message: str = Field(
        default="Sorry, I cannot answer right now. Please try again in a few minutes.",
        min_length=1,
        max_length=1600,
        description="Sent when the agent cannot produce a reply.",
    )
    suspend: bool = Field(
        default=False,
        description="Stop accepting and processing messages; Twilio's webhooks are refused.",
    )
    deletion_policy: Literal["Retain", "Delete"] = Field(
        default="Retain",
        description=(
            "On deletion of the tenant, Retain keeps its stream and database scope; "
            "Delete removes them."
        ),
    )

    @field_validator("numbers")
    @classmethod
    def _numbers_unique(cls, numbers: list[WhatsAppNumber]) -> list[WhatsAppNumber]:
        unique([n.number for n in numbers], "number")
        return numbers
