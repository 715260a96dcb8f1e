"""Operator benchmark: many tenants and agents applied at once -> time until all are Ready.

Runs outside pytest on this machine: etcd, kube-apiserver and kube-controller-manager from the
tests' harness (tests/kube, binaries cached in ~/.cache/wta), a real NATS server and
`python -m wta_operator` as its least-privilege ServiceAccount. No admin database URL is given,
so the Database part is Ready with reason NotManaged by design (no PostgreSQL involved).

The namespaces are created first; then every Secret, WhatsAppTenant and AIAgent is created at
once from a thread pool. Measured: time from the first create until every tenant (and every
agent) has condition Ready=True, the operator's RSS (sampled every 0.2 s) and its
`wta_operator_reconciles_total`.

    python -m hack.bench_operator            # prints the markdown section
    WTA_BENCH_TENANTS=20 python -m hack.bench_operator   # a quick run

Knobs: WTA_BENCH_TENANTS (200), WTA_BENCH_AGENTS_PER_TENANT (2), WTA_BENCH_NAMESPACES (10),
WTA_BENCH_TIMEOUT (600 s until everything must be Ready), WTA_BENCH_THREADS (8 creators).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi, V1Namespace, V1ObjectMeta
from tests.kube.cluster import KubeCluster, start_cluster
from tests.operator.factories import agent_manifest, secret_manifest, tenant_manifest
from tests.operator.harness import GATEWAY_NAMESPACE, GROUP, PLURALS, RBAC, VERSION

from hack.machine import machine
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
TENANTS = int(os.environ.get("WTA_BENCH_TENANTS", "200"))
AGENTS_PER_TENANT = int(os.environ.get("WTA_BENCH_AGENTS_PER_TENANT", "2"))
NAMESPACES = int(os.environ.get("WTA_BENCH_NAMESPACES", "10"))
TIMEOUT = float(os.environ.get("WTA_BENCH_TIMEOUT", "600"))
THREADS = int(os.environ.get("WTA_BENCH_THREADS", "8"))
SAMPLE_SECONDS = 0.2
POLL_SECONDS = 0.5


def title() -> str:
    return f"Operator: {TENANTS} tenants, {TENANTS * AGENTS_PER_TENANT} agents"


@dataclass
class RssSampler:
    """Samples one process's resident memory every SAMPLE_SECONDS in a background thread."""

    pid: int
    peak: int = 0
    last: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> int:
        rss = int(psutil.Process(self.pid).memory_info().rss)
        self.last, self.peak, self.samples = rss, max(self.peak, rss), self.samples + 1
        return rss

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                self.sample()
            except psutil.Error:
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def namespace_of(index: int) -> str:
    return f"bench-{index % NAMESPACES:02d}"


def tenant_name(index: int) -> str:
    return f"bench-shop-{index:04d}"


def workload(index: int) -> list[tuple[str, dict[str, Any]]]:
    """One tenant's objects in creation order: its Secret, the tenant, its agents."""
    name = tenant_name(index)
    number = f"+1415{5000000 + index:07d}"  # unique E.164 number per tenant
    objects: list[tuple[str, dict[str, Any]]] = [
        ("Secret", secret_manifest(f"{name}-twilio", token=f"bench-token-{index:04d}")),
        ("WhatsAppTenant", tenant_manifest(name, numbers=[number])),
    ]
    for agent in range(AGENTS_PER_TENANT):
        objects.append(("AIAgent", agent_manifest(f"{name}-agent-{agent}", name)))
    return objects


def create_all(api: ApiClient) -> float:
    """Create every tenant's objects, tenants in parallel; returns the first create's time."""
    core, custom = CoreV1Api(api), CustomObjectsApi(api)
    started = time.monotonic()

    def create(index: int) -> None:
        namespace = namespace_of(index)
        body: Any
        for kind, body in workload(index):
            if kind == "Secret":
                core.create_namespaced_secret(namespace, body, _preload_content=False)
            else:
                custom.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURALS[kind], body, _preload_content=False
                )

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(create, range(TENANTS)))
    return started


