"""The runtime ServiceAccount and Deployment built from a tenant."""

from __future__ import annotations

import json
from typing import Any

from tests.operator.factories import agent_view, runtime_inputs, tenant_view
from wta_operator.builders.runtime import (
    MANIFESTS_DIR,
    DatabaseUrlSource,
    build_runtime_deployment,
    build_service_account,
    knowledge_config_maps,
    media_credential_refs,
    secret_env,
)
from wta_operator.settings import OperatorConfig
from wta_operator.views import all_secret_refs
from wta_runtime.catalog import secret_env_name
from wta_runtime.specs import Knowledge, SecretKeyRef


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return found


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(deployment)["env"]}


def test_service_account_mounts_no_token() -> None:
    account = build_service_account(tenant_view())
    assert account["metadata"]["name"] == "acme-pizza-runtime"
    assert account["automountServiceAccountToken"] is False


def test_worker_serves_only_its_tenant_from_the_mounted_manifests() -> None:
    tenant = tenant_view()
    deployment = build_runtime_deployment(tenant, runtime_inputs(tenant))
    env = env_of(deployment)
    assert container(deployment)["command"] == ["python", "-m", "wta_runtime"]
    assert container(deployment)["args"] == ["worker"]
    assert json.loads(env["WTA_TENANTS"]) == ["acme-pizza"]
    assert env["WTA_MANIFESTS_DIR"] == MANIFESTS_DIR
    assert env["WTA_ENVIRONMENT"] == "production"
    assert env["WTA_NATS_URL"] == "nats://nats.wta-system:4222"
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "manifests", "configMap": {"name": "acme-pizza-manifests"}} in volumes


def test_every_secret_key_arrives_through_secret_key_ref_under_the_catalog_name() -> None:
    tenant = tenant_view(model={"apiKeySecretRef": {"name": "llm", "key": "apiKey"}})
    agent = agent_view(
        "helper",
        tenant.name,
        model={"apiKeySecretRef": {"name": "agent-llm", "key": "key"}},
    )
    deployment = build_runtime_deployment(
        tenant, runtime_inputs(tenant, secret_refs=all_secret_refs(tenant, [agent]))
    )
    env = env_of(deployment)
    for name, key in [("acme-pizza-twilio", "authToken"), ("llm", "apiKey"), ("agent-llm", "key")]:
        ref = SecretKeyRef(name=name, key=key)
        assert env[secret_env_name(ref)] == {"secretKeyRef": {"name": name, "key": key}}
    assert not any("value" in e and "TOKEN" in e["value"] for e in container(deployment)["env"])


def test_mcp_server_header_secrets_reach_the_worker_like_http_tool_ones() -> None:
    tenant = tenant_view()
    token = {"name": "orders-mcp", "key": "token"}
    server = {
        "name": "orders",
        "url": "https://mcp.acme.example/mcp",
        "headers": [{"name": "Authorization", "secretKeyRef": token}],
        "allowTools": ["check_order_status"],
    }
    agent = agent_view("helper", tenant.name, tools={"mcp": [server]})
    deployment = build_runtime_deployment(
        tenant, runtime_inputs(tenant, secret_refs=all_secret_refs(tenant, [agent]))
    )

    env = env_of(deployment)
    assert env[secret_env_name(SecretKeyRef(**token))] == {"secretKeyRef": token}


def test_secret_env_names_each_key_once() -> None:
    ref = SecretKeyRef(name="s", key="k")
    assert len(secret_env([ref, ref])) == 1


def test_database_url_comes_from_a_secret_or_a_plain_value() -> None:
    tenant = tenant_view()
    from_secret = DatabaseUrlSource(secret=SecretKeyRef(name="acme-pizza-database", key="url"))
    env = env_of(build_runtime_deployment(tenant, runtime_inputs(tenant, database_url=from_secret)))
    assert env["WTA_DATABASE_URL"] == {
        "secretKeyRef": {"name": "acme-pizza-database", "key": "url"}
    }
    plain = DatabaseUrlSource(value="postgresql+asyncpg://wta@db/wta")
    env = env_of(build_runtime_deployment(tenant, runtime_inputs(tenant, database_url=plain)))
    assert env["WTA_DATABASE_URL"] == "postgresql+asyncpg://wta@db/wta"
    assert "WTA_DATABASE_URL" not in env_of(
        build_runtime_deployment(tenant, runtime_inputs(tenant))
    )


