"""Tenants and agents as the operator reads them: names, validated specs and their Secret refs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from wta_operator.naming import ChildNames, check_tenant_name
from wta_runtime.specs import AIAgentSpec, SecretKeyRef, WhatsAppTenantSpec


class InvalidSpecError(ValueError):
    """A spec the shared model refuses; the message lists each field and what is wrong."""


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )


@dataclass(frozen=True)
class TenantView:
    """A WhatsAppTenant with its spec validated by the model the runtime uses."""

    name: str
    namespace: str
    uid: str
    generation: int | None
    created: str
    spec: WhatsAppTenantSpec
    names: ChildNames


@dataclass(frozen=True)
class AgentView:
    """An AIAgent of some tenant, validated."""

    name: str
    namespace: str
    spec: AIAgentSpec


@dataclass(frozen=True)
class AgentEntry:
    """An AIAgent as the agents index keeps it: a copy of its spec, not yet validated."""

    name: str
    namespace: str
    spec: dict[str, Any]


def valid_agents(entries: Iterable[AgentEntry]) -> list[AgentView]:
    """The agents whose spec the shared model accepts, sorted by name (the others are skipped)."""
    found: list[AgentView] = []
    for entry in entries:
        try:
            found.append(read_agent(entry.namespace, entry.name, entry.spec))
        except InvalidSpecError:
            continue
    return sorted(found, key=lambda agent: agent.name)


def read_tenant(body: Mapping[str, Any]) -> TenantView:
    """Validate a WhatsAppTenant body; InvalidSpecError / InvalidNameError say why not."""
    meta = body.get("metadata") or {}
    names = check_tenant_name(str(meta.get("name", "")))
    try:
        spec = WhatsAppTenantSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        raise InvalidSpecError(_problems(exc)) from None
    return TenantView(
        name=names.tenant,
        namespace=str(meta.get("namespace") or "default"),
        uid=str(meta.get("uid", "")),
        generation=meta.get("generation"),
        created=str(meta.get("creationTimestamp", "")),
        spec=spec,
        names=names,
    )


def read_agent(namespace: str, name: str, spec: Mapping[str, Any]) -> AgentView:
    """Validate an AIAgent spec; InvalidSpecError says why not."""
    try:
        return AgentView(name, namespace, AIAgentSpec.model_validate(dict(spec)))
    except ValidationError as exc:
        raise InvalidSpecError(_problems(exc)) from None


def secret_refs(model: BaseModel) -> Iterator[SecretKeyRef]:
    """Every Secret key a spec refers to, wherever the spec keeps it."""
    if isinstance(model, SecretKeyRef):
        yield model
        return
    for field_name in type(model).model_fields:
        yield from _refs_in(getattr(model, field_name))


def _refs_in(value: object) -> Iterator[SecretKeyRef]:
    if isinstance(value, BaseModel):
        yield from secret_refs(value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _refs_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs_in(item)


def all_secret_refs(tenant: TenantView, agents: list[AgentView]) -> list[SecretKeyRef]:
    """The Secret keys of a tenant and its agents, each once, in a stable order."""
    found: dict[tuple[str, str], SecretKeyRef] = {}
    for model in (tenant.spec, *(agent.spec for agent in agents)):
        for ref in secret_refs(model):
            found.setdefault((ref.name, ref.key), ref)
    return [found[key] for key in sorted(found)]
