"""`make bench`, node part three: a sleeping tenant's wake-up, from the first webhook to the reply.

On a real node (tests/node) with the chart installed, the example tenant is pointed at the
scripted model (it answers at once) and given `spec.runtime.idleAfter: 10s`. Each round waits
until the tenant sleeps (its Sleeping condition True, its last runtime pod gone), then posts one
signed webhook from a new contact to the gateway's Service and times it until the reply reaches
the Twilio API: the operator's poll of the stream (`operator.sleep.wakePollSeconds`, the chart's
default 1 s), the scale-up, the pod's start (migrations, worker), the tenant's 2 s burst window
and the turn. The same is timed for the tenant awake, for comparison. The section "Node:
wake-up of a sleeping tenant" of docs/benchmarks.md is replaced.

    python -m hack.bench_node_wake
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.node.model import answer_with_revision, use_model
from tests.node.node import RealNode
from tests.node.release import EXAMPLES, TENANT, install
from tests.node.rollout import runtime_pods
from tests.node.services import NodeServices
from tests.node.sleep import IDLE_AFTER, sleepy_tenant, wait_asleep
from tests.node.traffic import WEBHOOK, post_until_accepted
from tests.utils.openai_server import ScriptedModel, create_openai_app
from tests.utils.servers import serve_in_thread
from tests.utils.webhooks import new_contact, webhook_for

from hack.bench_node import node_and_services, where, write_results
from hack.bench_node_roll import percentile
from wta_runtime.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Node: wake-up of a sleeping tenant"
ROUNDS = 5
REPLY_TIMEOUT = 180.0
GOAL_SECONDS = 10.0


async def webhook_to_reply(gateway_url: str, services: NodeServices) -> float:
    """Seconds from posting one signed webhook (a new contact) to its reply at the Twilio API."""
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    contact = new_contact()
    url = gateway_url + WEBHOOK
    data, headers = webhook_for(tenant, url, contact=contact, body="When are you open?")
    posted = time.monotonic()
    response = await post_until_accepted(url, data, headers, timeout=REPLY_TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"the gateway refused the webhook: {response.status_code}")
    while not services.sent_to(contact):
        if time.monotonic() - posted > REPLY_TIMEOUT:
            raise RuntimeError("no reply reached the Twilio API")
        await asyncio.sleep(0.05)
    return time.monotonic() - posted


def _seconds_after(stamp: str | None, posted: float) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() - posted


def pod_steps(node: RealNode, posted: float) -> dict[str, float | None]:
    """When the woken runtime pod was created, its migrations done and its worker started, in
    seconds after the POST (the API server's timestamps: whole seconds)."""
    pod = max(runtime_pods(node.kube), key=lambda p: p["metadata"]["creationTimestamp"])
    status = pod.get("status") or {}
    init = {c["name"]: c for c in status.get("initContainerStatuses") or []}
    main = {c["name"]: c for c in status.get("containerStatuses") or []}
    migrated = ((init.get("migrate") or {}).get("state") or {}).get("terminated") or {}
    worker = ((main.get("worker") or {}).get("state") or {}).get("running") or {}
    return {
        "pod_created": _seconds_after(pod["metadata"]["creationTimestamp"], posted),
        "migrated": _seconds_after(migrated.get("finishedAt"), posted),
        "worker_started": _seconds_after(worker.get("startedAt"), posted),
    }


def rounds(node: RealNode, release_url: str, services: NodeServices) -> dict[str, Any]:
    """`ROUNDS` wake-ups from sleep, and as many replies while awake (one after the other)."""
    woken: list[float] = []
    awake: list[float] = []
    steps: list[dict[str, float | None]] = []
    for _ in range(ROUNDS):
        wait_asleep(node.kube)
        posted = time.time()
        woken.append(asyncio.run(webhook_to_reply(release_url, services)))
        steps.append(pod_steps(node, posted))
        awake.append(asyncio.run(webhook_to_reply(release_url, services)))
    return {"woken": woken, "awake": awake, "steps": steps}


def run(folder: Path) -> dict[str, Any]:
    """Start a node, install the chart, let the example tenant sleep and wake it, `ROUNDS` times."""
    load_before = os.getloadavg()[0]
    with node_and_services(folder) as (node, services):
        release = install(node, services)
        model = ScriptedModel(answer=answer_with_revision)
        with serve_in_thread(create_openai_app(model), host=node.network.host_ip) as url:
            use_model(node, url + "/v1")
            with sleepy_tenant(node.kube, idle_timer="15m"):
                measured = rounds(node, release.gateway_url, services)
    return {
        **measured,
        "accommodations": [a.name for a in node.setup.accommodations],
        "load": [load_before, os.getloadavg()[0]],
    }


def _row(label: str, values: list[float]) -> str:
    p50 = percentile(values, 0.5)
    return (
        f"| {label} | {len(values)} | {p50 or 0:.1f} | {max(values):.1f} | "
        f"{' '.join(f'{v:.1f}' for v in values)} |"
    )


STEPS = ("pod_created", "migrated", "worker_started")


def _median(result: dict[str, Any], key: str) -> str:
    values = [step[key] for step in result["steps"] if step[key] is not None]
    found = percentile(values, 0.5)
    return "-" if found is None else f"{found:.0f}"


def section(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    worst = max(result["woken"])
    verdict = "met" if worst < GOAL_SECONDS else "NOT met"
    return "\n".join(
        [
            HEADING,
            "",
            *where(result, "hack.bench_node_wake"),
            "- one node (containerd, kubelet; accommodations: "
            f"{', '.join(result['accommodations'])}), image already on the node; the example "
            f"tenant with `idleAfter: {IDLE_AFTER}`, the chart's default "
            "`operator.sleep.wakePollSeconds: 1`, the scripted model answering at once",
            "- from the first POST of a new contact's webhook to its reply reaching the Twilio "
            'API, the tenant\'s 2 s burst window included; "asleep": the Sleeping condition '
            'True and no runtime pod left; "awake": the next message, right after the reply',
            "",
            "| tenant | rounds | p50 s | max s | each s |",
            "| --- | --- | --- | --- | --- |",
            _row("asleep (wake-up to first reply)", result["woken"]),
            _row("awake (for comparison)", result["awake"]),
            "",
            "Where a wake-up's time goes (median of the rounds, seconds after the POST; the API "
            "server's timestamps are whole seconds):",
            "",
            "| runtime pod created (operator polled, scaled up) | its `migrate` init container "
            "done | its worker container started | reply at the Twilio API |",
            "| --- | --- | --- | --- |",
            "| "
            + " | ".join(_median(result, key) for key in STEPS)
            + f" | {percentile(result['woken'], 0.5) or 0:.1f} |",
            "",
            f"Goal: wake-up to first reply under {GOAL_SECONDS:.0f} s: {verdict} "
            f"(max {worst:.1f} s).",
            "",
        ]
    )


def main() -> None:
    write_results("node wake-up benchmark", "wta-bench-wake-", run, HEADING, section)


if __name__ == "__main__":
    main()
