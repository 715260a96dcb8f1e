"""The Runtime part: the tenant's objects in its namespace, applied with owner references."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import kopf

from wta_operator.adapters.kube import KubeError
from wta_operator.builders.database import URL_KEY
from wta_operator.builders.manifests import (
    build_manifests_config_map,
    config_checksum,
    manifests_data,
)
from wta_operator.builders.network import (
    build_disruption_budget,
    build_metrics_service,
    build_network_policy,
)
from wta_operator.builders.runtime import (
    DatabaseUrlSource,
    RuntimeInputs,
    build_runtime_deployment,
    build_service_account,
    knowledge_config_maps,
    media_credential_refs,
)
from wta_operator.conditions import Condition, false, true
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.nats_users import nats_url_ref
from wta_operator.reconcile.secrets import SecretCheck, check_secrets
from wta_operator.reconcile.shared_runtime import AgentsIndex, apply_shared_runtime
from wta_operator.settings import OperatorConfig
from wta_operator.views import AgentView, TenantView, all_secret_refs
from wta_runtime.specs import SecretKeyRef

RUNTIME = "Runtime"


@dataclass(frozen=True)
class RuntimeOutcome:
    condition: Condition
    secrets: SecretCheck


def database_url_source(tenant: TenantView, config: OperatorConfig) -> DatabaseUrlSource | None:
    """Where the runtime's WTA_DATABASE_URL comes from, by the tenant's database placement."""
    placement = tenant.spec.database
    if placement.mode == "external" and placement.secret_ref is not None:
        return DatabaseUrlSource(secret=placement.secret_ref)
    if config.admin_database_url is not None:
        return DatabaseUrlSource(
            secret=SecretKeyRef(name=tenant.names.database_secret, key=URL_KEY)
        )
    if config.runtime_database_url:
        return DatabaseUrlSource(value=config.runtime_database_url)
    return None


def runtime_database_url(
    tenant: TenantView, config: OperatorConfig, secrets: SecretCheck
) -> str | None:
    """The URL the tenant's runtime gets as WTA_DATABASE_URL, when it is known (for the gateway)."""
    source = database_url_source(tenant, config)
    if source is None:
        return None
    if source.secret is None:
        return source.value
    found = secrets.value(source.secret)
    return None if found is None else found.get_secret_value()


def desired_children(
    tenant: TenantView,
    agents: Sequence[AgentView],
    inputs: RuntimeInputs,
    config: OperatorConfig,
) -> list[dict[str, Any]]:
    """Every object of the tenant's namespace, before adoption, in the order they are applied."""
    metrics_port = config.metrics_port
    return [
        build_service_account(tenant, config.runtime_service_account_annotations),
        build_manifests_config_map(tenant, agents),
        build_runtime_deployment(tenant, inputs),
        build_metrics_service(tenant, metrics_port),
        build_disruption_budget(tenant),
        build_network_policy(tenant),
    ]


def runtime_inputs(
    tenant: TenantView,
    agents: Sequence[AgentView],
    config: OperatorConfig,
    secrets: SecretCheck,
    *,
    may_run: bool,
    sleeping: bool = False,
) -> RuntimeInputs:
    """Platform settings and derived values for the Deployment, checksum included."""
    return RuntimeInputs(
        image=config.runtime_image,
        pull_policy=config.runtime_image_pull_policy,
        nats_url=config.nats_url_for_runtime,
        metrics_port=config.metrics_port,
        checksum=config_checksum(manifests_data(tenant, agents), secrets.versions),
        secret_refs=all_secret_refs(tenant, list(agents)),
        database_url=database_url_source(tenant, config),
        twilio_api_base=config.runtime_twilio_api_base,
        egress_allow=config.runtime_egress_allow,
        may_run=may_run,
        knowledge_config_maps=knowledge_config_maps([agent.spec.knowledge for agent in agents]),
        media_env=config.runtime_media_env,
        media_credentials=media_credential_refs(config.runtime_media_s3_credentials_secret),
        nats_url_secret=nats_url_ref(tenant, config),
        sleeping=sleeping,
    )


def _ready_workers(deployment: dict[str, Any]) -> str:
    ready = (deployment.get("status") or {}).get("readyReplicas", 0)
    wanted = (deployment.get("spec") or {}).get("replicas", 0)
    return f"{ready}/{wanted} workers ready"


async def apply_runtime(
    plane: ControlPlane,
    owner: kopf.Body,
    tenant: TenantView,
    agents: Sequence[AgentView],
    *,
    may_run: bool,
    conflict: str = "",
    sleeping: bool = False,
    index: AgentsIndex | None = None,
) -> RuntimeOutcome:
    """Apply the namespace's objects; report Secrets the pods need but cannot find.

    With `index` (every tenant's agents), the namespace's shared runtime follows too: a tenant
    of mode shared joins it before its own Deployment goes, one moving back leaves it after its
    own Deployment is there; its durable consumer carries every message across.
    """
    source = database_url_source(tenant, plane.config)
    checked = all_secret_refs(tenant, list(agents))
    if source is not None and source.secret is not None:
        checked.append(source.secret)
    checked += media_credential_refs(plane.config.runtime_media_s3_credentials_secret)
    try:
        secrets = await check_secrets(plane.kube, tenant.namespace, checked)
    except KubeError as exc:
        unknown = SecretCheck({}, {(r.name, r.key): str(exc) for r in checked}, {})
        return RuntimeOutcome(false(RUNTIME, "ApplyFailed", str(exc), retry=True), unknown)
    inputs = runtime_inputs(
        tenant, agents, plane.config, secrets, may_run=may_run, sleeping=sleeping
    )
    shared = tenant.spec.runtime.mode == "shared"
    children = desired_children(tenant, agents, inputs, plane.config)
    if shared:  # its manifests only: the shared pods mount them
        children = [c for c in children if c["kind"] == "ConfigMap"]
    kopf.adopt(children, owner=owner)
    try:
        applied = [await plane.kube.apply(child) for child in children]
        served = ""
        if index is not None:
            _, served = await apply_shared_runtime(plane, tenant.namespace, index)
        if shared:
            await plane.kube.delete_deployment(tenant.namespace, tenant.names.deployment)
    except KubeError as exc:
        return RuntimeOutcome(false(RUNTIME, "ApplyFailed", str(exc), retry=True), secrets)
    problems = secrets.problems()
    if problems:
        message = "; ".join(problems) + ": the workers cannot start until it exists"
        return RuntimeOutcome(false(RUNTIME, "SecretNotFound", message, retry=True), secrets)
    if not may_run:
        return RuntimeOutcome(false(RUNTIME, "NameConflict", f"0 workers: {conflict}"), secrets)
    if tenant.spec.suspend:
        return RuntimeOutcome(false(RUNTIME, "Suspended", "spec.suspend: 0 workers"), secrets)
    if shared:
        return RuntimeOutcome(true(RUNTIME, "Shared", served or "mode shared"), secrets)
    if sleeping:
        message = f"Deployment {tenant.names.deployment} scaled to 0 while the tenant sleeps"
        return RuntimeOutcome(true(RUNTIME, "Sleeping", message), secrets)
    deployment = next(obj for obj in applied if obj.get("kind") == "Deployment")
    message = f"Deployment {tenant.names.deployment} applied: {_ready_workers(deployment)}"
    return RuntimeOutcome(true(RUNTIME, "Applied", message), secrets)
