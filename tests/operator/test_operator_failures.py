"""What goes wrong, said in conditions: missing Secrets, number conflicts, unreachable servers."""

from __future__ import annotations

import base64

import httpx
import pytest
from pydantic import SecretStr

from tests.operator.factories import (
    TOKEN,
    agent_manifest,
    secret_manifest,
    tenant_manifest,
    unique_name,
)
from tests.operator.harness import REPAIR_WITHIN, OwnedNumber, RunningOperator, wait_for
from wta_operator.adapters.database import DatabaseAdmin, DatabaseUnavailableError
from wta_operator.adapters.streams import StreamPlane, StreamUnavailableError
from wta_operator.builders.database import database_scope
from wta_runtime.local.processes import free_port
from wta_runtime.stream.permissions import url_password


def test_a_missing_secret_is_reported_then_the_tenant_recovers(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    op.apply(namespace, tenant_manifest(name))

    runtime = op.wait_condition(namespace, "WhatsAppTenant", name, "Runtime", "False")
    assert runtime["reason"] == "SecretNotFound"
    assert f"Secret {namespace}/{name}-twilio not found" in runtime["message"]
    routing = op.condition(namespace, "WhatsAppTenant", name, "Routing")
    assert (routing["status"], routing["reason"]) == ("False", "SecretNotFound")
    ready = op.condition(namespace, "WhatsAppTenant", name, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SecretNotFound")
    assert f"{namespace}.{name}.yaml" not in op.routes()
    # The rest is in place, so the workers start as soon as the Secret exists.
    assert op.read(namespace, "Deployment", f"{name}-runtime") is not None

    op.apply(namespace, secret_manifest(f"{name}-twilio"))
    op.wait_condition(namespace, "WhatsAppTenant", name, "Ready", "True", timeout=REPAIR_WITHIN)
    assert f"{namespace}.{name}.yaml" in op.routes()
    warnings = [e for e in op.events(namespace) if e["type"] == "Warning"]
    assert any(e["reason"] == "SecretNotFound" for e in warnings)


def test_a_wrong_secret_key_is_named(live_operator: RunningOperator, kube_namespace: str) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    op.apply(namespace, secret_manifest(f"{name}-twilio", key="token"), tenant_manifest(name))
    runtime = op.wait_condition(namespace, "WhatsAppTenant", name, "Runtime", "False")
    assert f"Secret {namespace}/{name}-twilio has no key 'authToken'" in runtime["message"]


def test_the_later_tenant_on_a_number_gets_a_conflict_and_no_route(
    live_operator: RunningOperator, owned_number: OwnedNumber
) -> None:
    op, namespace, number = live_operator, owned_number.namespace, owned_number.number
    first, second = owned_number.owner, unique_name("second")
    op.apply(
        namespace, secret_manifest(f"{second}-twilio"), tenant_manifest(second, numbers=[number])
    )

    routing = op.wait_condition(namespace, "WhatsAppTenant", second, "Routing", "False")
    assert routing["reason"] == "NumberConflict"
    assert f"number {number} is already claimed by {namespace}/{first}" in routing["message"]
    ready = op.condition(namespace, "WhatsAppTenant", second, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "NumberConflict")
    routes = op.routes()
    assert f"{namespace}.{first}.yaml" in routes
    assert f"{namespace}.{second}.yaml" not in routes
    assert (op.read(namespace, "WhatsAppTenant", second) or {})["status"].get("numbers") == 0

    # Once the first tenant is gone, the number is free and the second one is routed.
    op.delete(namespace, "whatsapptenant", first, wait=True)
    op.wait_condition(namespace, "WhatsAppTenant", second, "Ready", "True", timeout=REPAIR_WITHIN)
    assert f"{namespace}.{second}.yaml" in op.routes()
    assert (op.read(namespace, "WhatsAppTenant", second) or {})["status"]["numbers"] == 1


def test_no_secret_value_reaches_status_events_or_logs(
    live_operator: RunningOperator, kube_namespace: str, operator_nats_url: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    op.ready_tenant_with_agent(namespace, name)
    encoded = base64.b64encode(TOKEN.encode()).decode()
    nats_password = url_password(operator_nats_url)
    assert nats_password
    seen = [
        str(op.read(namespace, "WhatsAppTenant", name)),
        str(op.read(namespace, "AIAgent", "helper")),
        str(op.read(namespace, "ConfigMap", f"{name}-manifests")),
        str(op.read(namespace, "Deployment", f"{name}-runtime")),
        str(op.events(namespace)),
        op.log(),
    ]
    for text in seen:
        assert TOKEN not in text
        assert encoded not in text
        assert nats_password not in text


def test_an_agent_waits_for_its_tenant(live_operator: RunningOperator, kube_namespace: str) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    op.apply(namespace, agent_manifest("early", name))
    missing = op.wait_condition(namespace, "AIAgent", "early", "Ready", "False")
    assert missing["reason"] == "TenantNotFound"

    op.apply(namespace, secret_manifest(f"{name}-twilio"), tenant_manifest(name))
    op.wait_condition(namespace, "AIAgent", "early", "Ready", "True", "Attached", timeout=30)
    config = wait_for(
        lambda: op.read(namespace, "ConfigMap", f"{name}-manifests") or {},
        lambda c: "agent-early.yaml" in c.get("data", {}),
    )
    assert "agent-early.yaml" in config["data"]


async def test_unreachable_nats_is_an_error_value_not_a_crash() -> None:
    streams = StreamPlane(f"nats://127.0.0.1:{free_port()}", timeout=0.5)
    with pytest.raises(StreamUnavailableError, match="unreachable"):
        await streams.ensure("acme-pizza")
    await streams.close()


async def test_unreachable_database_is_an_error_value_not_a_crash() -> None:
    url = SecretStr(f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/wta")
    admin = DatabaseAdmin(url, timeout=0.5)
    with pytest.raises(DatabaseUnavailableError) as caught:
        await admin.ensure_scope(database_scope("shops", "acme"), SecretStr("pw"), new=True)
    assert "hunter2" not in str(caught.value)


def test_a_tenant_name_taken_in_another_namespace_runs_nothing(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, name = live_operator, unique_name()
    other = f"{kube_namespace}-b"
    op.cluster.kubectl("create", "namespace", other)
    try:
        op.apply(kube_namespace, secret_manifest(f"{name}-twilio"), tenant_manifest(name))
        op.wait_condition(kube_namespace, "WhatsAppTenant", name, "Ready", "True")
        op.apply(other, secret_manifest(f"{name}-twilio"), tenant_manifest(name))

        ready = op.wait_condition(other, "WhatsAppTenant", name, "Ready", "False")
        assert ready["reason"] == "NameConflict"
        stream = op.condition(other, "WhatsAppTenant", name, "Stream")
        assert (stream["status"], stream["reason"]) == ("False", "NameConflict")
        deployment = op.read(other, "Deployment", f"{name}-runtime") or {}
        assert deployment["spec"]["replicas"] == 0
        assert f"{other}.{name}.yaml" not in op.routes()
    finally:
        op.cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_reconciliations_are_counted_for_prometheus(live_operator: RunningOperator) -> None:
    text = httpx.get(live_operator.metrics_url + "/metrics", timeout=5).text
    assert 'wta_operator_reconciles_total{kind="WhatsAppTenant",outcome="success"}' in text
    assert 'wta_operator_reconcile_seconds_bucket{kind="WhatsAppTenant"' in text
