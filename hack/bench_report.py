"""The worker benchmark's results: one measured run, the goals, and its docs/benchmarks.md section.

The section "## Worker: distinct contacts" is replaced and every other section kept. A run
labelled "before (...)" replaces the whole section; any other run keeps the "before" subsection
below its own, so the numbers before and after a change stay side by side.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hack.machine import machine

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADING = "## Worker: distinct contacts"
BEFORE = "### before ("
# Transaction control is a round trip too, but the hot-path goal counts the work in between.
# Statements of the process, not of any one turn: the renewal of every lease in flight, and
# what a new connection asks once (session settings, asyncpg's type introspection).
_SHARED = (
    "UPDATE THREAD_LEASES SET EXPIRES_AT",
    "WITH RECURSIVE TYPEINFO_TREE",
    "SELECT SET_CONFIG",
    "SELECT CURRENT_SETTING",
    "SELECT CURRENT_SCHEMA()",
    "SELECT PG_CATALOG.VERSION()",
    "SHOW ",
)
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass(frozen=True)
class Scenario:
    """One offered load: distinct contacts, one message each, at a fixed rate."""

    name: str
    title: str
    model_delay: float
    contacts: int
    rate: float

    def describe(self) -> str:
        return (
            f"{self.name}: model answers in {self.model_delay:g} s, {self.contacts} contacts "
            f"offered at {self.rate:g}/s"
        )


@dataclass(frozen=True)
class Measurement:
    """What one process (the worker or the floor) did with one scenario's load."""

    scenario: Scenario
    who: str
    summary: dict[str, Any]  # hack.bench.pipeline_summary
    model: dict[str, Any]  # hack.bench_model stats
    pg_peak: tuple[int, str]  # peak connections, what was counted
    statements: Counter[str]  # pg_stat_statements calls per normalised statement
    counter_statements: float | None  # wta_db_statements_total delta, None when absent
    cpu_seconds: float
    log: tuple[int, int, list[tuple[str, int]]]  # warnings, errors, most frequent
    pg_cpu_seconds: float | None = None  # PostgreSQL's (server and backends) during the load

    @property
    def answered(self) -> int:
        return int(self.summary["answered"])

    def per_turn(self, value: float) -> float:
        return value / self.answered if self.answered else math.nan

    @property
    def statements_per_turn(self) -> float:
        return self.per_turn(sum(self.statements.values()))

    @property
    def work_statements_per_turn(self) -> float:
        """Without BEGIN/COMMIT/ROLLBACK/SAVEPOINT."""
        work = sum(n for q, n in self.statements.items() if not q.upper().startswith(_CONTROL))
        return self.per_turn(work)

    @property
    def turn_statements_per_turn(self) -> float:
        """Without transaction control, nor the statements of the process (`_SHARED`)."""
        own = sum(
            n
            for q, n in self.statements.items()
            if not q.upper().startswith(_CONTROL) and not q.upper().startswith(_SHARED)
        )
        return self.per_turn(own)

    def row(self, floor: Measurement | None) -> str:
        s = self.summary
        counter = (
            "n/a"
            if self.counter_statements is None
            else f"{self.per_turn(self.counter_statements):.1f}"
        )
        ratio = f"{s['achieved'] / floor.summary['achieved']:.0%}" if floor else ""
        return (
            f"| {self.scenario.name} | {self.who} | {self.answered}/{s['turns']} "
            f"| {s['achieved']:.1f} | {s['sustained']:.1f} | {ratio} "
            f"| {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} "
            f"| {self.model.get('peak_in_flight', 0)} | {self.pg_peak[0]} "
            f"| {self.statements_per_turn:.1f} ({self.work_statements_per_turn:.1f}) | {counter} "
            f"| {self.per_turn(self.cpu_seconds * 1000):.1f} | {self._pg_cpu()} |"
        )

    def _pg_cpu(self) -> str:
        if self.pg_cpu_seconds is None:
            return "n/a"
        return f"{self.per_turn(self.pg_cpu_seconds * 1000):.1f}"

    def top_statements(self, count: int = 12) -> list[str]:
        """The most frequent statements, with how often each ran per answered turn."""
        return [
            f"{self.per_turn(n):5.1f}/turn  {query[:150]}"
            for query, n in self.statements.most_common(count)
        ]

    def one_line(self) -> str:
        s = self.summary
        return (
            f"{self.who}: {self.answered}/{s['turns']} answered, {s['achieved']:.1f} turns/s, "
            f"p50/p95/p99 {s['p50']:.0f}/{s['p95']:.0f}/{s['p99']:.0f} ms, model peak "
            f"{self.model.get('peak_in_flight')}, PG peak {self.pg_peak[0]} ({self.pg_peak[1]}), "
            f"{self.statements_per_turn:.1f} statements/turn, "
            f"{self.per_turn(self.cpu_seconds * 1000):.1f} CPU ms/turn, "
            f"PostgreSQL {self._pg_cpu()} CPU ms/turn, "
            f"log: {self.log[0]} warnings, {self.log[1]} errors"
        )


