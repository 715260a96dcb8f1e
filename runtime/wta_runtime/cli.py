"""The `wta` command: every process of the platform and the local developer tools."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wta_runtime.console.staff_commands import staff
from wta_runtime.gateway.api_key_commands import api_keys
from wta_runtime.manifests import ManifestError
from wta_runtime.settings import get_settings
from wta_runtime.worker.dead_letter_commands import dead_letters

app = typer.Typer(
    help="WhatsApp Twilio AI: Kubernetes-native WhatsApp agents.", no_args_is_help=True
)
app.add_typer(api_keys, name="api-key")
app.add_typer(dead_letters, name="dead-letters")
app.add_typer(staff, name="staff")
console = Console(width=None if sys.stdout.isatty() else 140)


def _setup() -> None:
    from wta_runtime.logging_setup import configure_logging

    configure_logging(get_settings().log_level)


@app.command()
def run() -> None:
    """Run the whole platform locally on embedded NATS and PostgreSQL (Ctrl-C stops it)."""
    from wta_runtime.local.platform import run_local_platform

    _setup()
    run_local_platform(get_settings())


@app.command()
def stop() -> None:
    """Stop a running `wta run`."""
    from wta_runtime.local.platform import stop_local_platform

    if stop_local_platform(get_settings()):
        console.print("asked the local platform to stop")
    else:
        console.print("no local platform is running")


@app.command()
def gateway(
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Run the webhook gateway (FastAPI on WTA_GATEWAY_HOST:WTA_GATEWAY_PORT)."""
    settings = get_settings()
    _setup()
    uvicorn.run(
        "wta_runtime.gateway.asgi:app_from_environment",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        access_log=False,
        # The C event loop and HTTP parser: the gateway's throughput is mostly theirs.
        loop="uvloop",
        http="httptools",
    )


@app.command()
def worker() -> None:
    """Run a runtime worker: consume the tenants' streams and answer messages."""
    from wta_runtime.worker.entry import run_worker_process

    run_worker_process()


@app.command()
def scheduler() -> None:
    """Run the scheduler: move conversations on their timers."""
    from wta_runtime.scheduler.main import run_scheduler_process

    _setup()
    asyncio.run(run_scheduler_process(get_settings()))


@app.command()
def migrate(
    revision: str = "heads",
    lock_timeout: Annotated[
        float, typer.Option(help="seconds to wait for another migration of the same database")
    ] = 600.0,
) -> None:
    """Apply the database migrations to WTA_DATABASE_URL (shared mode: each tenant's database)."""
    from wta_runtime.db.migrate import upgrade_database
    from wta_runtime.db.migration_lock import MigrationLockTimeout
    from wta_runtime.worker.lane_plans import database_urls

    _setup()
    for url in database_urls(get_settings()):
        try:
            upgrade_database(url, revision, lock_timeout)
        except MigrationLockTimeout as exc:
            console.print(f"[red]not migrated[/red]: {escape(str(exc))}")
            raise typer.Exit(1) from None
    console.print(f"database migrated to {revision}")


@app.command()
def seed() -> None:
    """Validate the manifests in WTA_MANIFESTS_DIR and show what the platform will serve."""
    from wta_runtime.catalog import load_catalog
    from wta_runtime.manifests import ManifestError

    settings = get_settings()
    try:
        catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    except ManifestError as exc:
        console.print(f"[red]invalid manifest[/red]: {exc}")
        raise typer.Exit(1) from None
    table = Table("tenant", "account", "numbers", "agents")
    for tenant in catalog.tenants.values():
        agents = ", ".join(
            f"{a.name}{' (default)' if a.spec.selection.default else ''}" for a in tenant.agents
        )
        table.add_row(tenant.name, tenant.account_sid, ", ".join(tenant.numbers), agents)
    console.print(table)


@app.command("check-env")
def check_env() -> None:
    """Show what is configured and reachable: NATS, PostgreSQL, model, Twilio, media store."""
    from wta_runtime.check_env import run_checks

    checks = asyncio.run(run_checks(get_settings()))
    table = Table("check", "target", "status", "detail", "hint")
    for check in checks:
        status = "[green]ok[/green]" if check.ok else "[red]FAIL[/red]"
        table.add_row(check.name, check.target, status, check.detail, check.hint)
    console.print(table)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@app.command()
