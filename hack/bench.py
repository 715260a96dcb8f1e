"""`make bench`: gateway vs bare uvicorn, webhook-to-Twilio pipeline latency at a fixed rate, and
the operator bringing many tenants to Ready (hack/bench_operator.py).

Everything runs on this machine: real NATS and PostgreSQL from their wheels, the gateway and a
worker as real processes, the local Twilio API in-process, the load generator in its own process.
The operator part runs afterwards, alone, against the tests' real API server (tests/kube).
Results are written to docs/benchmarks.md.

    python -m hack.bench --only gateway   # gateway vs bare uvicorn alone; rewrites that section
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import nats
import yaml
from tests.utils.servers import serve_in_thread

from hack import bench_operator
from hack.bench_probes import cpu_seconds, profiled
from hack.bench_report import HEADING as WORKER_HEADING
from hack.bench_report import split_sections
from hack.bench_turns import Turn, wait_for_turns
from hack.machine import machine
from wta_runtime.catalog import Tenant, load_catalog
from wta_runtime.chat import signed_webhook
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.local.embedded_postgres import create_database, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port
from wta_runtime.local.twilio_api import create_twilio_app
from wta_runtime.stream.names import TenantStream

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK = "/api/v1/twilio/webhook"
GATEWAY_REQUESTS = int(os.environ.get("WTA_BENCH_REQUESTS", "4000"))
CONCURRENCY = 32
# Gateway and bare uvicorn take turns, so a noisy neighbour slows both alike; the median counts.
GATEWAY_ROUNDS = int(os.environ.get("WTA_BENCH_ROUNDS", "5"))
PIPELINE_RATE = 100.0
PIPELINE_SECONDS = int(os.environ.get("WTA_BENCH_SECONDS", "30"))
CONVERSATIONS = 50
# Written by hand from a py-spy profile (WTA_BENCH_PROFILE); `make bench` keeps it as it is.
GATEWAY_PROFILE_HEADING = "## Gateway: where its time goes"
BARE = "bare uvicorn (200 only)"
FLOOR = "bare uvicorn + JetStream publish (floor)"


def bench_manifests(folder: Path) -> Path:
    """The examples with a 0s burst window, a sender rate above the offered load, no typing.

    The default outbound pace (10 messages/s per sender number) is Twilio's and is kept on
    purpose in production; here it would measure the pacing, not the pipeline.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "examples").glob("*.yaml"):
        docs = list(yaml.safe_load_all(path.read_text()))
        for doc in docs:
            if doc and doc.get("kind") == "WhatsAppTenant":
                doc["spec"].setdefault("conversation", {})["burstWindow"] = "0s"
                doc["spec"]["rateLimit"] = {"messagesPerSecond": 400}
                # The benchmarks' numbers predate it, and its calls are Twilio's, not ours.
                doc["spec"]["typingIndicator"] = {"enabled": False}
        (folder / path.name).write_text(yaml.safe_dump_all(docs))
    return folder


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def signed_bodies(
    tenant: Tenant, url: str, contacts: list[str], count: int
) -> list[tuple[str, str]]:
    bodies = []
    for index in range(count):
        params, signature = signed_webhook(
            tenant,
            url,
            contact=contacts[index % len(contacts)],
            body=f"menu {index}",
            profile_name="Bench",
            message_sid="SM" + secrets.token_hex(16),
        )
        bodies.append((urlencode(params), signature))
    return bodies