def _find(measurements: list[Measurement], scenario: str, who: str) -> Measurement | None:
    return next((m for m in measurements if m.scenario.name == scenario and m.who == who), None)


def goals(measurements: list[Measurement]) -> list[tuple[str, str, bool]]:
    """(goal, measured, met) for every goal the measurements can answer."""
    rows: list[tuple[str, str, bool]] = []
    a, a_floor = _find(measurements, "a", "worker"), _find(measurements, "a", "floor")
    d = _find(measurements, "d", "worker")
    if d:
        most = d.summary["sustained"]
        rows.append(
            (
                "d: >= 150 turns/s per worker process (sustained, 250/s offered)",
                f"{most:.1f}",
                most >= 150,
            )
        )
    if a:
        achieved = a.summary["achieved"]
        if a_floor:
            ratio = achieved / a_floor.summary["achieved"]
            rows.append(("a: >= 50% of the floor", f"{ratio:.0%}", ratio >= 0.5))
        per_turn = a.turn_statements_per_turn
        rows.append(
            (
                "a: <= 10 statements per turn (no BEGIN/COMMIT, lease renewal, connection setup)",
                f"{per_turn:.2f}",
                per_turn <= 10,
            )
        )
    b = _find(measurements, "b", "worker")
    if b:
        achieved, p99 = b.summary["sustained"], b.summary["p99"]
        rows.append(("b: >= 48 turns/s achieved (sustained)", f"{achieved:.1f}", achieved >= 48))
        rows.append(("b: p99 < 4 s", f"{p99 / 1000:.1f} s", p99 < 4000))
    workers = [m for m in measurements if m.who == "worker"]
    if workers:
        in_flight = max(int(m.model.get("peak_in_flight", 0)) for m in workers)
        connections = max(m.pg_peak[0] for m in workers)
        rows.append(
            (
                ">= 200 turns in flight with <= 12 PostgreSQL connections (peaks over a-c)",
                f"{in_flight} model calls in flight, {connections} connections",
                in_flight >= 200 and connections <= 12,
            )
        )
    return rows


def subsection(
    measurements: list[Measurement], label: str, command: str, settings: dict[str, Any]
) -> str:
    """The run's results, its goals and what the worker logged."""
    lines = [
        f"### {label}",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        f"- WTA_WORKER_CONCURRENCY={settings['concurrency']}, "
        f"WTA_DATABASE_POOL_SIZE={settings['pool_size']}, runtime: {settings['source']}",
        f"- machine load (1-minute load average, {os.cpu_count()} cores): {settings['load']}",
        "",
        "| scenario | process | answered | turns/s | sustained turns/s | worker / floor "
        "| p50 ms | p95 ms | p99 ms "
        "| model calls in flight (peak) | PG connections (peak) "
        "| statements/turn (without BEGIN/COMMIT) | wta_db_statements_total/turn | CPU ms/turn "
        "| PostgreSQL CPU ms/turn |",
        "| --- " * 15 + "|",
    ]
    for m in measurements:
        floor = _find(measurements, m.scenario.name, "floor") if m.who == "worker" else None
        lines.append(m.row(floor))
    counted = sorted({f"{m.who}: {m.pg_peak[1].split(' of database')[0]}" for m in measurements})
    lines += ["", f"PG connections counted by {'; '.join(counted)}.", ""]
    lines += ["| goal | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {g} | {v} | {'yes' if ok else '**no**'} |" for g, v, ok in goals(measurements)]
    lines.append("")
    for m in measurements:
        warnings, errors, top = m.log
        if warnings or errors:
            shown = "; ".join(f"{n}x `{text}`" for text, n in top[:3])
            lines.append(
                f"- {m.scenario.name} {m.who} log: {warnings} warnings, {errors} errors; "
                f"most frequent: {shown}"
            )
    return "\n".join(lines).rstrip() + "\n"


