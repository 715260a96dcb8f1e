"""`python -m hack.bench_idle`: the memory of one tenant's runtime pod, idle after a conversation.

The platform runs as in hack/bench_worker.py (embedded NATS and PostgreSQL, `wta local-twilio`,
the benchmark model, the gateway). Then, for each agent mode, the processes of one tenant's pod
start as the pod starts them (`python -m wta_runtime worker` for one tenant, and with
`--sidecar` the scheduler beside it, as pods did before the scheduler moved into the worker),
one conversation passes through, the pod idles, and each process's memory is read from /proc:
RSS (VmRSS), PSS and USS (private pages) from /proc/PID/smaps_rollup.

The section "## Idle memory per tenant" of docs/benchmarks.md is replaced with the results;
a run labelled "before (...)" (`--before [COMMIT]`: that commit's runtime/, HEAD's without one)
is kept below later runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hack import bench_probes as probes
from hack.bench_platform import ROOT, BenchPlatform
from hack.bench_report import BEFORE, DOC, kept_before, split_sections
from hack.bench_report import Scenario as Load
from hack.bench_turns import wait_for_turns
from hack.bench_worker import add_before_option, runtime_source
from hack.machine import machine
from wta_runtime.local.processes import ManagedProcess, free_port

HEADING = "## Idle memory per tenant"
IDLE_SECONDS = float(os.environ.get("WTA_BENCH_IDLE_SECONDS", "30"))
GOAL_MIB = 100.0
ONE_MESSAGE = Load("idle", "one conversation", model_delay=0.0, contacts=1, rate=1.0)


@dataclass(frozen=True)
class Memory:
    """One process's memory, in MiB."""

    process: str
    rss: float
    pss: float | None
    uss: float | None


@dataclass(frozen=True)
class PodRun:
    """One agent mode: the pod's processes and their memory after the idle time."""

    mode: str
    processes: list[Memory]

    def total(self, field: str) -> float | None:
        values = [getattr(m, field) for m in self.processes]
        return None if None in values else sum(values)


