"""The custom resources' status: conditions the operator writes through the status subresource."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from wta_runtime.specs.common import SpecModel, list_map

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


class AIAgentStatus(ResourceStatus):
    """Observed state of an agent: whether its tenant accepts it."""
