"""`wta dead-letters list|replay`: the messages the worker gave up on, for a person to act on."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wta_runtime.settings import get_settings
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.stream.dead_letters import DeadLetter, read_dead_letters, replay

dead_letters = typer.Typer(
    help="Messages the worker gave up on (kept 30 days): list and replay them.",
    no_args_is_help=True,
)
BODY_PREVIEW = 60


async def _list(nats_url: str, tenant: str) -> list[DeadLetter]:
    connection = await connect(nats_url, name="wta-dead-letters")
    try:
        return await read_dead_letters(connection.jetstream(), tenant)
    finally:
        await close_connection(connection)


async def _replay(nats_url: str, tenant: str, sid: str | None) -> list[str]:
    connection = await connect(nats_url, name="wta-dead-letters")
    try:
        js = connection.jetstream()
        letters = await read_dead_letters(js, tenant)
        chosen = [x for x in letters if sid is None or x.message.message_sid == sid]
        # One replay per message, even if it was dead-lettered more than once.
        unique = {letter.message.message_sid: letter for letter in chosen}
        for letter in unique.values():
            await replay(js, letter)
        return list(unique)
    finally:
        await close_connection(connection)


@dead_letters.command("list")
def list_dead_letters(
    tenant: Annotated[str, typer.Argument(help="WhatsAppTenant name")],
) -> None:
    """Show the tenant's dead letters: when, which message, from whom, why."""
    letters = asyncio.run(_list(get_settings().nats_url, tenant))
    table = Table("seq", "dead at", "message sid", "from", "attempts", "reason", "body")
    for letter in letters:
        message = letter.message
        table.add_row(
            str(letter.seq),
            letter.dead_at.isoformat(timespec="seconds") if letter.dead_at else "",
            message.message_sid,
            escape(message.from_number),
            str(letter.attempts),
            escape(letter.reason),
            escape(message.body[:BODY_PREVIEW]),
        )
    Console(width=200).print(table)
    typer.echo(f"{len(letters)} dead letter(s) of {tenant}")


@dead_letters.command("replay")
def replay_dead_letters(
    tenant: Annotated[str, typer.Argument(help="WhatsAppTenant name")],
    sid: Annotated[str | None, typer.Option(help="only the message with this MessageSid")] = None,
) -> None:
    """Put dead letters back on the tenant's stream: the worker stores and answers them."""
    replayed = asyncio.run(_replay(get_settings().nats_url, tenant, sid))
    if sid is not None and not replayed:
        typer.echo(f"no dead letter of {tenant} has MessageSid {sid}", err=True)
        raise typer.Exit(1)
    for message_sid in replayed:
        typer.echo(f"replayed {message_sid}")
    typer.echo(f"{len(replayed)} message(s) replayed to {tenant}")