def ready_count(custom: CustomObjectsApi, kind: str) -> int:
    """How many objects of `kind`, cluster-wide, have condition Ready=True."""
    listed: Any = custom.list_cluster_custom_object(
        GROUP, VERSION, PLURALS[kind], _preload_content=False
    )
    ready = 0
    for item in json.loads(listed.data)["items"]:
        conditions = (item.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready += 1
    return ready


def reconciles(metrics_url: str) -> dict[str, int]:
    """`wta_operator_reconciles_total` by `kind/outcome` from the operator's metrics port."""
    try:
        text = httpx.get(f"{metrics_url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if not line.startswith("wta_operator_reconciles_total{"):
            continue
        labels, value = line.removeprefix("wta_operator_reconciles_total{").split("} ")
        parsed = dict(part.split("=", 1) for part in labels.split(","))
        key = f"{parsed['kind'].strip(chr(34))}/{parsed['outcome'].strip(chr(34))}"
        counts[key] = int(float(value))
    return counts


def start_operator(cluster: KubeCluster, folder: Path, nats_url: str) -> tuple[ManagedProcess, str]:
    """`python -m wta_operator` as its ServiceAccount, with the default resync and log level.

    Like tests/operator/harness.running_operator, minus the admin database URL (so the operator
    does not manage database scopes) and the tests' short resync interval.
    """
    cluster.kubectl("create", "namespace", GATEWAY_NAMESPACE, check=False)
    cluster.kubectl("apply", "-f", str(RBAC))
    kubeconfig = cluster.kubeconfig_for_service_account(GATEWAY_NAMESPACE, "wta-operator")
    health_port, metrics_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "KUBECONFIG": str(kubeconfig),
        "WTA_NATS_URL": nats_url,
        "WTA_GATEWAY_NAMESPACE": GATEWAY_NAMESPACE,
        "WTA_HEALTH_PORT": str(health_port),
        "WTA_OPERATOR_METRICS_PORT": str(metrics_port),
        "WTA_LOG_LEVEL": "INFO",
    }
    process = ManagedProcess(
        "operator",
        [sys.executable, "-m", "wta_operator"],
        port=health_port,
        env=env,
        log_path=folder / "operator.log",
        cwd=folder,  # no developer .env file is read
    )
    process.start(timeout=60)
    return process, f"http://127.0.0.1:{metrics_port}"


def wait_until(probe: Callable[[], bool], deadline: float) -> float | None:
    """Poll `probe` every POLL_SECONDS; the monotonic time it first held, or None."""
    while time.monotonic() < deadline:
        if probe():
            return time.monotonic()
        time.sleep(POLL_SECONDS)
    return None


def run(folder: Path) -> dict[str, Any]:
    """Start everything in `folder`, apply the workload, measure, stop everything."""
    cluster = start_cluster(folder / "kube")
    nats = nats_process(folder / "nats", port=free_port(), log_path=folder / "nats.log")
    operator: ManagedProcess | None = None
    sampler: RssSampler | None = None
    try:
        nats.start()
        api = cluster.api_client()
        core, custom = CoreV1Api(api), CustomObjectsApi(api)
        for index in range(NAMESPACES):
            core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=namespace_of(index))))
        operator, metrics_url = start_operator(cluster, folder, f"nats://127.0.0.1:{nats.port}")
        assert operator.process is not None
        sampler = RssSampler(operator.process.pid)
        time.sleep(2)  # let kopf settle on its (empty) watches before measuring
        idle = sampler.sample()
        sampler.start()
        agents = TENANTS * AGENTS_PER_TENANT
        started = create_all(api)
        created = time.monotonic()
        deadline = started + TIMEOUT
        progress: dict[str, int] = {}

        def all_tenants_ready() -> bool:
            progress["tenants"] = ready_count(custom, "WhatsAppTenant")
            return progress["tenants"] >= TENANTS

        def all_agents_ready() -> bool:
            progress["agents"] = ready_count(custom, "AIAgent")
            return progress["agents"] >= agents

        tenants_at = wait_until(all_tenants_ready, deadline)
        agents_at = wait_until(all_agents_ready, deadline) if tenants_at else None
        if operator.running():
            sampler.sample()
        sampler.stop()
        result = {
            "tenants": TENANTS,
            "agents": agents,
            "namespaces": NAMESPACES,
            "create_seconds": created - started,
            "tenants_ready_seconds": None if tenants_at is None else tenants_at - started,
            "agents_ready_seconds": None if agents_at is None else agents_at - started,
            "tenants_ready": progress.get("tenants", 0),
            "agents_ready": progress.get("agents", 0),
            "rss_idle": idle,
            "rss_peak": sampler.peak,
            "rss_end": sampler.last,
            "rss_samples": sampler.samples,
            "reconciles": reconciles(metrics_url),
            "gc": cluster.gc_enabled,
            "operator_alive": operator.running(),
        }
        if tenants_at is None or agents_at is None or not result["operator_alive"]:
            tail = (folder / "operator.log").read_text(errors="replace").splitlines()[-40:]
            print("operator log (last 40 lines):", *tail, sep="\n", file=sys.stderr)
    finally:
        if sampler is not None:
            sampler.stop()
        if operator is not None:
            operator.stop()
        nats.stop()
        cluster.stop()
    return result


