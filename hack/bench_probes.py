"""What the worker benchmark reads from outside the process it measures.

PostgreSQL's own views (client connections, pg_stat_statements), the process's CPU time from
/proc, a Prometheus counter from its metrics port, the benchmark model's counts, and whether
anyone is pulling the tenant's JetStream consumer. Nothing here imports worker code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg
import httpx
import nats
from nats.js.errors import NotFoundError
from prometheus_client.parser import text_string_to_metric_families

from wta_runtime.stream.names import TenantStream

POLLER = "wta-bench-poller"
PG_STAT_STATEMENTS = ("-c", "shared_preload_libraries=pg_stat_statements")
# WTA_BENCH_STATEMENT_TIMES=1: planning is timed too (it costs PostgreSQL a little CPU itself).
STATEMENT_TIMES = os.environ.get("WTA_BENCH_STATEMENT_TIMES") == "1"
PG_TRACK_PLANNING = ("-c", "pg_stat_statements.track_planning=on") if STATEMENT_TIMES else ()
# The last line of a traceback: "asyncpg.exceptions.TooManyConnectionsError: sorry, ...".
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\w*(: |$)")
_CONNECTIONS = """
SELECT count(*) FILTER (WHERE application_name = $1),
       count(*) FILTER (WHERE backend_type = 'client backend' AND datname = $2
                        AND usename <> 'postgres' AND pid <> pg_backend_pid())
FROM pg_stat_activity
"""
_STATEMENTS = """
SELECT s.query, s.calls FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
WHERE d.datname = $1 AND r.rolname = $2
"""


_TIMES = """
SELECT s.calls, s.plans, s.total_plan_time, s.total_exec_time,
       s.shared_blks_hit + s.shared_blks_read AS blocks, s.query
FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
WHERE d.datname = $1 AND r.rolname = $2 ORDER BY s.total_plan_time + s.total_exec_time DESC
"""


def superuser_dsn(pg_port: int, database: str = "postgres") -> str:
    return f"postgresql://postgres@127.0.0.1:{pg_port}/{database}"


class ConnectionPeaks:
    """Peak client connections of one application (or else of one database), every 0.2 s."""

    def __init__(self, pg_port: int, application: str, database: str) -> None:
        self._dsn = superuser_dsn(pg_port)
        self._application = application
        self._database = database
        self._stop = threading.Event()
        self._polled = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._poll()), daemon=True)
        self.named = 0
        self.database_clients = 0

    def __enter__(self) -> ConnectionPeaks:
        self._thread.start()
        self._polled.wait(10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)

    async def _poll(self) -> None:
        connection = await asyncpg.connect(self._dsn, server_settings={"application_name": POLLER})
        try:
            while not self._stop.is_set():
                named, clients = await connection.fetchrow(
                    _CONNECTIONS, self._application, self._database
                )
                self.named = max(self.named, named)
                self.database_clients = max(self.database_clients, clients)
                self._polled.set()
                await asyncio.sleep(0.2)
        finally:
            await connection.close()

    @property
    def peak(self) -> tuple[int, str]:
        """The peak and what was counted: the application's name, or all clients of its database."""
        if self.named:
            return self.named, f"application_name={self._application}"
        return self.database_clients, f"all clients of database {self._database}"


