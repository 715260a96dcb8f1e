"""`status.usage`: the operator reads a tenant's spend from its database scope, shows it in
`kubectl get -o wide`, and posts an Event when a spending limit is newly reached."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.operator.factories import secret_manifest, tenant_manifest, unique_name
from tests.operator.harness import REPAIR_WITHIN, RunningOperator, wait_for
from wta_operator.builders.database import plain_postgres_url
from wta_operator.builders.usage import usage_event, usage_status
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.specs.tenant import WhatsAppTenantSpec

SPENDING = {
    "currency": "EUR",
    "prices": [{"model": "gpt-4o-mini", "inputPerMillion": 1000, "outputPerMillion": 1000}],
    "limits": {"daily": {"soft": 1, "hard": 5}},
    "agents": [{"agent": "helper", "monthly": {"unit": "tokens", "hard": 1000}}],
}
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


SpendCounter = tuple[str, int, int, Decimal, int]


async def count_spend(url: str, tenant: str, *rows: SpendCounter) -> None:
    """What the tenant's first worker does: its migrations, then turns that count their spend
    today as (agent, prompt tokens, completion tokens, cost, messages)."""
    await asyncio.to_thread(upgrade_database, url)
    today = datetime.now(UTC).date()
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        await conn.executemany(
            "INSERT INTO spend_counters (tenant, day, agent, prompt_tokens, completion_tokens,"
            " cost, messages) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [(tenant, today, *row) for row in rows],
        )
    finally:
        await conn.close()


def spec(**spending: object) -> WhatsAppTenantSpec:
    body = tenant_manifest("shop", spending={**SPENDING, **spending})["spec"]
    return WhatsAppTenantSpec.model_validate(body)


def test_usage_adds_the_days_of_the_month_and_takes_the_worst_state() -> None:
    rows = [
        ("helper", date(2026, 3, 15), 300, Decimal("0.3"), 0),
        ("helper", date(2026, 3, 2), 800, Decimal("0.8"), 0),
        ("", date(2026, 3, 15), 0, Decimal(0), 4),
    ]

    usage = usage_status(spec(), rows, NOW)

    assert usage["today"] == {"start": "2026-03-15", "cost": 0.3, "tokens": 300, "messages": 4}
    assert usage["month"] == {"start": "2026-03-01", "cost": 1.1, "tokens": 1100, "messages": 4}
    # The tenant is below its soft limit today; the agent's monthly tokens are past its hard one.
    assert usage["agents"] == [{"agent": "helper", "state": "hard"}]
    assert usage["state"] == "hard"
    assert usage["limits"] == {"daily": {"unit": "money", "soft": 1.0, "hard": 5.0}}


def test_an_event_only_when_a_limit_state_is_newly_reached() -> None:
    ok = usage_status(spec(), [], NOW)
    soft = usage_status(spec(), [("helper", NOW.date(), 10, Decimal(2), 1)], NOW)

    assert usage_event(None, ok) is None
    event = usage_event(ok, soft)
    assert event is not None
    assert event[0] == "SpendingSoftLimit"
    assert "today 2.0 EUR, 10 tokens, 1 messages" in event[1]
    assert usage_event(soft, soft) is None


async def test_spend_in_the_tenants_database_shows_in_status_columns_and_an_event(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    op.apply(namespace, secret_manifest(f"{name}-twilio"), tenant_manifest(name, spending=SPENDING))
    op.wait_condition(namespace, "WhatsAppTenant", name, "Ready", "True")
    secret = op.read(namespace, "Secret", f"{name}-database") or {}
    url = base64.b64decode(secret["data"]["url"]).decode()
    await count_spend(url, name, ("helper", 100, 50, Decimal("1.5"), 0), ("", 0, 0, Decimal(0), 3))

    usage = wait_for(
        lambda: ((op.read(namespace, "WhatsAppTenant", name) or {}).get("status") or {}).get(
            "usage"
        ),
        until=lambda found: bool(found) and found["state"] == "soft",
        timeout=REPAIR_WITHIN,
    )

    assert usage["today"]["cost"] == 1.5
    assert (usage["today"]["tokens"], usage["today"]["messages"]) == (150, 3)
    events = wait_for(
        lambda: [e for e in op.events(namespace) if e["reason"] == "SpendingSoftLimit"],
        until=bool,
    )
    assert "today 1.5 EUR" in events[0]["message"]
    table = op.cluster.kubectl("get", "wat", name, "-n", namespace, "-o", "wide").stdout
    header, row = table.splitlines()
    assert header.split()[-8:-1] == [
        "LIMIT",
        "SPEND",
        "TODAY",
        "SPEND",
        "MONTH",
        "MESSAGES",
        "TODAY",
    ]
    assert row.split()[-5:-1] == ["soft", "1.5", "1.5", "3"]  # the last column is AGE


async def test_an_external_databases_spend_is_read_with_the_tenants_own_url(
    live_operator: RunningOperator, kube_namespace: str, admin_database_url: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    database = "ext_" + name.replace("-", "_")
    admin = await asyncpg.connect(plain_postgres_url(admin_database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{database}"))
    await count_spend(url, name, ("helper", 4000, 2000, Decimal(6), 2))
    placement = {"mode": "external", "secretRef": {"name": f"{name}-db", "key": "url"}}

    op.apply(
        namespace,
        secret_manifest(f"{name}-twilio"),
        secret_manifest(f"{name}-db", url, key="url"),
        tenant_manifest(name, spending=SPENDING, database=placement),
    )

    usage = wait_for(
        lambda: ((op.read(namespace, "WhatsAppTenant", name) or {}).get("status") or {}).get(
            "usage"
        ),
        until=bool,
        timeout=REPAIR_WITHIN,
    )
    assert usage["state"] == "hard"  # 6 EUR today, past the daily hard limit of 5
    assert (usage["today"]["cost"], usage["today"]["tokens"]) == (6.0, 6000)
    assert usage["today"]["messages"] == 2
    events = wait_for(
        lambda: [e for e in op.events(namespace) if e["reason"] == "SpendingHardLimit"],
        until=bool,
    )
    assert url.split("@")[0] not in str(usage) + events[0]["message"]
