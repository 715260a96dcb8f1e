"""`AIAgent.spec`: what one AI agent of a tenant says and how."""

from __future__ import annotations

from pydantic import Field

from wta_runtime.specs.common import SpecModel


class TenantRef(SpecModel):
    """The tenant an agent belongs to (same namespace)."""

    name: str = Field(min_length=1, description="Name of the WhatsAppTenant.")


class ModelSettings(SpecModel):
    """The model that runs the agent."""

    name: str = Field(default="gpt-4o-mini", description="Model name at the endpoint.")
    temperature: float = Field(default=0.2, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(default=500, ge=1, le=32768, description="Reply length limit.")
    timeout_seconds: float = Field(default=30, gt=0, le=300, description="Per-call timeout.")


class KnowledgeEntry(SpecModel):
    """A question the agent can answer, with the answer it must give."""

    question: str = Field(min_length=1, description="A question customers ask.")
    answer: str = Field(min_length=1, description="The answer the agent gives.")
    keywords: list[str] = Field(default_factory=list, description="Words that point to it.")


class Knowledge(SpecModel):
    """What the agent knows."""

    entries: list[KnowledgeEntry] = Field(default_factory=list, description="Q&A entries.")


class AIAgentSpec(SpecModel):
    """Desired state of one AI agent."""

    tenant_ref: TenantRef
    default: bool = Field(default=False, description="Answers when no other agent is chosen.")
    model: ModelSettings = Field(default_factory=ModelSettings)
    instructions: str = Field(min_length=1, description="System prompt of the agent.")
    knowledge: Knowledge = Field(default_factory=Knowledge)
    memory_window: int = Field(default=20, ge=1, le=200, description="Recent messages in context.")
    fallback_message: str | None = Field(
        default=None, description="Overrides the tenant's fallback message for this agent."
    )