def test_checksum_annotation_is_on_the_pod_template() -> None:
    tenant = tenant_view()
    deployment = build_runtime_deployment(tenant, runtime_inputs(tenant, checksum="f00d"))
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/config"] == "f00d"


def test_replicas_resources_and_image_come_from_the_spec() -> None:
    tenant = tenant_view(
        runtime={
            "replicas": 3,
            "image": "registry.example/custom:2",
            "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}},
        }
    )
    deployment = build_runtime_deployment(tenant, runtime_inputs(tenant))
    assert deployment["spec"]["replicas"] == 3
    assert container(deployment)["image"] == "registry.example/custom:2"
    assert container(deployment)["resources"] == {
        "requests": {"cpu": "250m"},
        "limits": {"memory": "1Gi"},
    }


def test_default_resources_and_platform_image() -> None:
    tenant = tenant_view()
    deployment = build_runtime_deployment(tenant, runtime_inputs(tenant))
    assert deployment["spec"]["replicas"] == 1
    assert container(deployment)["image"] == "registry.example/wta-runtime:1.0"
    assert container(deployment)["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "512Mi"},
    }


def test_suspended_or_forbidden_tenants_run_no_workers() -> None:
    suspended = tenant_view(suspend=True)
    assert build_runtime_deployment(suspended, runtime_inputs(suspended))["spec"]["replicas"] == 0
    tenant = tenant_view()
    forbidden = build_runtime_deployment(tenant, runtime_inputs(tenant, may_run=False))
    assert forbidden["spec"]["replicas"] == 0


def test_pods_are_locked_down_and_selected_by_stable_labels() -> None:
    tenant = tenant_view()
    deployment = build_runtime_deployment(tenant, runtime_inputs(tenant))
    pod = deployment["spec"]["template"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    )
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container(deployment)["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"]["serviceAccountName"] == "acme-pizza-runtime"


def test_knowledge_config_maps_are_mounted_where_the_agent_runtime_reads_them() -> None:
    tenant = tenant_view()
    deployment = build_runtime_deployment(
        tenant, runtime_inputs(tenant, knowledge_config_maps=["menu-docs", "faq", "menu-docs"])
    )

    pod = deployment["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
    volumes = {v["name"]: v.get("configMap", {}).get("name") for v in pod["volumes"]}
    env = {e["name"]: e.get("value") for e in container(deployment)["env"]}

    assert volumes[mounts["/etc/wta/configmaps/menu-docs"]] == "menu-docs"
    assert volumes[mounts["/etc/wta/configmaps/faq"]] == "faq"
    assert len([m for m in mounts if m.startswith("/etc/wta/configmaps/")]) == 2
    assert env["WTA_AGENT_CONFIGMAPS_DIR"] == "/etc/wta/configmaps"


def test_the_configmaps_of_knowledge_sources_are_mounted_too() -> None:
    knowledge = [
        Knowledge.model_validate({"configMapRefs": [{"name": "menu-docs"}]}),
        Knowledge.model_validate(
            {
                "sources": [
                    {"configMap": {"name": "faq", "key": "returns.md"}},
                    {"configMap": {"name": "menu-docs", "key": "allergens.md"}},
                    {"s3": {"key": "knowledge/menu.pdf"}},
                ]
            }
        ),
    ]

    assert knowledge_config_maps(knowledge) == ["faq", "menu-docs"]


def test_no_knowledge_config_maps_means_no_extra_volumes() -> None:
    tenant = tenant_view()

    env = {
        e["name"]
        for e in container(build_runtime_deployment(tenant, runtime_inputs(tenant)))["env"]
    }

    assert "WTA_AGENT_CONFIGMAPS_DIR" not in env


def test_each_pod_migrates_first_then_runs_one_worker_that_sweeps_the_timers_too() -> None:
    tenant = tenant_view()
    pod = build_runtime_deployment(tenant, runtime_inputs(tenant))["spec"]["template"]["spec"]

    [migrate] = pod["initContainers"]
    [worker] = pod["containers"]
    assert migrate["args"] == ["migrate"]
    assert migrate["env"] == worker["env"]
    assert worker["args"] == ["worker"]
    assert "WTA_WORKER_RUNS_SCHEDULER" not in {e["name"] for e in worker["env"]}  # on by default


def test_the_platform_media_bucket_reaches_the_workers_with_its_keys_from_a_secret() -> None:
    config = OperatorConfig(
        _env_file=None,
        runtime_media_store="s3",
        runtime_media_s3_bucket="wta-media",
        runtime_media_s3_endpoint_url="https://minio.example.com",
        runtime_media_s3_credentials_secret="wta-media-s3",
    )
    tenant = tenant_view()
    deployment = build_runtime_deployment(
        tenant,
        runtime_inputs(
            tenant,
            media_env=config.runtime_media_env,
            media_credentials=media_credential_refs(config.runtime_media_s3_credentials_secret),
        ),
    )

    env = env_of(deployment)
    assert {k: v for k, v in env.items() if k.startswith("WTA_MEDIA_")} == {
        "WTA_MEDIA_STORE": "s3",
        "WTA_MEDIA_S3_BUCKET": "wta-media",
        "WTA_MEDIA_S3_PREFIX": "media",
        "WTA_MEDIA_S3_ENDPOINT_URL": "https://minio.example.com",
    }
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key] == {"secretKeyRef": {"name": "wta-media-s3", "key": key}}


