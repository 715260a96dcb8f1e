"""The custom resources' status: conditions the operator writes through the status subresource."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from wta_runtime.specs.common import SpecModel, list_map
from wta_runtime.specs.tenant_spending import PeriodLimits

READY = "Ready"


class Condition(SpecModel):
    """One aspect of the resource's state, in the shape of metav1.Condition."""

    type: str = Field(
        pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$",
        max_length=316,
        description="Ready, or the part it describes: Runtime, Stream, Routing, Database, Tenant.",
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        min_length=1,
        max_length=1024,
        description="Why, in one CamelCase word, e.g. SecretNotFound or NumberConflict.",
    )
    message: str = Field(
        default="", max_length=32768, description="What happened and what to do about it."
    )
    last_transition_time: datetime = Field(description="When status last changed.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation this condition was computed for."
    )


class ResourceStatus(SpecModel):
    """What the operator last observed."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation the operator last acted on."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, plus one condition per part.",
        json_schema_extra=list_map("type"),
    )


LimitState = Literal["ok", "soft", "hard"]


class PeriodUsage(SpecModel):
    """What the tenant spent in one day or one month."""

    start: str = Field(description="First day of the period, YYYY-MM-DD.")
    cost: float = Field(ge=0, description="What the model's tokens cost, in spending.currency.")
    tokens: int = Field(ge=0, description="Input plus output tokens.")
    messages: int = Field(ge=0, description="WhatsApp messages sent (each part of a reply).")


class AgentLimitState(SpecModel):
    """The limit state of one agent with limits of its own."""

    agent: str = Field(description="The AIAgent's name.")
    state: LimitState = Field(description="ok, soft (soft limit passed) or hard (reached).")


class TenantUsage(SpecModel):
    """The tenant's spend today and this month, read from its database by the operator."""

    currency: str = Field(description="spending.currency of the amounts.")
    state: LimitState = Field(
        description="The worst of the tenant's and its agents' limits: ok, soft or hard."
    )
    today: PeriodUsage = Field(description="Spent today, in businessHours.timeZone (else UTC).")
    month: PeriodUsage = Field(description="Spent this calendar month, in the same time zone.")
    limits: PeriodLimits = Field(description="The tenant's limits in force (spending.limits).")
    agents: list[AgentLimitState] = Field(
        default_factory=list, description="Agents with limits of their own, and their state."
    )


class WhatsAppTenantStatus(ResourceStatus):
    """Observed state of a tenant: its parts and its agents."""

    numbers: int | None = Field(
        default=None,
        ge=0,
        description="WhatsApp numbers routed to this tenant (not those claimed first by another).",
    )
    agents: int | None = Field(
        default=None, ge=0, description="AIAgents of this tenant that are Ready."
    )
    stream: str | None = Field(default=None, description="The tenant's JetStream stream.")
    usage: TenantUsage | None = Field(
        default=None, description="Spend and messages against spec.spending (platform database)."
    )


class KnowledgeSourceError(SpecModel):
    """A knowledge source the worker could not ingest (its last good chunks stay searchable)."""

    source: str = Field(description="The source: configmap/<name>/<key>, the URL, or s3/<key>.")
    message: str = Field(max_length=1024, description="What went wrong, without any secret.")


class AgentKnowledge(SpecModel):
    """The agent's ingested documents, read from its tenant's database by the operator."""

    documents: int = Field(ge=0, description="Sources ingested (knowledge.sources).")
    chunks: int = Field(ge=0, description="Passages stored for retrieval.")
    last_ingested: datetime | None = Field(
        default=None, description="When a source was last (re-)ingested."
    )
    errors: list[KnowledgeSourceError] = Field(
        default_factory=list, description="Sources whose last ingestion failed."
    )


class AIAgentStatus(ResourceStatus):
    """Observed state of an agent: whether its tenant accepts it."""

    knowledge: AgentKnowledge | None = Field(
        default=None,
        description="Documents and passages ingested from knowledge.sources, and their errors.",
    )
