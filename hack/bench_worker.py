"""`python -m hack.bench_worker`: one worker process, black box, against distinct contacts.

Each contact sends one message, so nothing can be coalesced: every message is a turn of its
own. The platform runs as a user runs it (embedded NATS and PostgreSQL, `wta local-twilio`, the
gateway, `python -m wta_runtime worker`) with a real OpenAI-compatible model server on loopback
(hack/bench_model.py, fixed answer after a set delay). In the same run, the floor
(hack/bench_floor.py) does only the irreducible I/O of a turn against the same servers.
The section "## Worker: distinct contacts" of docs/benchmarks.md is replaced with the results.

`--before [COMMIT]` measures a committed worker (HEAD's runtime/ or COMMIT's, exported to a
temporary folder) and labels the results "before (commit <sha>)"; a later run without it keeps
that subsection.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from hack import bench_probes as probes
from hack.bench import pipeline_summary
from hack.bench_floor import APPLICATION_NAME as FLOOR_APPLICATION
from hack.bench_floor import FloorJob
from hack.bench_platform import ROLE, ROOT, BenchPlatform
from hack.bench_report import Measurement, Scenario, write_section
from hack.bench_turns import Turn, wait_for_turns
from wta_runtime.local.processes import ManagedProcess, free_port

WORKER_APPLICATION = "wta-worker"
STATEMENTS_COUNTER = "wta_db_statements_total"
SCALE = float(os.environ.get("WTA_BENCH_SCALE", "1"))  # < 1 for a quick look while tuning
CONCURRENCY = int(os.environ.get("WTA_BENCH_CONCURRENCY", "256"))
POOL_SIZE = int(os.environ.get("WTA_BENCH_POOL_SIZE", "10"))
DRAIN_SECONDS = float(os.environ.get("WTA_BENCH_DRAIN_SECONDS", "240"))
TOTAL_SECONDS = int(os.environ.get("WTA_BENCH_TIMEOUT", "2400"))
# While tuning: only these scenarios (e.g. "a"), and py-spy profiles of the worker in a folder.
ONLY = set(os.environ.get("WTA_BENCH_ONLY", "abcd"))
PROFILE_DIR = os.environ.get("WTA_BENCH_PROFILE")
SCENARIOS = (
    Scenario("a", "0 s model", model_delay=0.0, contacts=int(1500 * SCALE), rate=150.0),
    Scenario("b", "2 s model", model_delay=2.0, contacts=int(600 * SCALE), rate=50.0),
    # At 50/s a 2 s model keeps only ~100 turns waiting (Little's law); 300/s asks for 256.
    Scenario("c", "2 s model, in flight", model_delay=2.0, contacts=int(600 * SCALE), rate=300.0),
    # a is offered 150/s, so it cannot show more: d offers more than a worker can take.
    Scenario("d", "0 s model, capacity", model_delay=0.0, contacts=int(3000 * SCALE), rate=250.0),
)


def measure_worker(platform: BenchPlatform, scenario: Scenario) -> Measurement:
    """The real worker: achieved turns/s and latency from the database, peaks from outside."""
    database = f"wta_{scenario.name}"
    platform.database(database, migrate=True)
    probes.purge_stream(platform.nats_url, platform.tenant.name)
    probes.model_control(platform.model_url, "/bench/reset", delay=scenario.model_delay)
    metrics_port = free_port()
    worker = ManagedProcess(
        f"worker-{scenario.name}",
        [sys.executable, "-m", "wta_runtime", "worker"],
        port=metrics_port,
        env=platform.env(
            WTA_DATABASE_URL=platform.database_url(database),
            WTA_WORKER_CONCURRENCY=str(CONCURRENCY),
            WTA_DATABASE_POOL_SIZE=str(POOL_SIZE),
            WTA_OPENAI_API_KEY="sk-bench",
            WTA_OPENAI_BASE_URL=platform.model_url + "/v1",
            WTA_WORKER_METRICS_PORT=str(metrics_port),
        ),
        cwd=ROOT,
        log_path=platform.log(f"worker-{scenario.name}"),
    )
    try:
        worker.start(timeout=60)
        assert worker.process is not None
        probes.wait_pulling(platform.nats_url, platform.tenant.name)
        counter_before = probes.read_counter(metrics_port, STATEMENTS_COUNTER)
        probes.reset_statement_counts(platform.pg_port)
        cpu_before = probes.cpu_seconds(worker.process.pid)
        pg_before = probes.tree_cpu_seconds(platform.postgres_pid)
        with (
            probes.ConnectionPeaks(platform.pg_port, WORKER_APPLICATION, database) as peaks,
            probes.profiled(worker.process.pid, PROFILE_DIR, f"worker-{scenario.name}"),
        ):
            platform.offer(scenario, "555")
            turns = wait_for_turns(
                platform.database_url(database, user="postgres"),
                platform.tenant.name,
                scenario.contacts,
                timeout=DRAIN_SECONDS,
            )
        cpu = probes.cpu_seconds(worker.process.pid) - cpu_before
        pg_cpu = probes.tree_cpu_seconds(platform.postgres_pid) - pg_before
        counter_after = probes.read_counter(metrics_port, STATEMENTS_COUNTER)
        statements = probes.statement_counts(platform.pg_port, database, ROLE)
        if probes.STATEMENT_TIMES:
            print(
                *probes.statement_times(platform.pg_port, database, ROLE, scenario.contacts),
                sep="\n",
            )
    finally:
        worker.stop(timeout=15)
    summary = pipeline_summary(turns, scenario.contacts)
    counter = None
    if counter_before is not None and counter_after is not None:
        counter = counter_after - counter_before
    return Measurement(
        scenario=scenario,
        who="worker",
        summary=summary,
        model=probes.model_control(platform.model_url, "/bench/stats"),
        pg_peak=peaks.peak,
        statements=statements,
        counter_statements=counter,
        cpu_seconds=cpu,
        log=probes.log_problems(platform.log(f"worker-{scenario.name}")),
        pg_cpu_seconds=pg_cpu,
    )


def measure_floor(platform: BenchPlatform, scenario: Scenario) -> Measurement:
    """The floor against the same servers and load, bound to the worker's durable consumer."""
    database = f"floor_{scenario.name}"
    platform.database(database, migrate=False)
    probes.purge_stream(platform.nats_url, platform.tenant.name)
    probes.model_control(platform.model_url, "/bench/reset", delay=scenario.model_delay)
    job = FloorJob(
        nats_url=platform.nats_url,
        database_url=platform.database_url(database, driver=""),
        model_base_url=platform.model_url + "/v1",
        twilio_api_base=f"http://127.0.0.1:{platform.twilio_port}",
        tenant=platform.tenant.name,
        account_sid=platform.tenant.account_sid,
        auth_token=platform.tenant.auth_token.get_secret_value(),
        concurrency=CONCURRENCY,
        pool_size=POOL_SIZE,
        count=scenario.contacts,
        timeout=DRAIN_SECONDS + scenario.contacts / scenario.rate,
    )
    log = platform.log(f"floor-{scenario.name}")
    with log.open("wb") as stderr:
        floor = subprocess.Popen(
            [sys.executable, "-m", "hack.bench_floor"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=platform.env(),
            cwd=ROOT,
            text=True,
        )
        try:
            assert floor.stdin is not None
            assert floor.stdout is not None
            floor.stdin.write(json.dumps(asdict(job)))
            floor.stdin.close()
            if floor.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the floor did not start; see {log}")
            probes.reset_statement_counts(platform.pg_port)
            pg_before = probes.tree_cpu_seconds(platform.postgres_pid)
            with probes.ConnectionPeaks(platform.pg_port, FLOOR_APPLICATION, database) as peaks:
                platform.offer(scenario, "666")
                output = floor.stdout.readline()
                pg_cpu = probes.tree_cpu_seconds(platform.postgres_pid) - pg_before
                floor.wait(timeout=30)
            statements = probes.statement_counts(platform.pg_port, database, ROLE)
        finally:
            if floor.poll() is None:
                floor.kill()
                floor.wait()
    result: dict[str, Any] = json.loads(output)
    turns = [
        Turn(datetime.fromisoformat(received), datetime.fromisoformat(sent), sid)
        for sid, received, sent in result["answered"]
    ]
    errors = result["errors"]
    return Measurement(
        scenario=scenario,
        who="floor",
        summary=pipeline_summary(turns, scenario.contacts),
        model=probes.model_control(platform.model_url, "/bench/stats"),
        pg_peak=peaks.peak,
        statements=statements,
        counter_statements=None,
        cpu_seconds=result["cpu_seconds"],
        log=(0, len(errors), [(e, errors.count(e)) for e in sorted(set(errors))[:5]]),
        pg_cpu_seconds=pg_cpu,
    )


def runtime_source(tmp: Path, *, before: str | None) -> tuple[Path, str]:
    """The runtime/ folder the platform processes import, and how the results are labelled."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", before or "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if before:
        # That commit's runtime/ exactly, whatever is being changed in the working tree right now.
        archive = subprocess.run(
            ["git", "archive", sha, "runtime"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        return tmp / "runtime", f"before (commit {sha})"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "runtime"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return ROOT / "runtime", f"commit {sha}" + (
        " with uncommitted runtime/ changes" if dirty else ""
    )


def add_before_option(parser: argparse.ArgumentParser) -> None:
    """`--before [COMMIT]`: the `before` that `runtime_source` takes."""
    parser.add_argument(
        "--before",
        nargs="?",
        const="HEAD",
        metavar="COMMIT",
        help="measure a commit's runtime (HEAD's when none is named)",
    )


def _out_of_time(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError(f"the worker benchmark took more than {TOTAL_SECONDS} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_before_option(parser)
    parser.add_argument("--no-write", action="store_true", help="print, leave docs/ alone")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(TOTAL_SECONDS)
    load_at_start = os.getloadavg()[0]
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="wta-bench-worker-") as tmp:
        source, label = runtime_source(Path(tmp), before=args.before)
        platform = BenchPlatform(Path(tmp), source)
        try:
            platform.start()
            for scenario in (s for s in SCENARIOS if s.name in ONLY):
                for measure in (measure_worker, measure_floor):
                    print(f"{measure.__name__} {scenario.name}: {scenario.title}", flush=True)
                    measurements.append(measure(platform, scenario))
                    print("  " + measurements[-1].one_line(), flush=True)
                    if measure is measure_worker:
                        print("\n".join("    " + q for q in measurements[-1].top_statements()))
        finally:
            platform.stop()
            signal.alarm(0)
            logs = ROOT / ".wta" / "bench-worker-logs"
            logs.mkdir(parents=True, exist_ok=True)
            for path in (Path(tmp) / "logs").glob("*.log"):
                (logs / path.name).write_bytes(path.read_bytes())
    command = "python -m hack.bench_worker" + (f" --before {args.before}" if args.before else "")
    shown = (
        f"{args.before}'s runtime/ (git archive)" if args.before else "the working tree's runtime/"
    )
    settings = {
        "concurrency": CONCURRENCY,
        "pool_size": POOL_SIZE,
        "source": shown,
        # Other work on the machine slows every process measured here: say how busy it was.
        "load": f"{load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
    }
    print(write_section(measurements, label, command, settings, save=not args.no_write))
    print(f"process logs: {logs} (run at {datetime.now(UTC):%H:%M} UTC)")


if __name__ == "__main__":
    main()
