"""Benchmark: a handoff until its row shows in a staff member's open console queue.

Starts NATS, PostgreSQL, a local Twilio, a gateway and a worker, logs a staff member into the
console in headless chromium, then, one at a time, has new contacts ask for a person. Each
latency is from the moment the worker handed the conversation off (its `handoff_at`) to the
moment the row appeared in the page (a MutationObserver's clock: the same machine clock). The
section "Console: handoff -> queue row" of docs/benchmarks.md is replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from playwright.async_api import Page
from sqlalchemy import select
from tests.console.browser import CHROMIUM, chromium
from tests.console.conftest import NUMBER_A, TENANT_A, tenant_docs
from tests.utils.servers import serve_in_thread
from tests.utils.webhooks import new_contact, webhook_for

from hack.bench import percentile
from hack.bench_report import replace_section
from hack.machine import machine
from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.console.passwords import hash_password
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.db.staff_accounts import add_staff
from wta_runtime.db.tables import Conversation
from wta_runtime.local.embedded_postgres import create_database, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port, stop_together
from wta_runtime.local.twilio_api import create_twilio_app

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADING = "## Console: handoff -> queue row in an open browser"
WEBHOOK = "/api/v1/twilio/webhook"
PASSWORD = "bench-password-0001"  # noqa: S105 - a throwaway account of a throwaway database
# Records when each queue row first appears, by the page's own clock.
OBSERVER = """() => {
  window.seen = {};
  const note = () => document.querySelectorAll("tr[data-conversation]").forEach((row) => {
    const id = row.dataset.conversation;
    if (!(id in window.seen)) window.seen[id] = Date.now();
  });
  note();
  const options = {childList: true, subtree: true};
  new MutationObserver(note).observe(document.getElementById("queue"), options);
}"""


def _processes(logs: Path, env: dict[str, str], gateway_port: int) -> list[ManagedProcess]:
    wta = [sys.executable, "-m", "wta_runtime"]
    worker_port = free_port()
    return [
        ManagedProcess(
            "gateway",
            [*wta, "gateway"],
            port=gateway_port,
            log_path=logs / "gateway.log",
            env={**env, "WTA_GATEWAY_PORT": str(gateway_port)},
        ),
        ManagedProcess(
            "worker",
            [*wta, "worker"],
            port=worker_port,
            log_path=logs / "worker.log",
            env={
                **env,
                "WTA_TENANTS": f'["{TENANT_A}"]',
                "WTA_WORKER_METRICS_PORT": str(worker_port),
            },
        ),
    ]


async def _handed_off_at(database_url: str, contact: str) -> tuple[str, datetime]:
    engine = create_engine(database_url, pool_size=1)
    try:
        for _ in range(2000):
            async with session_factory(engine)() as session:
                row = await session.scalar(
                    select(Conversation).where(
                        Conversation.contact_number == contact,
                        Conversation.status == "human_handoff",
                    )
                )
            if row is not None and row.handoff_at is not None:
                return str(row.id), row.handoff_at
            await asyncio.sleep(0.01)
    finally:
        await engine.dispose()
    raise TimeoutError(f"{contact} was never handed off")


async def _seen(page: Page, conversation: str) -> float:
    """When the page's observer saw the conversation's row (polled: the console's CSP forbids
    the eval that `wait_for_function` needs)."""
    for _ in range(3000):
        seen = await page.evaluate(f"() => window.seen['{conversation}']")
        if seen is not None:
            return float(seen)
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{conversation} never showed in the queue")


async def measure(
    tmp: Path, url: str, database_url: str, catalog: TenantCatalog, rounds: int
) -> list[float]:
    """Milliseconds from each handoff to its row in the open queue."""
    engine = create_engine(database_url, pool_size=1)
    async with session_factory(engine).begin() as session:
        await add_staff(
            session,
            tenant=TENANT_A,
            email="bench@console-a.example",
            role="agent",
            password_hash=hash_password(PASSWORD),
            now=datetime.now(UTC),
        )
    await engine.dispose()
    latencies = []
    async with chromium(tmp / "profile") as browser, httpx.AsyncClient(base_url=url) as client:
        page = await browser.new_page()
        await page.goto(url + "/console/login")
        await page.fill("input[name=tenant]", TENANT_A)
        await page.fill("input[name=email]", "bench@console-a.example")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#queue")
        await page.evaluate(OBSERVER)
        for _ in range(rounds):
            contact = new_contact()
            data, headers = webhook_for(
                catalog.by_name(TENANT_A), url + WEBHOOK, contact=contact, body="a human please"
            )
            assert (await client.post(WEBHOOK, data=data, headers=headers)).status_code == 200
            conversation, handoff_at = await _handed_off_at(database_url, contact)
            seen_ms = await _seen(page, conversation)
            latencies.append(seen_ms - handoff_at.timestamp() * 1000)
    return latencies


def run(tmp: Path, rounds: int) -> list[float]:
    """Start everything, measure, stop everything."""
    nats_port, pg_port, gateway_port = free_port(), free_port(), free_port()
    nats = nats_process(tmp / "nats", port=nats_port, log_path=tmp / "nats.log")
    postgres = postgres_process(tmp / "pg", port=pg_port, log_path=tmp / "pg.log")
    nats.start()
    postgres.start()
    try:
        create_database(pg_port, "wta", "wta")
        database_url = f"postgresql+asyncpg://wta@127.0.0.1:{pg_port}/wta"
        upgrade_database(database_url)
        manifests = tmp / "manifests"
        manifests.mkdir()
        docs = tenant_docs(TENANT_A, NUMBER_A, "AC" + "0" * 28 + "0301")
        (manifests / "tenant.yaml").write_text(yaml.safe_dump_all(docs))
        catalog = load_catalog(manifests)
        accounts = {
            t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()
        }
        with serve_in_thread(create_twilio_app(accounts)) as twilio_url:
            gateway_url = f"http://127.0.0.1:{gateway_port}"
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
                "WTA_NATS_URL": f"nats://127.0.0.1:{nats_port}",
                "WTA_DATABASE_URL": database_url,
                "WTA_TWILIO_API_BASE": twilio_url,
                "WTA_MANIFESTS_DIR": str(manifests),
                "WTA_PUBLIC_BASE_URL": gateway_url,
                "WTA_LOG_LEVEL": "WARNING",
            }
            processes = _processes(tmp, env, gateway_port)
            try:
                for process in processes:
                    process.start(timeout=60)
                return asyncio.run(measure(tmp, gateway_url, database_url, catalog, rounds))
            finally:
                stop_together(processes)
    finally:
        postgres.stop()
        nats.stop()


def section(latencies: list[float], elapsed: float) -> str:
    """The markdown section for docs/benchmarks.md."""
    return "\n".join(
        [
            HEADING,
            "",
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}",
            "- command: `make bench` (`python -m hack.bench_console`)",
            f"- {len(latencies)} handoffs one after another ({elapsed:.0f} s), one staff member's "
            "queue open in headless chromium; from the worker's `handoff_at` to the row appearing "
            "in the page. The queue is re-rendered by the server every 0.4 s and pushed over "
            "server-sent events only when it changed.",
            "",
            "| p50 ms | p99 ms | max ms |",
            "| --- | --- | --- |",
            f"| {percentile(latencies, 0.5):.0f} | {percentile(latencies, 0.99):.0f} "
            f"| {max(latencies):.0f} |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("console benchmark skipped: no /usr/bin/chromium (make browser-tools)")
        return
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wta-bench-console-") as tmp:
        latencies = run(Path(tmp), args.rounds)
    new = section(latencies, time.monotonic() - started)
    replace_section(DOC, HEADING, new)
    print(new)


if __name__ == "__main__":
    main()
