"""Clients of the gateway's people API, each carrying a fresh API key of one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.db.api_keys import issue_api_key


@asynccontextmanager
async def tenant_api(
    gateway_url: str, sessions: async_sessionmaker[AsyncSession], tenant: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway with a new API key of `tenant` (named `support-desk`)."""
    async with sessions.begin() as session:
        key = await issue_api_key(
            session, tenant=tenant, name="support-desk", now=datetime.now(UTC)
        )
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers) as client:
        yield client
