"""Reads what an agent's worker ingested from its tenant's database for `status.knowledge`."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import SecretStr

from wta_operator.adapters.database import (
    DatabaseAdmin,
    DatabaseUnavailableError,
    KnowledgeRow,
    own_knowledge_rows,
)
from wta_operator.adapters.kube import KubeError
from wta_operator.builders.database import DatabaseScope
from wta_operator.builders.knowledge import knowledge_status
from wta_operator.naming import InvalidNameError
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.tenant_database import read_tenant_database
from wta_operator.views import InvalidSpecError, TenantView, read_tenant

log = logging.getLogger("wta.operator")


async def read_knowledge(
    plane: ControlPlane, tenant: TenantView, agent: str
) -> dict[str, Any] | None:
    """`status.knowledge` of the agent, or None when the operator cannot read it."""

    async def in_scope(admin: DatabaseAdmin, scope: DatabaseScope) -> list[KnowledgeRow]:
        return await admin.knowledge_rows(scope, tenant.name, agent)

    async def with_url(url: SecretStr, timeout: float) -> list[KnowledgeRow]:
        return await own_knowledge_rows(url, tenant.name, agent, timeout=timeout)

    try:
        rows = await read_tenant_database(plane, tenant, in_scope, with_url)
    except DatabaseUnavailableError as exc:
        log.warning("[%s/%s] knowledge not read: %s", tenant.namespace, agent, exc)
        return None
    return None if rows is None else knowledge_status(rows)


async def agent_knowledge(
    plane: ControlPlane, namespace: str, tenant: str, agent: str
) -> dict[str, Any] | None:
    """`status.knowledge` of an agent of `tenant`; None when the tenant or its database
    cannot be read now (its own conditions say why)."""
    try:
        body = await plane.kube.read_tenant(namespace, tenant)
    except KubeError as exc:
        log.warning("[%s/%s] knowledge not read: %s", namespace, agent, exc)
        return None
    if body is None:
        return None
    try:
        view = read_tenant(body)
    except (InvalidSpecError, InvalidNameError):
        return None
    return await read_knowledge(plane, view, agent)
