"""`WhatsAppTenant.spec.spending`: model prices, spending limits and the cap on reply parts."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from wta_runtime.specs.common import (
    SpecModel,
    cel,
    explained_pattern,
    list_map,
    unique,
    validations,
)

SOFT_ABOVE_HARD = (
    "soft must not be above hard: the soft limit warns before the hard limit stops the model; "
    "lower soft or raise hard"
)
MESSAGE_NEEDED = (
    "onHardLimit.message is required when action is message: write the text contacts get "
    "once the hard limit is reached"
)


class ModelPrice(SpecModel):
    """What one model costs, per million tokens, in the tenant's currency."""

    model: str = Field(
        min_length=1, max_length=200, description="Model name as the agents set it (model.name)."
    )
    input_per_million: float = Field(
        ge=0, description="Price of one million input (prompt) tokens; 0 or more."
    )
    output_per_million: float = Field(
        ge=0, description="Price of one million output (completion) tokens; 0 or more."
    )


class SpendLimit(SpecModel):
    """One period's limit: the soft one warns (Event, alert), the hard one stops the model."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("!has(self.soft) || !has(self.hard) || self.soft <= self.hard", SOFT_ABOVE_HARD)
        )
    )

    unit: Literal["money", "tokens"] = Field(
        default="money",
        description="money = the tenant's currency, from spending.prices; tokens = input + output.",
    )
    soft: float | None = Field(
        default=None, ge=0, description="Past this amount: a Kubernetes Event and an alert."
    )
    hard: float | None = Field(
        default=None,
        ge=0,
        description="At this amount no more model calls: onHardLimit applies to every turn.",
    )

    @model_validator(mode="after")
    def _soft_below_hard(self) -> SpendLimit:
        if self.soft is not None and self.hard is not None and self.soft > self.hard:
            raise ValueError(SOFT_ABOVE_HARD)
        return self


class PeriodLimits(SpecModel):
    """Limits per day and per calendar month, in businessHours.timeZone (else UTC)."""

    daily: SpendLimit | None = Field(default=None, description="Limit of one day.")
    monthly: SpendLimit | None = Field(default=None, description="Limit of one calendar month.")


class AgentSpendLimits(PeriodLimits):
    """Limits of one agent of the tenant, on top of the tenant's."""

    agent: str = Field(min_length=1, max_length=63, description="The AIAgent's name.")


class HardLimitBehaviour(SpecModel):
    """What a turn does instead of calling the model once a hard limit is reached."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.action != 'message' || has(self.message)",
                MESSAGE_NEEDED,
                field_path=".message",
                reason="FieldValueRequired",
            )
        )
    )

    action: Literal["handoff", "message"] = Field(
        default="handoff",
        description="handoff = hand the conversation to people; message = reply with `message`.",
    )
    message: str | None = Field(
        default=None,
        min_length=1,
        max_length=1600,
        description="With action message: the fixed reply every later turn gets.",
    )

    @model_validator(mode="after")
    def _message_when_needed(self) -> HardLimitBehaviour:
        if self.action == "message" and self.message is None:
            raise ValueError(MESSAGE_NEEDED)
        return self


class Spending(SpecModel):
    """Prices of the models, limits of the tenant and of its agents, and reply parts."""

    currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        max_length=3,
        description="ISO 4217 code of prices and money limits (a label: nothing is converted).",
        json_schema_extra=explained_pattern("must be a 3-letter ISO 4217 code, e.g. USD or EUR"),
    )
    prices: list[ModelPrice] = Field(
        default_factory=list,
        max_length=100,
        description="Price per model; a model not listed costs 0 (its tokens still count).",
        json_schema_extra=list_map("model"),
    )
    limits: PeriodLimits = Field(
        default_factory=PeriodLimits, description="Limits of the whole tenant (all its agents)."
    )
    agents: list[AgentSpendLimits] = Field(
        default_factory=list,
        max_length=100,
        description="Limits of single agents, checked besides the tenant's.",
        json_schema_extra=list_map("agent"),
    )
    on_hard_limit: HardLimitBehaviour = Field(
        default_factory=HardLimitBehaviour,
        description="What every turn does once a hard limit is reached, until the period ends.",
    )
    max_reply_parts: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description=(
            "Most WhatsApp messages one text reply is sent as (each is billed): a longer reply "
            "fills these parts and is cut at a word, ending with an ellipsis; unset: no cap."
        ),
    )

    @model_validator(mode="after")
    def _listed_once(self) -> Spending:
        unique([p.model for p in self.prices], "model")
        unique([a.agent for a in self.agents], "agent")
        return self

    def price(self, model: str | None) -> ModelPrice | None:
        """The price of `model`, or None when it is not listed."""
        return next((p for p in self.prices if p.model == model), None)

    def agent_limits(self, agent: str) -> PeriodLimits | None:
        return next((a for a in self.agents if a.agent == agent), None)

    @property
    def limited(self) -> bool:
        """Whether any limit is set: only then does a turn read what was spent."""
        periods = [self.limits, *self.agents]
        return any(p.daily is not None or p.monthly is not None for p in periods)
