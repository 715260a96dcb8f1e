"""`wta api-key create|revoke`: tenant API keys of the handoff and conversation API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from wta_runtime.db.api_keys import issue_api_key, revoke_api_key
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.settings import get_settings

api_keys = typer.Typer(help="API keys of the handoff and conversation API.", no_args_is_help=True)


async def _create(database_url: str, tenant: str, name: str) -> str:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            return await issue_api_key(session, tenant=tenant, name=name, now=datetime.now(UTC))
    finally:
        await engine.dispose()


async def _revoke(database_url: str, tenant: str, name: str) -> int:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            return await revoke_api_key(session, tenant=tenant, name=name, now=datetime.now(UTC))
    finally:
        await engine.dispose()


@api_keys.command("create")
def create(
    tenant: Annotated[str, typer.Argument(help="WhatsAppTenant name")],
    name: Annotated[str, typer.Argument(help="what the key is for, e.g. support-desk")],
) -> None:
    """Create a key and print it once; only its SHA-256 hash is stored."""
    typer.echo(asyncio.run(_create(get_settings().database_url, tenant, name)))


@api_keys.command("revoke")
def revoke(
    tenant: Annotated[str, typer.Argument(help="WhatsAppTenant name")],
    name: Annotated[str, typer.Argument(help="the name given at creation")],
) -> None:
    """Revoke the tenant's keys of that name."""
    count = asyncio.run(_revoke(get_settings().database_url, tenant, name))
    typer.echo(f"revoked {count} key(s)")