def run_load(job: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "hack.load"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def closed_loop_summary(name: str, result: dict[str, Any]) -> dict[str, Any]:
    latencies = [x * 1000 for x in result["latencies"]]
    return {
        "name": name,
        "rps": len(latencies) / result["elapsed"],
        "rounds": [],
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "statuses": result["statuses"],
    }


def uvicorn_process(name: str, app: str, port: int, env: dict[str, str]) -> ManagedProcess:
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
        # All as `wta gateway` runs in production, so the ratio compares the apps alone.
        "--no-proxy-headers",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    if app.endswith("app_from_environment"):  # the gateway's factory
        argv.append("--factory")
    return ManagedProcess(name, argv, port=port, env=env, cwd=ROOT)


async def purge(nats_url: str, tenant: str) -> None:
    connection = await nats.connect(nats_url)
    await connection.jetstream().purge_stream(TenantStream(tenant).stream)
    await connection.close()


def gateway_rows(
    tenant: Tenant, servers: dict[str, tuple[int, int]], contacts: list[str]
) -> list[dict[str, Any]]:
    """Closed-loop throughput of each server (port, pid), rounds interleaved; the median round
    is reported, with the server process's own CPU time per request in that round."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    for _ in range(GATEWAY_ROUNDS):
        for name, (port, pid) in servers.items():
            url = f"http://127.0.0.1:{port}{WEBHOOK}"
            bodies = signed_bodies(tenant, url, contacts, GATEWAY_REQUESTS + 300)
            job = {"mode": "closed", "url": url, "concurrency": CONCURRENCY}
            run_load({**job, "bodies": bodies[:300]})
            cpu = cpu_seconds(pid)
            summary = closed_loop_summary(name, run_load({**job, "bodies": bodies[300:]}))
            summary["cpu_us"] = (cpu_seconds(pid) - cpu) / GATEWAY_REQUESTS * 1e6
            summary["load"] = os.getloadavg()[0]
            runs[name].append(summary)
    rows = []
    for summaries in runs.values():
        ordered = sorted(summaries, key=lambda row: row["rps"])
        row = ordered[len(ordered) // 2]
        row["rounds"] = [round(summary["rps"]) for summary in summaries]
        row["loads"] = [summary["load"] for summary in summaries]
        rows.append(row)
    return rows


def bench(tmp: Path, *, only_gateway: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    nats_port, pg_port = free_port(), free_port()
    infra = [
        nats_process(tmp / "nats", port=nats_port, log_path=tmp / "nats.log"),
        postgres_process(tmp / "pg", port=pg_port, log_path=tmp / "pg.log"),
    ]
    for process in infra:
        process.start()
    create_database(pg_port, "wta", "wta")
    database_url = f"postgresql+asyncpg://wta@127.0.0.1:{pg_port}/wta"
    upgrade_database(database_url)
    nats_url = f"nats://127.0.0.1:{nats_port}"
    manifests = bench_manifests(tmp / "manifests")
    catalog = load_catalog(manifests)
    tenant = next(iter(catalog.tenants.values()))
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    twilio_app = create_twilio_app(accounts, callback_statuses=())
    processes: list[ManagedProcess] = []
    try:
        with serve_in_thread(twilio_app) as twilio_url:
            gateway_port, bare_port, metrics_port = free_port(), free_port(), free_port()
            floor_port = free_port()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
                "WTA_NATS_URL": nats_url,
                "WTA_DATABASE_URL": database_url,
                "WTA_MANIFESTS_DIR": str(manifests),
                "WTA_TWILIO_API_BASE": twilio_url,
                "WTA_LOG_LEVEL": "WARNING",
                "WTA_WORKER_METRICS_PORT": str(metrics_port),
                "PYTHONPATH": str(ROOT),
            }
            gateway = uvicorn_process(
                "gateway", "wta_runtime.gateway.asgi:app_from_environment", gateway_port, env
            )
            bare = uvicorn_process("bare", "hack.bare_app:app", bare_port, env)
            floor = uvicorn_process("floor", "hack.bare_app:publish_app", floor_port, env)
            for process in (gateway, bare, floor):
                process.start(timeout=60)
                processes.append(process)
            contacts = [f"+1555{n:07d}" for n in range(CONVERSATIONS)]
            pids = [process.process.pid for process in processes if process.process]
            servers = {
                BARE: (bare_port, pids[1]),
                FLOOR: (floor_port, pids[2]),
                "gateway": (gateway_port, pids[0]),
            }
            # WTA_BENCH_PROFILE=folder: py-spy samples the gateway while the rounds run.
            profile = os.environ.get("WTA_BENCH_PROFILE")
            with profiled(pids[0], profile, "gateway"):
                rows = gateway_rows(tenant, servers, contacts)
            if only_gateway:
                return rows, {}
            asyncio.run(purge(nats_url, tenant.name))

            worker = ManagedProcess(
                "worker",
                [sys.executable, "-m", "wta_runtime", "worker"],
                port=metrics_port,
                env=env,
                cwd=ROOT,
            )
            worker.start(timeout=60)
            processes.append(worker)
            url = f"http://127.0.0.1:{gateway_port}{WEBHOOK}"
            total = int(PIPELINE_RATE * PIPELINE_SECONDS)
            bodies = signed_bodies(tenant, url, contacts, total)
            run_load({"mode": "open", "url": url, "bodies": bodies, "rate": PIPELINE_RATE})
            turns = wait_for_turns(database_url, tenant.name, total, timeout=120)
            pipeline = pipeline_summary(turns, total)
    finally:
        for process in reversed(processes + infra):
            process.stop()
    return rows, pipeline


def pipeline_summary(turns: list[Turn], total: int) -> dict[str, Any]:
    """Latency of each message from the gateway's acceptance to the send of the reply to it."""
    answered = [t for t in turns if t.replied is not None]
    latencies = [(t.replied - t.received).total_seconds() * 1000 for t in answered if t.replied]
    first = min((t.received for t in turns), default=None)
    last = max((t.replied for t in answered if t.replied), default=None)
    span = (last - first).total_seconds() if first and last else 0.0
    # Replies per second while replies flow: the latency of the first one is not in it.
    first_reply = min((t.replied for t in answered if t.replied), default=None)
    flowing = (last - first_reply).total_seconds() if first_reply and last else 0.0
    nan = float("nan")
    return {
        "turns": total,
        "answered": len(answered),
        "replies": len({t.reply for t in answered}),
        "offered_rate": PIPELINE_RATE,
        "achieved": len(answered) / max(0.001, span),
        "sustained": (len(answered) - 1) / flowing if flowing > 0 else nan,
        "p50": percentile(latencies, 0.50) if latencies else nan,
        "p95": percentile(latencies, 0.95) if latencies else nan,
        "p99": percentile(latencies, 0.99) if latencies else nan,
    }


def gateway_section(rows: list[dict[str, Any]], command: str) -> list[str]:
    """The gateway part of the report, with its own date, machine and command."""
    rps = {row["name"]: row["rps"] for row in rows}
    cpu = {row["name"]: row["cpu_us"] for row in rows}
    loads = [load for row in rows for load in row["loads"]]
    lines = [
        "## Gateway: signed webhook -> JetStream ack -> 200",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: {command}",
        f"- {GATEWAY_REQUESTS} requests after 300 warm-up, {CONCURRENCY} connections, 1 uvicorn "
        "worker each with `--loop uvloop --http httptools --no-proxy-headers --no-access-log` "
        f"(as `wta gateway` runs); {GATEWAY_ROUNDS} rounds taking turns, the median round shown.",
        f"- 1-minute load average after each run: {min(loads):.1f} to {max(loads):.1f}",
        "",
        "| server | requests/s | p50 ms | p99 ms | server CPU µs/request | statuses "
        "| requests/s of each round |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} "
            f"| {row['cpu_us']:.0f} | {row['statuses']} | {', '.join(map(str, row['rounds']))} |"
        )
    return [
        *lines,
        "",
        f"Gateway / bare uvicorn throughput: **{rps['gateway'] / rps[BARE]:.0%}** (goal: >= 50%); "
        f"gateway / floor: {rps['gateway'] / rps[FLOOR]:.0%}; floor / bare uvicorn: "
        f"{rps[FLOOR] / rps[BARE]:.0%}. Server CPU per request, bare uvicorn / gateway: "
        f"{cpu[BARE] / cpu['gateway']:.0%} (the load generator and NATS share the cores, so this "
        "ratio is the one a busy machine disturbs least).",
        "",
        "The floor reads the body, publishes it to a JetStream stream with a `Nats-Msg-Id` the "
        "way the gateway publishes (`JetStreamAcks`: one shared reply subscription) and answers "
        "after the acknowledgement, nothing else: what any gateway that answers Twilio only once "
        "the message is safe must do. The gateway adds the checks of every webhook: "
        "form parsing and limits, tenant lookup, the tenant's signature on the public URL, the "
        "message model, metrics.",
        "",
    ]


def replace_gateway_section(report: str, section: list[str]) -> str:
    """The report with its gateway section (up to the next `## ` heading) replaced."""
    head, marker, rest = report.partition("## Gateway")
    if not marker:
        return report.rstrip("\n") + "\n\n" + "\n".join(section)
    _, heading, tail = rest.partition("\n## ")
    return head + "\n".join(section) + ("\n" + heading.lstrip("\n") + tail if heading else "")


def write_report(
    rows: list[dict[str, Any]], pipeline: dict[str, Any], operator: str = "", *, save: bool = True
) -> str:
    path = ROOT / "docs" / "benchmarks.md"
    sections = split_sections(path.read_text())
    profile = [p for p in sections if p.startswith(GATEWAY_PROFILE_HEADING + "\n")]
    lines = [
        "# Benchmarks",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- command: `make bench` (`python -m hack.bench`)",
        "- everything on one machine: load generator (aiohttp, separate process), servers, NATS "
        "and PostgreSQL share the same cores, so absolute numbers are lower bounds.",
        "",
        *gateway_section(rows, "`make bench` (`python -m hack.bench`)"),
        *(part.rstrip("\n") + "\n" for part in profile),
        "## Pipeline: webhook accepted -> Twilio send call",
        "",
        f"{pipeline['turns']} turns at {pipeline['offered_rate']:.0f} turns/s over "
        f"{CONVERSATIONS} conversations, offline (zero-latency) agent, 1 worker.",
        "",
        "| answered | replies | achieved turns/s | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {pipeline['answered']}/{pipeline['turns']} | {pipeline['replies']} "
        f"| {pipeline['achieved']:.0f} "
        f"| {pipeline['p50']:.0f} | {pipeline['p95']:.0f} | {pipeline['p99']:.0f} |",
        "",
        "A turn is one inbound message; it is answered when the reply that covers it is sent. "
        "Messages of a conversation that arrive while its previous turn runs are answered "
        "together by one reply, so replies can be fewer than turns.",
        "",
        "Goal for later tuning: p99 < 60 ms at 100 turns/s.",
        "",
    ]
    # The worker's section is written by hack.bench_worker (`make bench` runs it next): keep it.
    kept = [p for p in sections if p.startswith(WORKER_HEADING + "\n")]
    lines += [part.rstrip("\n") + "\n" for part in kept]
    if operator:
        lines += [operator]
    report = "\n".join(lines)
    if save:
        path.write_text(report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmarks, written to docs/benchmarks.md.")
    parser.add_argument("--only", choices=["gateway"], help="run one section of the report")
    only_gateway = parser.parse_args().only == "gateway"
    with tempfile.TemporaryDirectory(prefix="wta-bench-") as tmp:
        rows, pipeline = bench(Path(tmp), only_gateway=only_gateway)
    if only_gateway:
        section = gateway_section(rows, "`python -m hack.bench --only gateway`")
        path = ROOT / "docs" / "benchmarks.md"
        path.write_text(replace_gateway_section(path.read_text(), section))
        print("\n".join(section))
        return
    if os.environ.get("WTA_BENCH_SKIP_OPERATOR"):  # quick runs while tuning the data path
        print(write_report(rows, pipeline, save=False))
        return
    with tempfile.TemporaryDirectory(prefix="wta-bench-operator-") as tmp:
        operator = bench_operator.run(Path(tmp))
    command = "`make bench` (`python -m hack.bench`)"
    print(write_report(rows, pipeline, bench_operator.section(operator, command)))


if __name__ == "__main__":
    main()
