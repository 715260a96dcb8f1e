"""`python -m hack.kill_duplicates [--before]`: lost and duplicate replies under worker SIGKILLs.

One message from each of `--contacts` new contacts at `--rate` per second, while the only worker
is SIGKILLed every `--kill-every` seconds and started again; then one worker drains what is
left. Every reply is counted at the local Twilio server (`wta local-twilio`): a contact with no
reply is lost, each reply beyond the first a duplicate; `adopted` counts the parts found at
Twilio instead of being sent again (the window hit and closed). Loopback only, bounded by
`--timeout`.

`--before REF` runs that commit's runtime/ (git archive, like hack/bench_worker.py `--before`),
so the same scenario measures the code before and after a change to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform as host
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

import asyncpg
import httpx

from hack import bench_probes as probes
from hack.bench_platform import ROOT, BenchPlatform
from hack.bench_report import Scenario
from wta_runtime.local.processes import ManagedProcess, free_port

# Short enough that a killed worker's messages come back within the run (defaults: 30 s each).
WORKER_SETTINGS = {"WTA_STREAM_ACK_WAIT_SECONDS": "5", "WTA_THREAD_LEASE_SECONDS": "5"}


def runtime_source(tmp: Path, before: str | None) -> tuple[Path, str]:
    """The runtime/ the processes import: the working tree's, or commit `before`'s exactly."""
    if before is None:
        return ROOT / "runtime", "the working tree"
    sha = subprocess.run(
        ["git", "rev-parse", "--short", before],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", sha, "runtime"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return tmp / "runtime", f"commit {sha}"


def start_worker(platform: BenchPlatform, number: int) -> ManagedProcess:
    port = free_port()
    worker = ManagedProcess(
        f"worker-{number}",
        [sys.executable, "-m", "wta_runtime", "worker"],
        port=port,
        env=platform.env(
            WTA_OPENAI_API_KEY="sk-bench",
            WTA_OPENAI_BASE_URL=platform.model_url + "/v1",
            WTA_WORKER_METRICS_PORT=str(port),
            **WORKER_SETTINGS,
        ),
        cwd=ROOT,
        log_path=platform.log(f"worker-{number}"),
    )
    worker.start(timeout=60)
    return worker


def replies_by_contact(platform: BenchPlatform) -> Counter[str]:
    """How many messages the local Twilio recorded to each contact (every page of the list)."""
    tenant = platform.tenant
    auth = (tenant.account_sid, tenant.auth_token.get_secret_value())
    base = f"http://127.0.0.1:{platform.twilio_port}"
    uri: str | None = f"/2010-04-01/Accounts/{tenant.account_sid}/Messages.json?PageSize=1000"
    counts: Counter[str] = Counter()
    with httpx.Client(base_url=base, auth=auth, timeout=30) as client:
        while uri:
            page = client.get(uri).json()
            counts.update(m["to"].removeprefix("whatsapp:") for m in page["messages"])
            uri = page.get("next_page_uri")
    return counts


async def _adopted(pg_port: int) -> int:
    connection = await asyncpg.connect(probes.superuser_dsn(pg_port, "wta"))
    try:
        # details.adopted is set only where the change is: 0 for the code before it.
        count = await connection.fetchval("SELECT count(*) FROM messages WHERE details ? 'adopted'")
    finally:
        await connection.close()
    return int(count)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    source, label = runtime_source(tmp, args.before)
    platform = BenchPlatform(tmp, source)
    scenario = Scenario("k", "kills", model_delay=args.model_delay, contacts=args.contacts,
                        rate=args.rate)  # fmt: skip
    prefix = "556" if args.before else "557"
    contacts = [f"+1{prefix}{n:07d}" for n in range(args.contacts)]
    kills = 0
    worker: ManagedProcess | None = None
    try:
        platform.start()
        probes.model_control(platform.model_url, "/bench/reset", delay=args.model_delay)
        worker = start_worker(platform, 0)
        probes.wait_pulling(platform.nats_url, platform.tenant.name)
        load = threading.Thread(target=platform.offer, args=(scenario, prefix), daemon=True)
        load.start()
        # Keep killing a little past the load, so the last messages meet a kill too.
        stop_killing = time.monotonic() + args.contacts / args.rate + args.kill_every
        while time.monotonic() < stop_killing:
            time.sleep(args.kill_every)
            assert worker.process is not None
            worker.process.send_signal(signal.SIGKILL)
            worker.process.wait()
            kills += 1
            worker = start_worker(platform, kills)
        load.join()
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline:
            counts = replies_by_contact(platform)
            if all(counts[c] for c in contacts):
                break
            time.sleep(2)
        time.sleep(15)  # past the ack wait and the lease: a late redelivery would have sent
        counts = replies_by_contact(platform)
        adopted = asyncio.run(_adopted(platform.pg_port))
    finally:
        if worker is not None:
            worker.stop(timeout=15)
        platform.stop()
    # Each lookup of an attempted part logs its outcome (the code before the change logs none).
    logs = "".join(p.read_text() for p in (tmp / "logs").glob("worker-*.log"))
    return {
        "label": label,
        "kills": kills,
        "messages": len(contacts),
        "lost": sum(1 for c in contacts if counts[c] == 0),
        "duplicates": sum(counts[c] - 1 for c in contacts if counts[c] > 1),
        "adopted": adopted,
        "resent": logs.count("not there, sending it again"),
    }


def _out_of_time(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the kill scenario took longer than --timeout")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", metavar="REF", help="run this commit's runtime/ instead")
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second")
    parser.add_argument("--kill-every", type=float, default=2.0, help="seconds between SIGKILLs")
    parser.add_argument("--model-delay", type=float, default=0.3, help="seconds per model call")
    parser.add_argument("--drain", type=float, default=180.0, help="seconds to wait for replies")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(args.timeout)
    with tempfile.TemporaryDirectory(prefix="wta-kill-duplicates-") as tmp:
        result = run(args, Path(tmp))
    signal.alarm(0)
    result["machine"] = f"{host.machine()}, {os.cpu_count()} CPUs, {host.platform()}"
    print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main()