def chat(
    tenant: Annotated[str | None, typer.Option(help="tenant name (default: the first)")] = None,
    contact: Annotated[str, typer.Option(help="your simulated WhatsApp number")] = "+15005550006",
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="send one message and exit")
    ] = None,
    gateway_url: Annotated[str | None, typer.Option(help="gateway base URL")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for replies")] = 20.0,
) -> None:
    """Talk to a tenant's agent as a WhatsApp contact, through the gateway and local Twilio."""
    from wta_runtime.catalog import load_catalog
    from wta_runtime.chat import ChatSession

    settings = get_settings()
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    chosen = catalog.by_name(tenant) if tenant else next(iter(catalog.tenants.values()))
    twilio_base = settings.twilio_api_url
    session = ChatSession(
        tenant=chosen,
        gateway_url=gateway_url or f"http://{settings.gateway_host}:{settings.gateway_port}",
        twilio_api_base=twilio_base,
        contact=contact,
    )

    def show(body: str) -> None:
        console.print(
            f"[bold green]{escape(chosen.spec.display_name)}>[/bold green] {escape(body)}"
        )

    with httpx.Client(timeout=10) as client:
        try:
            session.mark_seen(client)
        except httpx.HTTPError as exc:
            console.print(
                f"[red]local platform not reachable ({exc}); start it with make run[/red]"
            )
            raise typer.Exit(1) from None
        texts = [message] if message is not None else None
        console.print(f"chatting with {chosen.spec.display_name} as {contact}; Ctrl-D to quit")
        while True:
            if texts is not None:
                if not texts:
                    break
                text = texts.pop()
            else:
                try:
                    text = console.input("[bold]you>[/bold] ")
                except (EOFError, KeyboardInterrupt):
                    break
                if not text.strip():
                    continue
            response = session.send(client, text)
            if response.status_code != 200:
                console.print(
                    f"[red]gateway answered {response.status_code}: {response.text}[/red]"
                )
                continue
            got = session.wait_for_replies(
                client,
                timeout=wait,
                on_reply=show,
                on_typing=lambda: console.print(
                    f"[dim]{escape(chosen.spec.display_name)} is typing...[/dim]"
                ),
            )
            if got == 0:
                console.print("[yellow]no reply yet (is the worker running?)[/yellow]")
                if message is not None:
                    raise typer.Exit(1)


@app.command("eval")
def evaluate(
    files: Annotated[list[Path], typer.Argument(help="golden conversation YAML files")],
) -> None:
    """Run golden conversations against their agents; exit 1 when any case fails."""
    from wta_runtime.evals.golden_files import EvalFileError, load_golden_file
    from wta_runtime.evals.report import failure_lines, results_table
    from wta_runtime.evals.runner import ModelEndpoint, run_golden_files

    settings = get_settings()
    endpoint = ModelEndpoint(
        settings.openai_api_key, settings.openai_base_url, settings.egress_policy
    )
    try:
        goldens = [load_golden_file(path) for path in files]
        results = asyncio.run(run_golden_files(goldens, endpoint))
    except EvalFileError as exc:
        Console(stderr=True, width=200).print(
            f"invalid eval file: {escape(str(exc))}", highlight=False
        )
        raise typer.Exit(2) from None
    model = "offline agent" if endpoint.api_key is None else endpoint.base_url or "OpenAI"
    console.print(f"model: {escape(model)}")
    console.print(results_table(results))
    for line in failure_lines(results):
        console.print(escape(line), highlight=False, soft_wrap=True)
    if not all(result.passed for result in results):
        raise typer.Exit(1)


@app.command()
def replay(
    conversation_id: Annotated[uuid.UUID, typer.Argument(help="a stored conversation's id")],
    agent: Annotated[
        list[Path], typer.Option("--agent", help="candidate AIAgent manifest (repeatable)")
    ],
) -> None:
    """Answer a stored conversation's messages with a candidate agent, beside what was sent."""
    from wta_runtime.evals.replay import ConversationNotFound
    from wta_runtime.evals.replay_command import replay_conversation

    try:
        turns = asyncio.run(replay_conversation(get_settings(), conversation_id, agent))
    except ConversationNotFound as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    from wta_runtime.evals.report import replay_table

    console.print(replay_table(turns))


@app.command("local-twilio")
def local_twilio(
    port: int = 8010,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
) -> None:
    """Run the local Twilio-compatible API for the manifests' accounts."""
    from wta_runtime.catalog import load_catalog
    from wta_runtime.local.twilio_api import create_twilio_app

    settings = get_settings()
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    uvicorn.run(create_twilio_app(accounts), host=host, port=port, log_level="warning")


def main() -> None:
    """`wta`: a configuration mistake ends in one line saying what to fix, not a traceback."""
    try:
        app(prog_name=Path(sys.argv[0]).name)
    except (ManifestError, ValidationError) as exc:
        Console(stderr=True, width=200).print(f"error: {escape(str(exc))}", highlight=False)
        raise SystemExit(2) from None
