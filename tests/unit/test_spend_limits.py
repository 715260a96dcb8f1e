"""What a turn costs at the tenant's prices, which limit state the spend is in, and in which
day and month of the tenant's time zone it counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from wta_runtime.agents.spend_limits import (
    AgentSpend,
    Periods,
    SpendTotals,
    Spent,
    agent_state,
    hard_limit_reply,
    tenant_state,
    time_zone,
    turn_cost,
)
from wta_runtime.agents.turn import Usage
from wta_runtime.specs.tenant import WhatsAppTenantSpec

TENANT = {
    "displayName": "Acme Pizza",
    "twilio": {
        "accountSid": "AC" + "0" * 32,
        "authTokenSecretRef": {"name": "acme-twilio", "key": "authToken"},
    },
    "numbers": [{"number": "+14155550100"}],
}
SPENDING = {
    "prices": [{"model": "gpt-4o-mini", "inputPerMillion": 0.15, "outputPerMillion": 0.6}],
    "limits": {"daily": {"soft": 5, "hard": 10}},
    "agents": [{"agent": "sales", "monthly": {"unit": "tokens", "hard": 1000}}],
}


def spec(**extra: Any) -> WhatsAppTenantSpec:
    return WhatsAppTenantSpec.model_validate({**TENANT, "spending": SPENDING, **extra})


def spent(agent: str, *, cost: str = "0", tokens: int = 0) -> SpendTotals:
    day = Spent(tokens, Decimal(cost))
    return SpendTotals({agent: AgentSpend(day, day)})


def test_a_turn_costs_its_tokens_at_the_models_price_per_million() -> None:
    usage = Usage(prompt_tokens=2_000_000, completion_tokens=500_000, model_calls=3)

    assert turn_cost(spec().spending, "gpt-4o-mini", usage) == Decimal("0.6")
    assert turn_cost(spec().spending, "a-model-without-price", usage) == 0


def test_the_tenants_limits_count_all_its_agents_and_an_agents_own_only_its_turns() -> None:
    spending = spec().spending

    assert tenant_state(spending, spent("support", cost="4.99")) == "ok"
    assert tenant_state(spending, spent("support", cost="5")) == "soft"
    assert tenant_state(spending, spent("support", cost="10")) == "hard"
    # sales' own monthly token limit: reached by its tokens, not by another agent's.
    assert agent_state(spending, spent("sales", tokens=1000), "sales") == "hard"
    assert agent_state(spending, spent("support", tokens=1000), "sales") == "ok"
    # The tenant's hard limit stops every agent.
    assert agent_state(spending, spent("support", cost="10"), "sales") == "hard"


def test_days_and_months_are_the_business_hours_time_zones() -> None:
    in_sao_paulo = spec(
        businessHours={
            "timeZone": "America/Sao_Paulo",
            "weekly": [{"day": "mon", "from": "09:00", "to": "18:00"}],
        }
    )
    # 02:00 UTC on 1 April is still 31 March, 23:00, in Sao Paulo.
    moment = datetime(2026, 4, 1, 2, tzinfo=UTC)

    assert Periods.at(moment, time_zone(in_sao_paulo)) == Periods(
        date(2026, 3, 31), date(2026, 3, 1)
    )
    assert Periods.at(moment, time_zone(spec())) == Periods(date(2026, 4, 1), date(2026, 4, 1))


def test_past_the_hard_limit_a_turn_hands_off_or_sends_the_fixed_message() -> None:
    handoff = spec().spending.on_hard_limit
    message = spec(spending={**SPENDING, "onHardLimit": {"action": "message", "message": "Later!"}})

    text, actions = hard_limit_reply(handoff)
    assert [a.kind for a in actions] == ["handoff_to_human"]
    assert text
    assert hard_limit_reply(message.spending.on_hard_limit) == ("Later!", [])