def test_without_a_media_bucket_the_workers_keep_the_local_default() -> None:
    config = OperatorConfig(_env_file=None)
    tenant = tenant_view()

    env = env_of(
        build_runtime_deployment(tenant, runtime_inputs(tenant, media_env=config.runtime_media_env))
    )

    assert not [name for name in env if name.startswith(("WTA_MEDIA_", "AWS_"))]
    assert media_credential_refs(config.runtime_media_s3_credentials_secret) == []


def test_a_tenants_own_bucket_keys_arrive_through_secret_key_refs() -> None:
    keys = {
        "accessKeyIdSecretRef": {"name": "acme-s3", "key": "id"},
        "secretAccessKeySecretRef": {"name": "acme-s3", "key": "secret"},
    }
    tenant = tenant_view(media={"s3": {"bucket": "acme-media", **keys}})

    env = env_of(build_runtime_deployment(tenant, runtime_inputs(tenant)))

    for key in ("id", "secret"):
        ref = SecretKeyRef(name="acme-s3", key=key)
        assert env[secret_env_name(ref)] == {"secretKeyRef": {"name": "acme-s3", "key": key}}


def test_the_service_account_can_carry_a_cloud_identity_for_the_bucket() -> None:
    role = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/wta-media"}

    account = build_service_account(tenant_view(), role)

    assert account["metadata"]["annotations"] == role
    assert "annotations" not in build_service_account(tenant_view())["metadata"]


def test_the_platforms_egress_allow_list_reaches_the_workers_and_nothing_is_allowed_without() -> (
    None
):
    config = OperatorConfig(_env_file=None, runtime_egress_allow="10.20.0.0/16,crm.tools.svc")
    tenant = tenant_view()

    allowed = env_of(
        build_runtime_deployment(
            tenant, runtime_inputs(tenant, egress_allow=config.runtime_egress_allow)
        )
    )
    default = env_of(build_runtime_deployment(tenant, runtime_inputs(tenant)))

    assert allowed["WTA_EGRESS_ALLOW"] == "10.20.0.0/16,crm.tools.svc"
    assert "WTA_EGRESS_ALLOW" not in default


def test_the_worker_is_ready_while_its_lanes_consume_and_live_while_its_loop_runs() -> None:
    tenant = tenant_view()
    worker = container(build_runtime_deployment(tenant, runtime_inputs(tenant)))
    port = worker["ports"][0]["name"]
    assert worker["readinessProbe"]["httpGet"] == {"path": "/ready", "port": port}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/live", "port": port}
    # Liveness counts only once the worker has answered: a slow first start is not restarted.
    assert worker["startupProbe"]["httpGet"] == {"path": "/live", "port": port}
    startup = worker["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
