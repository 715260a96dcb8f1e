"""A tenant's life with the operator running for real: create, change, drift, delete."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from tests.operator.factories import (
    TOKEN,
    agent_manifest,
    secret_manifest,
    tenant_manifest,
    unique_name,
)
from tests.operator.harness import REPAIR_WITHIN, RunningOperator, wait_for
from wta_operator.builders.database import database_scope
from wta_runtime.catalog import load_catalog
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.permissions import url_password

CHILDREN = [
    ("ServiceAccount", "runtime"),
    ("ConfigMap", "manifests"),
    ("Deployment", "runtime"),
    ("Service", "metrics"),
    ("PodDisruptionBudget", "runtime"),
    ("NetworkPolicy", "runtime"),
    ("Secret", "database"),
    # The operator's NATS URL carries a password: the runtime gets it from this Secret.
    ("Secret", "nats"),
]


def create_tenant(op: RunningOperator, namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    tenant = tenant_manifest(name, **spec)
    op.apply(namespace, secret_manifest(f"{name}-twilio"), tenant)
    op.wait_condition(namespace, "WhatsAppTenant", name, "Ready", "True")
    return tenant


def checksum(op: RunningOperator, namespace: str, name: str) -> str:
    deployment = op.read(namespace, "Deployment", f"{name}-runtime") or {}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    return str(annotations["checksum/config"])


async def stream_exists(client: Client, tenant: str) -> bool:
    try:
        await client.jetstream().stream_info(TenantStream(tenant).stream)
    except NotFoundError:
        return False
    return True


async def test_tenant_gets_its_children_stream_route_database_and_ready(
    live_operator: RunningOperator,
    kube_namespace: str,
    nats_client: Client,
    admin_database_url: str,
    tmp_path: Path,
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    tenant = create_tenant(op, namespace, name)
    uid = (op.read(namespace, "WhatsAppTenant", name) or {})["metadata"]["uid"]

    for kind, suffix in CHILDREN:
        child = op.read(namespace, kind, f"{name}-{suffix}")
        assert child is not None, f"{kind} {name}-{suffix} missing"
        assert [ref["uid"] for ref in child["metadata"]["ownerReferences"]] == [uid]

    deployment = op.read(namespace, "Deployment", f"{name}-runtime") or {}
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["WTA_TENANTS"]["value"]) == [name]
    assert env["WTA_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == f"{name}-database"

    names = TenantStream(name)
    info = await nats_client.jetstream().consumer_info(names.stream, names.worker_durable)
    assert info.config.durable_name == names.worker_durable

    (tmp_path / "route.yaml").write_text(op.routes()[f"{namespace}.{name}.yaml"])
    routed = load_catalog(tmp_path).by_number(
        tenant["spec"]["twilio"]["accountSid"], tenant["spec"]["numbers"][0]["number"]
    )
    assert (routed.name, routed.auth_token.get_secret_value()) == (name, TOKEN)

    scope = database_scope(namespace, name)
    conn = await asyncpg.connect(admin_database_url.replace("postgres@", f"{scope.role}@"))
    try:
        assert await conn.fetchval("SELECT current_schema()") == scope.schema
    finally:
        await conn.close()

    status = (op.read(namespace, "WhatsAppTenant", name) or {})["status"]
    assert status["stream"] == TenantStream(name).stream
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "Runtime": "True",
        "Stream": "True",
        "Routing": "True",
        "Database": "True",
    }
    assert all(c["observedGeneration"] == 1 for c in status["conditions"])
    reasons = {e["reason"] for e in op.events(namespace)}
    assert {"Routed", "Applied"} <= reasons


def test_the_operators_nats_password_reaches_the_runtime_only_by_secret_key_ref(
    live_operator: RunningOperator, kube_namespace: str, operator_nats_url: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    create_tenant(op, namespace, name)

    pod = (op.read(namespace, "Deployment", f"{name}-runtime") or {})["spec"]["template"]["spec"]
    secret = op.read(namespace, "Secret", f"{name}-nats") or {}

    password = url_password(operator_nats_url)
    assert password
    assert password not in json.dumps(pod)
    for container in pod["initContainers"] + pod["containers"]:
        [env] = [e for e in container["env"] if e["name"] == "WTA_NATS_URL"]
        assert env["valueFrom"] == {"secretKeyRef": {"name": f"{name}-nats", "key": "url"}}
    assert base64.b64decode(secret["data"]["url"]).decode() == operator_nats_url


def test_a_spec_change_rolls_the_runtime(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    tenant = create_tenant(op, namespace, name)
    before = checksum(op, namespace, name)

    tenant["spec"]["fallbackMessage"] = "We are back in a minute."
    tenant["spec"]["runtime"] = {"replicas": 2}
    op.apply(namespace, tenant)

    after = wait_for(lambda: checksum(op, namespace, name), lambda c: c != before)
    assert after != before
    config = op.read(namespace, "ConfigMap", f"{name}-manifests") or {}
    assert "We are back in a minute." in config["data"]["tenant.yaml"]
    deployment = op.read(namespace, "Deployment", f"{name}-runtime") or {}
    assert deployment["spec"]["replicas"] == 2
    assert deployment["metadata"]["generation"] >= 2
    ready = op.wait_condition(namespace, "WhatsAppTenant", name, "Ready", "True")
    wait_for(
        lambda: op.condition(namespace, "WhatsAppTenant", name, "Ready"),
        lambda c: c.get("observedGeneration") == 2,
    )
    assert ready["status"] == "True"


def test_deleted_and_edited_children_are_repaired(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    create_tenant(op, namespace, name)
    op.delete(namespace, "deployment", f"{name}-runtime", wait=True)
    op.delete(namespace, "configmap", f"{name}-manifests", wait=True)
    op.cluster.kubectl(
        "patch",
        "service",
        f"{name}-metrics",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec": {"ports": [{"name": "metrics", "port": 1234, "targetPort": "metrics"}]}}',
    )

    wait_for(
        lambda: op.read(namespace, "Deployment", f"{name}-runtime"),
        lambda d: d is not None,
        timeout=REPAIR_WITHIN,
    )
    assert op.read(namespace, "ConfigMap", f"{name}-manifests") is not None
    service = wait_for(
        lambda: op.read(namespace, "Service", f"{name}-metrics") or {},
        lambda s: s["spec"]["ports"][0]["port"] == 9101,
        timeout=REPAIR_WITHIN,
    )
    assert service["spec"]["ports"][0]["port"] == 9101


async def test_delete_with_policy_delete_removes_route_stream_and_schema(
    live_operator: RunningOperator,
    kube_namespace: str,
    nats_client: Client,
    admin_database_url: str,
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    create_tenant(op, namespace, name, deletionPolicy="Delete")
    assert await stream_exists(nats_client, name)

    op.delete(namespace, "whatsapptenant", name, wait=True)

    assert f"{namespace}.{name}.yaml" not in op.routes()
    assert not await stream_exists(nats_client, name)
    with pytest.raises(NotFoundError):
        await nats_client.jetstream().stream_info(TenantStream(name).dead_letter_stream)
    conn = await asyncpg.connect(admin_database_url)
    try:
        scope = database_scope(namespace, name)
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1", scope.schema
        )
        assert found == 0
    finally:
        await conn.close()


async def test_delete_with_policy_retain_keeps_stream_but_not_route(
    live_operator: RunningOperator, kube_namespace: str, nats_client: Client
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    create_tenant(op, namespace, name)
    assert f"{namespace}.{name}.yaml" in op.routes()

    op.delete(namespace, "whatsapptenant", name, wait=True)

    assert f"{namespace}.{name}.yaml" not in op.routes()
    assert await stream_exists(nats_client, name)


def test_agents_attach_and_detach(live_operator: RunningOperator, kube_namespace: str) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    create_tenant(op, namespace, name)
    alone = checksum(op, namespace, name)

    op.apply(namespace, agent_manifest("helper", name))
    op.wait_condition(namespace, "AIAgent", "helper", "Ready", "True", "Attached")
    with_agent = wait_for(lambda: checksum(op, namespace, name), lambda c: c != alone)
    config = op.read(namespace, "ConfigMap", f"{name}-manifests") or {}
    assert sorted(config["data"]) == ["agent-helper.yaml", "tenant.yaml"]
    wait_for(
        lambda: (op.read(namespace, "WhatsAppTenant", name) or {}).get("status", {}),
        lambda s: s.get("agents") == 1,
    )

    op.delete(namespace, "aiagent", "helper", wait=True)
    wait_for(lambda: checksum(op, namespace, name), lambda c: c == alone)
    config = op.read(namespace, "ConfigMap", f"{name}-manifests") or {}
    assert sorted(config["data"]) == ["tenant.yaml"]
    assert with_agent != alone