def _seconds(value: float | None, ready: int, total: int) -> str:
    if value is None:
        return f"not within {TIMEOUT:.0f} s ({ready}/{total} Ready)"
    return f"{value:.1f} s"


def _mib(value: int) -> str:
    return f"{value / 1024 / 1024:.0f} MiB"


def section(result: dict[str, Any], command: str = "`python -m hack.bench_operator`") -> str:
    """The markdown section for docs/benchmarks.md."""
    counts = result["reconciles"]
    by_kind: dict[str, int] = {}
    for key, value in counts.items():
        kind = key.split("/")[0]
        by_kind[kind] = by_kind.get(kind, 0) + value
    total = sum(counts.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
    reconciled = (
        f"{total} ({', '.join(f'{k} {v}' for k, v in sorted(by_kind.items()))}; {detail})"
        if counts
        else "metrics port not reachable"
    )
    lines = [
        f"## {title()}",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: {command}",
        "- etcd + kube-apiserver + kube-controller-manager from tests/kube (no kubelet: no pod "
        "runs), a real NATS, `python -m wta_operator` as its ServiceAccount from rbac.yaml with "
        "default settings and no admin database URL (Database condition Ready/NotManaged), all "
        "on the same cores.",
        f"- workload: {result['tenants']} WhatsAppTenants (each with its own auth-token Secret "
        f"and a unique number) and {result['agents']} AIAgents over {result['namespaces']} "
        f"namespaces, created at once by {THREADS} client threads "
        f"(all creates done after {result['create_seconds']:.1f} s).",
        "",
        "| measure | value |",
        "| --- | --- |",
        "| first create -> all tenants Ready | "
        f"{_seconds(result['tenants_ready_seconds'], result['tenants_ready'], result['tenants'])}"
        " |",
        "| first create -> all agents Ready | "
        f"{_seconds(result['agents_ready_seconds'], result['agents_ready'], result['agents'])} |",
        f"| operator RSS idle (before) | {_mib(result['rss_idle'])} |",
        f"| operator RSS peak (every {SAMPLE_SECONDS} s) | {_mib(result['rss_peak'])} |",
        f"| operator RSS at the end | {_mib(result['rss_end'])} |",
        f"| reconciles (wta_operator_reconciles_total) | {reconciled} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wta-bench-operator-") as tmp:
        result = run(Path(tmp))
    print(section(result))
    print(json.dumps(result, indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()