def section(body: str, scenarios: list[Scenario]) -> str:
    """The section's fixed description followed by the runs' subsections."""
    described = "\n".join(f"  - {s.describe()}" for s in scenarios)
    return f"""{HEADING}

One worker process measured from outside, as a new user would run it: embedded NATS and
PostgreSQL (pg_stat_statements preloaded), `wta local-twilio`, the gateway, and
`python -m wta_runtime worker` with `WTA_OPENAI_API_KEY=sk-bench` and `WTA_OPENAI_BASE_URL`
pointing at an OpenAI-compatible model on loopback (hack/bench_model.py: a fixed answer after the
scenario's delay, counting the calls in flight). Each contact sends one message, so nothing can
be coalesced. The tenant's rate limit is above the offered load and its burst window 0s. Load
from hack/load.py (open loop); everything shares the same cores.

- scenarios (at 50/s a 2 s model keeps only ~100 turns waiting, so c offers more, to see how
  many turns a worker holds at once):
{described}
- floor: hack/bench_floor.py on the same servers and load, bound to the worker's durable consumer,
  doing only a turn's irreducible I/O: fetch, one INSERT (asyncpg pool of the same size), one chat
  completion (openai SDK), one Twilio send (twilio SDK), ack; as many at once as the worker.
- latency: gateway acceptance (`received_at`) to the reply's Twilio send (`sent_at`; the floor's
  own clock); turns/s: answered turns / (first acceptance to last send); sustained turns/s:
  replies per second from the first send to the last (the first reply's latency left out).
- PG connections: peak of `pg_stat_activity` polled every 0.2 s, by `application_name`
  (`wta-worker`, `wta-floor`), else every client connection of the run's own database.
- statements/turn: `pg_stat_statements` calls of the run's role and database during the load
  (BEGIN/COMMIT included; without them in parentheses) and the worker's own
  `wta_db_statements_total` counter when it has one. CPU: the process's user + system time
  during the load per answered turn; PostgreSQL CPU: the same of the server and all its
  backends (what the statements cost on the shared cores).
- while tuning: `WTA_BENCH_ONLY=a` runs one scenario, `WTA_BENCH_SCALE=0.5` fewer contacts, and
  `WTA_BENCH_PROFILE=folder` records py-spy profiles of the worker (collapsed stacks; py-spy from
  PyPI); `python -m hack.bench --only gateway` takes the same variable for the gateway;
  `WTA_BENCH_STATEMENT_TIMES=1` prints each statement's plans, planning/running ms and shared
  buffers touched a turn.

{body}"""


def split_sections(document: str) -> list[str]:
    """The document cut before every `## ` heading (the first part is what precedes them)."""
    parts = [""]
    for line in document.splitlines(keepends=True):
        if line.startswith("## "):
            parts.append("")
        parts[-1] += line
    return parts


def replace_section(doc: Path, heading: str, new: str) -> None:
    """Replace the section under `heading` in `doc`, or append it when there is none."""
    parts = [p for p in split_sections(doc.read_text()) if not p.startswith(heading + "\n")]
    parts[-1] = parts[-1].rstrip("\n") + "\n\n"
    doc.write_text("".join(parts) + new.rstrip("\n") + "\n")


def kept_before(old: str) -> str:
    """The "before" subsection of an earlier version of the section, or nothing."""
    start = old.find(f"\n{BEFORE}")
    if start < 0:
        return ""
    end = old.find("\n### ", start + 1)
    return old[start + 1 : end + 1 if end >= 0 else len(old)].rstrip() + "\n"


def write_section(
    measurements: list[Measurement],
    label: str,
    command: str,
    settings: dict[str, Any],
    *,
    save: bool = True,
) -> str:
    """Replace the section in docs/benchmarks.md (keeping a "before" run); return the section."""
    parts = split_sections(DOC.read_text() if DOC.exists() else "# Benchmarks\n")
    at = next((i for i, p in enumerate(parts) if p.startswith(HEADING + "\n")), None)
    old = parts.pop(at) if at is not None else ""
    body = subsection(measurements, label, command, settings)
    if not label.startswith(BEFORE.removeprefix("### ")) and kept_before(old):
        body += "\n" + kept_before(old)
    scenarios = list({m.scenario.name: m.scenario for m in measurements}.values())
    new = section(body, scenarios).rstrip("\n") + "\n\n"
    if at is None:  # first time: after the pipeline, before the operator
        operator = [i for i, p in enumerate(parts) if p.startswith("## Operator")]
        at = operator[0] if operator else len(parts)
        parts[at - 1] = parts[at - 1].rstrip("\n") + "\n\n"
    parts.insert(at, new)
    if save:
        DOC.write_text("".join(parts).rstrip("\n") + "\n")
    return new
