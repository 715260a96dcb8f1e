"""Scale to zero (spec.runtime.idleAfter): an idle tenant's Deployment goes to 0 replicas, the
first message or a timer coming due brings its replicas back; real API server, NATS, PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from nats.aio.client import Client

from tests.operator.factories import secret_manifest, tenant_manifest, unique_name
from tests.operator.harness import RunningOperator, wait_for
from wta_operator.builders.database import plain_postgres_url
from wta_operator.builders.sleep import StreamActivity, sleep_reason, wake_reason
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.stream.names import TenantStream

IDLE_AFTER = "10s"
# idleAfter, then a check or two and a reconcile; generous for a loaded machine.
SLEEPS_WITHIN = 60.0
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
MARGIN = timedelta(minutes=1)
QUIET = StreamActivity(waiting=0, callbacks=0, last_active=NOW - timedelta(minutes=20))


def test_a_tenant_sleeps_only_when_quiet_long_enough_and_no_timer_is_near() -> None:
    idle = timedelta(minutes=15)
    reason = sleep_reason(QUIET, None, idle_after=idle, timer_margin=MARGIN, now=NOW)
    assert reason == "no message for 15m: 0 workers until the next message"
    recent = StreamActivity(0, 0, NOW - timedelta(minutes=5))
    assert sleep_reason(recent, None, idle_after=idle, timer_margin=MARGIN, now=NOW) is None
    callbacks = StreamActivity(0, 2, QUIET.last_active)
    assert sleep_reason(callbacks, None, idle_after=idle, timer_margin=MARGIN, now=NOW) is None
    near = NOW + timedelta(seconds=30)
    assert sleep_reason(QUIET, near, idle_after=idle, timer_margin=MARGIN, now=NOW) is None
    overdue = NOW - timedelta(hours=1)
    assert sleep_reason(QUIET, overdue, idle_after=idle, timer_margin=MARGIN, now=NOW) is None
    later = NOW + timedelta(hours=2)
    said = sleep_reason(QUIET, later, idle_after=idle, timer_margin=MARGIN, now=NOW)
    assert said == (
        "no message for 15m: 0 workers until the next message "
        "or the timer due at 2026-03-15T14:00:00Z"
    )


def test_a_message_or_a_near_timer_wakes_a_sleeping_tenant() -> None:
    waiting = StreamActivity(waiting=3, callbacks=0, last_active=QUIET.last_active)
    assert wake_reason(waiting, None, timer_margin=MARGIN, now=NOW) == "3 messages waiting"
    later = NOW + timedelta(hours=2)
    assert wake_reason(QUIET, later, timer_margin=MARGIN, now=NOW) is None
    near = NOW + timedelta(seconds=30)
    said = wake_reason(QUIET, near, timer_margin=MARGIN, now=NOW)
    assert said == "a conversation timer is due at 2026-03-15T12:00:30Z"
    # Status callbacks wait for the next wake-up: they are not worth starting the workers.
    assert wake_reason(StreamActivity(0, 5, NOW), None, timer_margin=MARGIN, now=NOW) is None


def replicas(op: RunningOperator, namespace: str, name: str) -> int | None:
    deployment = op.read(namespace, "Deployment", f"{name}-runtime") or {}
    return (deployment.get("spec") or {}).get("replicas")


def events_with(op: RunningOperator, namespace: str, name: str, reason: str) -> list[str]:
    return [
        str(e.get("message"))
        for e in op.events(namespace)
        if e.get("reason") == reason and (e.get("involvedObject") or {}).get("name") == name
    ]


def sleeping(op: RunningOperator, namespace: str, name: str) -> dict[str, Any]:
    return op.condition(namespace, "WhatsAppTenant", name, "Sleeping")


def sleepy_tenant(op: RunningOperator, namespace: str, name: str, **runtime: Any) -> None:
    manifest = tenant_manifest(name, runtime={"idleAfter": IDLE_AFTER, **runtime})
    op.apply(namespace, secret_manifest(f"{name}-twilio"), manifest)


def wait_asleep(op: RunningOperator, namespace: str, name: str) -> dict[str, Any]:
    condition = op.wait_condition(
        namespace, "WhatsAppTenant", name, "Sleeping", "True", "Idle", timeout=SLEEPS_WITHIN
    )
    wait_for(lambda: replicas(op, namespace, name), lambda n: n == 0)
    return condition


async def asleep_tenant(op: RunningOperator, namespace: str, prefix: str) -> str:
    """A new tenant with idleAfter, once it sleeps."""
    name = unique_name(prefix)
    sleepy_tenant(op, namespace, name)
    await asyncio.to_thread(wait_asleep, op, namespace, name)
    return name


async def test_an_idle_tenant_sleeps_and_its_first_message_wakes_it(
    live_operator: RunningOperator, kube_namespace: str, nats_client: Client
) -> None:
    op, name, steady = live_operator, unique_name("sleepy"), unique_name("steady")
    sleepy_tenant(op, kube_namespace, name, replicas=2)
    op.apply(kube_namespace, secret_manifest(f"{steady}-twilio"), tenant_manifest(steady))
    op.wait_condition(kube_namespace, "WhatsAppTenant", name, "Ready", "True")
    awake = op.wait_condition(kube_namespace, "WhatsAppTenant", name, "Sleeping", "False")
    assert awake["message"] == "workers run; they sleep after 10s without a message"
    assert replicas(op, kube_namespace, name) == 2

    condition = await asyncio.to_thread(wait_asleep, op, kube_namespace, name)
    assert condition["message"] == "no message for 10s: 0 workers until the next message"
    said = wait_for(lambda: events_with(op, kube_namespace, name, "Sleeping"), bool)
    assert said == [condition["message"]]
    runtime = op.condition(kube_namespace, "WhatsAppTenant", name, "Runtime")
    assert (runtime["status"], runtime["reason"]) == ("True", "Sleeping")
    assert runtime["message"] == f"Deployment {name}-runtime scaled to 0 while the tenant sleeps"
    ready = op.condition(kube_namespace, "WhatsAppTenant", name, "Ready")
    assert ready["status"] == "True"  # asleep is not broken: messages are still accepted
    tenant = op.read(kube_namespace, "WhatsAppTenant", name) or {}
    assert tenant["spec"]["runtime"]["replicas"] == 2  # the user's count is left alone

    names = TenantStream(name)
    await nats_client.jetstream().publish(names.thread_subject("+15550001", "+15550002"), b"{}")
    await asyncio.to_thread(
        op.wait_condition, kube_namespace, "WhatsAppTenant", name, "Sleeping", "False", "Woken"
    )
    await asyncio.to_thread(wait_for, lambda: replicas(op, kube_namespace, name), lambda n: n == 2)
    woken = await asyncio.to_thread(
        wait_for, lambda: events_with(op, kube_namespace, name, "Woken"), bool
    )
    assert woken == ["1 message waiting"]
    # The steady tenant, without idleAfter, was as idle all along and never slept.
    assert replicas(op, kube_namespace, steady) == 1
    assert sleeping(op, kube_namespace, steady) == {}
    assert events_with(op, kube_namespace, steady, "Sleeping") == []


async def test_a_timer_coming_due_wakes_a_sleeping_tenant_until_it_has_fired(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op = live_operator
    name = await asleep_tenant(op, kube_namespace, "timers")

    secret = op.read(kube_namespace, "Secret", f"{name}-database") or {}
    url = base64.b64decode(secret["data"]["url"]).decode()
    await asyncio.to_thread(upgrade_database, url)
    due = datetime.now(UTC) + timedelta(seconds=3)
    conversation = await open_conversation(url, name, expires_at=due)

    condition = await asyncio.to_thread(
        op.wait_condition, kube_namespace, "WhatsAppTenant", name, "Sleeping", "False", "Woken"
    )
    assert condition["message"].startswith("a conversation timer is due at ")
    await asyncio.to_thread(wait_for, lambda: replicas(op, kube_namespace, name), lambda n: n == 1)
    # Until the scheduler has moved the conversation (nothing runs it here) the tenant stays up.
    await asyncio.sleep(15)
    assert sleeping(op, kube_namespace, name)["status"] == "False"
    await expire(url, conversation)
    await asyncio.to_thread(wait_asleep, op, kube_namespace, name)


async def test_removing_idle_after_wakes_a_sleeping_tenant_for_good(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op = live_operator
    name = await asleep_tenant(op, kube_namespace, "insomniac")
    op.cluster.kubectl(
        "patch",
        "whatsapptenant",
        name,
        "-n",
        kube_namespace,
        "--type=json",
        "-p",
        '[{"op": "remove", "path": "/spec/runtime/idleAfter"}]',
    )
    await asyncio.to_thread(wait_for, lambda: replicas(op, kube_namespace, name), lambda n: n == 1)
    await asyncio.to_thread(wait_for, lambda: sleeping(op, kube_namespace, name), lambda c: c == {})


async def execute(url: str, statement: str, *args: object) -> None:
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def open_conversation(url: str, tenant: str, *, expires_at: datetime) -> uuid.UUID:
    """An open conversation whose expiry timer is due at `expires_at`, as a worker leaves it."""
    conversation = uuid.uuid4()
    await execute(
        url,
        "INSERT INTO conversations (id, tenant, contact_number, business_number, status,"
        " version, created_at, updated_at, expires_at, after_hours)"
        " VALUES ($1, $2, '+15550003', '+15550004', 'pending', 1, $3, $3, $4, false)",
        conversation,
        tenant,
        datetime.now(UTC),
        expires_at,
    )
    return conversation


async def expire(url: str, conversation: uuid.UUID) -> None:
    """What the tenant's scheduler does when the timer fires."""
    await execute(
        url,
        "UPDATE conversations SET status = 'expired', closed_at = now() WHERE id = $1",
        conversation,
    )