def read_memory(name: str, pid: int) -> Memory:
    """VmRSS from /proc/PID/status; PSS and USS from smaps_rollup where the kernel has it."""
    kib: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            kib["Rss"] = int(line.split()[1])
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, rest = line.partition(":")
            kib[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    uss = kib.get("Private_Clean", 0) + kib.get("Private_Dirty", 0) if "Pss" in kib else None
    return Memory(
        name,
        kib["Rss"] / 1024,
        kib["Pss"] / 1024 if "Pss" in kib else None,
        uss / 1024 if uss is not None else None,
    )


def pod_processes(
    platform: BenchPlatform, mode: str, database: str, *, sidecar: bool, extra: dict[str, str]
) -> list[ManagedProcess]:
    """The pod's processes for one tenant, as the operator's Deployment runs them."""
    env = {
        "WTA_DATABASE_URL": platform.database_url(database),
        "WTA_TENANTS": f'["{platform.tenant.name}"]',
        **extra,
    }
    if mode == "model":
        env |= {"WTA_OPENAI_API_KEY": "sk-bench", "WTA_OPENAI_BASE_URL": platform.model_url + "/v1"}
    roles = ["worker", "scheduler"] if sidecar else ["worker"]
    processes = []
    for role in roles:
        port = free_port()
        ports = {"WTA_WORKER_METRICS_PORT" if role == "worker" else "WTA_SCHEDULER_METRICS_PORT"}
        processes.append(
            ManagedProcess(
                f"{role}-{mode}",
                [sys.executable, "-m", "wta_runtime", role],
                port=port,
                env=platform.env(**env, **dict.fromkeys(ports, str(port))),
                cwd=ROOT,
                log_path=platform.log(f"{role}-{mode}"),
            )
        )
    return processes


def measure(platform: BenchPlatform, mode: str, *, sidecar: bool, extra: dict[str, str]) -> PodRun:
    database = f"wta_idle_{mode}"
    platform.database(database, migrate=True)
    probes.purge_stream(platform.nats_url, platform.tenant.name)
    processes = pod_processes(platform, mode, database, sidecar=sidecar, extra=extra)
    try:
        for process in processes:
            process.start(timeout=60)
        probes.wait_pulling(platform.nats_url, platform.tenant.name)
        platform.offer(ONE_MESSAGE, "777" if mode == "model" else "888")
        turns = wait_for_turns(
            platform.database_url(database, user="postgres"), platform.tenant.name, 1, timeout=120
        )
        if not any(t.replied for t in turns):
            raise RuntimeError(f"no reply in mode {mode}; see {platform.tmp / 'logs'}")
        time.sleep(IDLE_SECONDS)
        memory = []
        for process in processes:
            assert process.process is not None
            memory.append(read_memory(process.name.rsplit("-", 1)[0], process.process.pid))
    finally:
        for process in reversed(processes):
            process.stop(timeout=15)
    return PodRun(mode, memory)


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def subsection(runs: list[PodRun], label: str, command: str) -> str:
    lines = [
        f"### {label}",
        "",
        f"`{command}` on {machine()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores shared with other work. MiB after {IDLE_SECONDS:g} s idle.",
        "",
        "| agent | process | RSS | PSS | USS |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for run in runs:
        for m in run.processes:
            lines.append(
                f"| {run.mode} | {m.process} | {_mib(m.rss)} | {_mib(m.pss)} | {_mib(m.uss)} |"
            )
        lines.append(
            f"| {run.mode} | **per tenant** | **{_mib(run.total('rss'))}** | "
            f"**{_mib(run.total('pss'))}** | **{_mib(run.total('uss'))}** |"
        )
    verdicts = ", ".join(
        f"{run.mode} {'met' if (run.total('rss') or 0.0) < GOAL_MIB else 'not met'} "
        f"({run.total('rss') or 0.0:.0f} MiB)"
        for run in runs
    )
    load = os.getloadavg()[0]
    lines += [
        "",
        f"Machine load when written (1-minute load average, {os.cpu_count()} cores): {load:.1f}.",
        "",
        f"Goal: idle RSS per tenant under {GOAL_MIB:g} MiB: {verdicts}.",
    ]
    return "\n".join(lines) + "\n"


INTRO = f"""{HEADING}

`python -m hack.bench_idle` (part of `make bench`) starts one tenant's runtime pod as the
operator's Deployment runs it, on the benchmark platform of "Worker: distinct contacts", passes
one conversation through and reads each process's memory from /proc after the pod idled.
"agent: model" answers with the OpenAI SDK against the benchmark model; "agent: offline" has no
key and answers with the offline agent. RSS counts shared libraries in full; PSS shares them
out among the processes that map them; USS is what the process alone holds.
`--sidecar` runs the scheduler as its own process, as pods did before it moved into the worker;
`--env NAME=VALUE` sets a variable for the pod's processes; `--before [COMMIT]` measures that
commit's runtime/ (HEAD's when none is named).

Where a worker's memory goes (RSS each import adds, in that order, in one interpreter):
Python with asyncio and ssl ~20 MiB, pydantic and pydantic-settings ~18, SQLAlchemy with its
ORM ~18, httpx ~2, nats-py with aiohttp ~8, the table models ~8, the Twilio SDK with requests
~5, the OpenAI SDK ~6 (with httpx2; imported with the first model client, only once a model is
called). `openai/__init__` and the `__init__`s of its type packages (`openai.types`,
`openai.types.chat`...) import every one of its ~500 type modules, ~10 MiB whatever the call
needs; the worker's entry defers them (`wta_runtime/openai_deferred_types.py`): a type's module
is imported when the type is first used, 55 of them with the first client, ~100 once chat,
embeddings and transcription were called.

What the worker no longer holds (2026-12-01, measured with this benchmark, RSS offline/model):
the `wta` CLI (typer, uvicorn, rich, the staff and API key commands: the pod's command
`python -m wta_runtime worker` now starts the worker alone, `wta_runtime/worker/entry.py`),
httpx's own command line client (click, rich, pygments ~5 MiB, imported by `import httpx`
whenever they are installed) and Twilio's v2010 resources (calls, SIP, usage... ~9 MiB, imported
by the Messages resource's package; now only by a lookup of a sent message): 111/126 -> 94/112
MiB. requests' character detector (charset_normalizer ~4 MiB; the worker never reads a requests
response) and `malloc_trim(0)` once the worker has been quiet for 10 s after turns (~2 MiB
with a model, under 1 ms of CPU): the table above. The start's imports take ~0.3 s less CPU
(2.0 s against 2.3 s, load 4 on 2 cores). What a lazy import costs the turn that needs it: the
OpenAI SDK ~0.3 s of CPU on the first model call of a process, Twilio's v2010 resources ~0.4 s
on the first lookup of a sent message (only after a send whose outcome was unknown). The OpenAI
SDK's type modules the worker does not use (its type packages deferred, above; 2026-12-01):
model 108 -> 99 MiB, and the SDK's import with the first client ~0.3 s of CPU instead of ~0.7 s
(3 runs each, the benchmark running beside them on 2 cores).

Measured and not kept: `MALLOC_ARENA_MAX=2` with `UV_THREADPOOL_SIZE=1` (no change: the four
libuv threads hold almost nothing), `PYTHONMALLOC=malloc` (+2 to +3 MiB), `python -OO`
(`PYTHONOPTIMIZE=2`: -5 to -6 MiB, 89/107 before the trim; it needs the image to precompile
`.opt-2.pyc` files, since the read-only image cannot cache them and every wake-up would compile
every module, and it drops the runtime's asserts; nothing at run time reads docstrings), a
lazy `openai.types` alone (-3 MiB only: the SDK's own modules import from `openai.types.chat`
and the other type packages, whose `__init__`s still imported all their modules; deferring
every type package's `__init__` is what is kept).

The model case is under the goal by about 1 MiB only (99 MiB). What the SDK still holds: its
client with httpx2 and anyio, and ~45 chat type modules that `openai.lib` imports for structured
outputs (`lib/_parsing/_completions.py`, run by `openai/__init__` itself, not by a type
package), which the worker never uses. The way further down, not taken yet: the chat call
without the SDK (our path uses one `post` of plain JSON and reads a few fields of the answer),
which means redoing the SDK's error mapping, auth and the egress-checked client; or `python -OO`
with precompiled `.opt-2.pyc` files in the image (above).

"""


def write_section(runs: list[PodRun], label: str, command: str) -> str:
    """Replace the section in docs/benchmarks.md, keeping an earlier "before" subsection."""
    parts = split_sections(DOC.read_text())
    at = next((i for i, p in enumerate(parts) if p.startswith(HEADING + "\n")), None)
    old = parts.pop(at) if at is not None else ""
    body = subsection(runs, label, command)
    if not label.startswith(BEFORE.removeprefix("### ")) and kept_before(old):
        body += "\n" + kept_before(old)
    new = INTRO + body
    if at is None:
        at = len(parts)
    parts[at - 1] = parts[at - 1].rstrip("\n") + "\n\n"
    parts.insert(at, new.rstrip("\n") + "\n\n")
    DOC.write_text("".join(parts).rstrip("\n") + "\n")
    return new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_before_option(parser)
    parser.add_argument("--sidecar", action="store_true", help="run the scheduler beside it")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the pod")
    parser.add_argument("--no-write", action="store_true", help="print, leave docs alone")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="wta-bench-idle-") as tmp:
        source, label = runtime_source(Path(tmp), before=args.before)
        platform = BenchPlatform(Path(tmp) / "platform", source)
        try:
            platform.start()
            runs = [
                measure(platform, mode, sidecar=args.sidecar, extra=extra)
                for mode in ("offline", "model")
            ]
        finally:
            platform.stop()
    layout = "worker + scheduler sidecar" if args.sidecar else "worker only"
    label += f", {layout}" + "".join(f", {item}" for item in args.env)
    command = " ".join(["python -m hack.bench_idle", *sys.argv[1:]])
    if args.no_write:
        print(subsection(runs, label, command))
    else:
        print(write_section(runs, label, command))


if __name__ == "__main__":
    main()
