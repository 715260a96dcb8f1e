"""The shared runtime of a namespace: applied from every tenant of mode shared it may serve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wta_operator.builders.manifests import config_checksum, manifests_data
from wta_operator.builders.runtime import knowledge_config_maps, media_credential_refs
from wta_operator.builders.shared_runtime import (
    SHARED_RUNTIME,
    SharedRuntimeInputs,
    SharedTenant,
    build_shared_disruption_budget,
    build_shared_network_policy,
    build_shared_runtime_deployment,
    build_shared_service_account,
)
from wta_operator.naming import InvalidNameError
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.nats_users import nats_url_ref
from wta_operator.reconcile.secrets import check_secrets
from wta_operator.views import (
    AgentEntry,
    AgentView,
    InvalidSpecError,
    TenantView,
    all_secret_refs,
    read_tenant,
    valid_agents,
)
from wta_runtime.specs import SecretKeyRef
from wta_runtime.specs.common import API_GROUP, API_VERSION

AgentsIndex = Mapping[tuple[str, str], Iterable[AgentEntry]]


@dataclass(frozen=True)
class SharedMember:
    """A tenant the shared runtime serves, with what its pods read."""

    view: TenantView
    agents: list[AgentView]
    refs: list[SecretKeyRef]


def tenant_refs(
    tenant: TenantView, agents: list[AgentView], plane: ControlPlane
) -> list[SecretKeyRef]:
    """Every Secret key the tenant's runtime reads: its spec's, its database's, its NATS user's."""
    # Imported here: reconcile.runtime imports this module to hand shared tenants over.
    from wta_operator.reconcile.runtime import database_url_source

    refs = all_secret_refs(tenant, agents)
    source = database_url_source(tenant, plane.config)
    if source is not None and source.secret is not None:
        refs.append(source.secret)
    nats = nats_url_ref(tenant, plane.config)
    if nats is not None:
        refs.append(nats)
    return refs


def _candidate(raw: Mapping[str, Any]) -> TenantView | None:
    """A tenant of mode shared that runs; None for others and for invalid or deleted ones."""
    if (raw.get("metadata") or {}).get("deletionTimestamp"):
        return None
    try:
        view = read_tenant(raw)
    except (InvalidSpecError, InvalidNameError):
        return None
    if view.spec.runtime.mode != "shared" or view.spec.suspend:
        return None
    return view


async def shared_members(
    plane: ControlPlane, namespace: str, agents: AgentsIndex
) -> list[SharedMember]:
    """The namespace's running tenants of mode shared, sorted by name."""
    members = []
    for raw in await plane.kube.list_tenants(namespace):
        view = _candidate(raw)
        if view is None:
            continue
        own = valid_agents(agents.get((namespace, view.name), ()))
        members.append(SharedMember(view, own, tenant_refs(view, own, plane)))
    return sorted(members, key=lambda m: m.view.name)


def _owner(member: SharedMember) -> dict[str, Any]:
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "WhatsAppTenant",
        "name": member.view.name,
        "uid": member.view.uid,
    }


async def apply_shared_runtime(
    plane: ControlPlane, namespace: str, agents: AgentsIndex
) -> tuple[list[str], str]:
    """Apply (or, with no member left, delete) the shared runtime; its tenants and a summary.

    A tenant whose Secrets are not all there waits outside: one tenant's missing Secret must not
    keep the pods of every other one from starting.
    """
    config = plane.config
    # Not a tenant's key: no tenant name has a space, so no tenant's lock is this one.
    async with plane.tenant_lock(namespace, "shared runtime"):
        members = await shared_members(plane, namespace, agents)
        media = media_credential_refs(config.runtime_media_s3_credentials_secret)
        checked = await check_secrets(
            plane.kube, namespace, [ref for m in members for ref in m.refs] + media
        )
        ready = [m for m in members if not checked.problems(m.refs)]
        if not ready:
            deleted = await plane.kube.delete_deployment(namespace, SHARED_RUNTIME)
            return [], "no tenant to serve" + (": Deployment deleted" if deleted else "")
        tenants = []
        data: dict[str, str] = {}
        for member in ready:
            files = manifests_data(member.view, member.agents)
            data |= {f"{member.view.name}/{key}": text for key, text in files.items()}
            tenants.append(
                SharedTenant(
                    name=member.view.name,
                    config_map=member.view.names.config_map,
                    manifest_keys=sorted(files),
                    secret_refs=member.refs,
                    knowledge_config_maps=knowledge_config_maps(
                        [a.spec.knowledge for a in member.agents]
                    ),
                )
            )
        plain_nats = nats_url_ref(ready[0].view, config) is None
        inputs = SharedRuntimeInputs(
            namespace=namespace,
            image=config.runtime_image,
            pull_policy=config.runtime_image_pull_policy,
            metrics_port=config.metrics_port,
            replicas=config.shared_runtime_replicas,
            checksum=config_checksum(data, checked.versions),
            nats_url=config.nats_url_for_runtime if plain_nats else None,
            database_url=config.runtime_database_url,
            twilio_api_base=config.runtime_twilio_api_base,
            egress_allow=config.runtime_egress_allow,
            media_env=config.runtime_media_env,
            media_credentials=media,
        )
        owners = [_owner(m) for m in ready]
        applied = []
        for child in (
            build_shared_service_account(namespace),
            build_shared_disruption_budget(namespace),
            build_shared_network_policy(namespace),
            build_shared_runtime_deployment(tenants, inputs),
        ):
            child["metadata"]["ownerReferences"] = owners
            applied.append(await plane.kube.apply(child))
        status = applied[-1].get("status") or {}
        summary = (
            f"served by Deployment {SHARED_RUNTIME} with {len(ready)} tenants: "
            f"{status.get('readyReplicas', 0)}/{inputs.replicas} workers ready"
        )
        return [m.view.name for m in ready], summary
