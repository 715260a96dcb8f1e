"""The per-day spend counters (`spend_counters`): the pieces of SQL that keep and read them.

They are folded into statements a turn makes anyway: the turn's record adds its tokens and
cost, marking a part sent adds a message, and the turn's state reads the month so far.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from wta_runtime.agents.spend_limits import Periods, SpendTotals
from wta_runtime.db.driver import Driver, Sql


def add_turn(guard: str) -> str:
    """A CTE body adding one turn's spend to its agent's row of the day, when `guard` holds."""
    return f"""
    INSERT INTO spend_counters AS s
        (tenant, day, agent, prompt_tokens, completion_tokens, cost, model_calls)
    SELECT :tenant, CAST(:day AS date), :agent, CAST(:prompt_tokens AS bigint),
           CAST(:completion_tokens AS bigint), CAST(:cost AS numeric),
           CAST(:model_calls AS bigint)
    WHERE {guard}
    ON CONFLICT (tenant, day, agent) DO UPDATE SET
        prompt_tokens = s.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = s.completion_tokens + EXCLUDED.completion_tokens,
        cost = s.cost + EXCLUDED.cost,
        model_calls = s.model_calls + EXCLUDED.model_calls
    """


# A CTE body adding one message sent to the tenant's row of the day, when `first` holds.
ADD_MESSAGE = """
    INSERT INTO spend_counters AS s (tenant, day, agent, messages)
    SELECT tenant, :day, '', 1 FROM before WHERE first
    ON CONFLICT (tenant, day, agent) DO UPDATE SET messages = s.messages + 1
"""

# A scalar subquery: the month's rows of the tenant when `spending` (limits set), else NULL.
MONTH_SO_FAR = """
    (SELECT json_agg(json_build_array(s.agent, s.day = :today,
                                      s.prompt_tokens + s.completion_tokens,
                                      CAST(s.cost AS text), s.messages))
     FROM spend_counters s
     WHERE :spending AND s.tenant = :tenant AND s.day >= :month_start)
"""

_TOTALS = Sql(f"SELECT {MONTH_SO_FAR} AS spent")


def totals_of(rows: list[list[object]] | None) -> SpendTotals:
    """The totals from MONTH_SO_FAR's JSON rows."""
    return SpendTotals.from_rows(
        (str(agent), bool(today), int(str(tokens)), Decimal(str(cost)), int(str(messages)))
        for agent, today, tokens, cost, messages in rows or ()
    )


async def spend_totals(db: Driver, tenant: str, periods: Periods) -> SpendTotals:
    """What the tenant spent today and this month, per agent (for turns read step by step)."""
    row = await db.fetchrow(
        _TOTALS, spending=True, tenant=tenant, today=periods.today, month_start=periods.month_start
    )
    assert row is not None
    return totals_of(row["spent"])


def month_params(periods: Periods | None) -> dict[str, date | bool | None]:
    """The parameters MONTH_SO_FAR takes; None periods: the tenant sets no limit, skip it."""
    if periods is None:
        return {"spending": False, "today": None, "month_start": None}
    return {"spending": True, "today": periods.today, "month_start": periods.month_start}