async def _superuser(pg_port: int, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(
        superuser_dsn(pg_port), server_settings={"application_name": POLLER}
    )
    try:
        rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
    finally:
        await connection.close()
    return rows


def enable_statement_counts(pg_port: int) -> None:
    """pg_stat_statements (the server must preload it: start it with PG_STAT_STATEMENTS)."""
    asyncio.run(_superuser(pg_port, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))


def reset_statement_counts(pg_port: int) -> None:
    asyncio.run(_superuser(pg_port, "SELECT pg_stat_statements_reset()"))


def statement_counts(pg_port: int, database: str, role: str) -> Counter[str]:
    """Calls of each normalised statement run by `role` in `database` since the last reset."""
    rows = asyncio.run(_superuser(pg_port, _STATEMENTS, database, role))
    return Counter({" ".join(row["query"].split()): row["calls"] for row in rows})


def statement_times(pg_port: int, database: str, role: str, turns: int, top: int = 8) -> list[str]:
    """The statements PostgreSQL spent most time on: planned how often, ms a turn each, and
    the shared buffers they touched a turn (pages read: unlike time, the machine's load does not
    change them)."""
    rows = asyncio.run(_superuser(pg_port, _TIMES, database, role))
    return [
        f"{row['calls'] / turns:4.1f} calls/turn, {row['plans'] / turns:4.1f} plans/turn, "
        f"plan {row['total_plan_time'] / turns:.3f} + run {row['total_exec_time'] / turns:.3f} "
        f"ms/turn, {row['blocks'] / turns:5.1f} buffers/turn  "
        f"{' '.join(row['query'].split())[:100]}"
        for row in rows[:top]
    ]


@contextlib.contextmanager
def profiled(pid: int, folder: str | None, name: str) -> Iterator[None]:
    """py-spy samples `pid` while the block runs; collapsed stacks go to `folder`/`name`.txt."""
    if folder is None:
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise RuntimeError(f"profiling needs py-spy: {sys.executable} -m pip install py-spy")
    output = Path(folder) / f"{name}.txt"
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250"]
    recorder = subprocess.Popen([*command, "--output", str(output)], stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used (from /proc, Linux)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server and its children (PostgreSQL's backends): the live children's own,
    and what its ended children used (counted in the parent's cutime/cstime once reaped)."""
    fields = _stat(pid)
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            stat = _stat(int(child.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat[1]) == pid:
            ticks += sum(int(stat[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def read_counter(metrics_port: int, name: str) -> float | None:
    """A counter's value (summed over labels) from a Prometheus endpoint; None when absent."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        exposition = response.read().decode()
    values = [
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]
    return sum(values) if values else None


def model_control(model_url: str, path: str, **params: float) -> dict[str, Any]:
    """Reset (`/bench/reset`) or read (`/bench/stats`) the benchmark model's counts."""
    if path.endswith("reset"):
        response = httpx.post(model_url + path, params=params, timeout=5)
    else:
        response = httpx.get(model_url + path, timeout=5)
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


async def _purge(nats_url: str, tenant: str) -> None:
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().purge_stream(TenantStream(tenant).stream)
    except NotFoundError:
        pass
    finally:
        await connection.close()


def purge_stream(nats_url: str, tenant: str) -> None:
    """Drop what an earlier run left in the tenant's stream."""
    asyncio.run(_purge(nats_url, tenant))


async def _wait_pulling(nats_url: str, tenant: str, timeout: float) -> None:
    names = TenantStream(tenant)
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    info = await js.consumer_info(names.stream, names.worker_durable)
                except NotFoundError:
                    info = None
                if info is not None and (info.num_waiting or 0) > 0:
                    return
                await asyncio.sleep(0.1)
    finally:
        await connection.close()


def wait_pulling(nats_url: str, tenant: str, *, timeout: float = 60.0) -> None:
    """Wait until someone has a pull request waiting on the tenant's worker consumer."""
    asyncio.run(_wait_pulling(nats_url, tenant, timeout))


def log_problems(path: Path, *, top: int = 5) -> tuple[int, int, list[tuple[str, int]]]:
    """Warnings, errors and exceptions in a process log, and the most frequent of them."""
    if not path.exists():
        return 0, 0, []
    warnings = errors = 0
    shapes: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        if " WARNING " in line:
            warnings += 1
        elif " ERROR " in line or " CRITICAL " in line:
            errors += 1
        elif not _EXCEPTION.match(line):
            continue  # info lines and traceback frames
        shapes[_shape(line)] += 1
    return warnings, errors, shapes.most_common(top)


def _shape(line: str) -> str:
    """A log line without its timestamp and ids, so repeats of one problem count together."""
    words = [w for w in line.split() if not any(c.isdigit() for c in w)]
    return " ".join(words)[:160]
