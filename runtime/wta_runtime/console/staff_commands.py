"""`wta staff add|remove|reset|list`: the people of a tenant who may log into the console."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.console.passwords import WeakPasswordError, hash_password, new_password
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.db.staff_accounts import (
    StaffExistsError,
    add_staff,
    remove_staff,
    set_password,
    tenant_staff,
)
from wta_runtime.settings import get_settings

staff = typer.Typer(help="Staff accounts of the web console.", no_args_is_help=True)
T = TypeVar("T")

TenantArg = Annotated[str, typer.Argument(help="WhatsAppTenant name")]
EmailArg = Annotated[str, typer.Argument(help="the staff member's email (their login)")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="read the password from standard input instead of making one"
    ),
]


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(get_settings().database_url, pool_size=1)
        try:
            async with session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password and whether it was made here (then it is printed once)."""
    if not from_stdin:
        return new_password(), True
    return sys.stdin.readline().rstrip("\r\n"), False


def _hashed(password: str) -> str:
    try:
        return hash_password(password)
    except WeakPasswordError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@staff.command("add")
def add(
    tenant: TenantArg,
    email: EmailArg,
    role: Annotated[Role, typer.Option(help="a supervisor may also assign to others")] = Role.agent,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a staff account; prints the password when it made one."""
    password, made = _password(password_stdin)
    hashed = _hashed(password)
    now = datetime.now(UTC)
    try:
        _in_transaction(
            lambda s: add_staff(
                s,
                tenant=tenant,
                email=email.lower(),
                role=role.value,
                password_hash=hashed,
                now=now,
            )
        )
    except StaffExistsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(password if made else f"added {email.lower()} ({role.value}) to {tenant}")


@staff.command("reset")
def reset(tenant: TenantArg, email: EmailArg, password_stdin: PasswordStdin = False) -> None:
    """Set a new password and log the account out everywhere."""
    password, made = _password(password_stdin)
    hashed = _hashed(password)
    changed = _in_transaction(
        lambda s: set_password(s, tenant=tenant, email=email.lower(), password_hash=hashed)
    )
    if not changed:
        typer.echo(f"error: {tenant} has no staff member {email.lower()}", err=True)
        raise typer.Exit(1)
    typer.echo(password if made else f"reset the password of {email.lower()}")


@staff.command("remove")
def remove(tenant: TenantArg, email: EmailArg) -> None:
    """Delete a staff account and end its sessions."""
    if not _in_transaction(lambda s: remove_staff(s, tenant=tenant, email=email.lower())):
        typer.echo(f"error: {tenant} has no staff member {email.lower()}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {email.lower()} from {tenant}")


@staff.command("list")
def list_staff(tenant: TenantArg) -> None:
    """The tenant's staff members and their roles."""
    for member in _in_transaction(lambda s: tenant_staff(s, tenant)):
        typer.echo(f"{member.email}\t{member.role}")
