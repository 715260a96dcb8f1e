"""`make bench`, last part: on a real node (tests/node), the time from `helm install` to the
first reply a WhatsApp contact gets; then a rolling update at 10 messages/s on the same node
(hack/bench_node_roll.py).

The node (control plane, containerd, kubelet, the built image) and the external services (NATS,
PostgreSQL, the local Twilio API) are started first and not counted. The clock starts when the
admin database Secret is created and `helm install --wait` begins; then examples/ are applied
and one signed webhook is posted to the gateway's Service (again, as Twilio retries, until the
gateway knows the tenant) until its reply reaches the Twilio API. The section "Node" of
docs/benchmarks.md is replaced.

    python -m hack.bench_node
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.node.accommodations import unsupported_reason
from tests.node.node import RealNode, start_node
from tests.node.release import EXAMPLES, TENANT, install
from tests.node.services import NodeServices, node_services
from tests.node.traffic import WEBHOOK, post_until_accepted
from tests.utils.webhooks import new_contact, webhook_for

from hack.bench_node_roll import measure, rows
from hack.bench_report import replace_section
from hack.machine import machine
from wta_runtime.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Node: helm install -> first reply, and a rolling update at 10 messages/s"
REPLY_TIMEOUT = 300.0


async def first_reply(gateway_url: str, services: NodeServices) -> tuple[float, float]:
    """Post one signed webhook until accepted, then wait for its reply; both moments."""
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    contact = new_contact()
    url = gateway_url + WEBHOOK
    data, headers = webhook_for(tenant, url, contact=contact, body="When are you open?")
    response = await post_until_accepted(url, data, headers, timeout=REPLY_TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"the gateway never accepted the webhook: {response.status_code}")
    accepted = time.monotonic()
    deadline = accepted + REPLY_TIMEOUT
    while not services.sent_to(contact):
        if time.monotonic() > deadline:
            raise RuntimeError("no reply reached the Twilio API")
        await asyncio.sleep(0.05)
    return accepted, time.monotonic()


@contextmanager
def node_and_services(folder: Path) -> Iterator[tuple[RealNode, NodeServices]]:
    """A started node and the host's services for it; both stopped after."""
    node = start_node(folder / "node")
    try:
        sources = f"{node.network.node_ip}/32"
        with node_services(folder / "services", node.network.host_ip, sources) as services:
            yield node, services
    finally:
        node.stop()


def run(folder: Path) -> dict[str, Any]:
    """Start a node, install the chart and time the way to the first reply."""
    load_before = os.getloadavg()[0]
    with node_and_services(folder) as (node, services):
        started = time.monotonic()
        release = install(node, services)
        installed = time.monotonic()
        accepted, replied = asyncio.run(first_reply(release.gateway_url, services))
        rolling = measure(node, release, services)
    return {
        "helm_install_wait": installed - started,
        "first_webhook_accepted": accepted - started,
        "first_reply": replied - started,
        "accommodations": [a.name for a in node.setup.accommodations],
        "rolling_update": rolling,
        "load": [load_before, os.getloadavg()[0]],
    }


def section(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    return "\n".join(
        [
            HEADING,
            "",
            *where(result, "hack.bench_node"),
            "- one node (containerd, kubelet; accommodations: "
            f"{', '.join(result['accommodations'])}), image already built and loaded, no pull; "
            "NATS, PostgreSQL and the Twilio API on the host. See docs/operating.md.",
            "",
            "| from the start of `helm install --wait` to | seconds |",
            "| --- | --- |",
            "| operator and gateway pods Ready (helm returns) "
            f"| {result['helm_install_wait']:.1f} |",
            "| the gateway accepting the tenant's first webhook (examples/ applied after helm) "
            f"| {result['first_webhook_accepted']:.1f} |",
            f"| the first reply reaching the Twilio API | {result['first_reply']:.1f} |",
            "",
            *rows(result["rolling_update"]),
            "",
        ]
    )


def write_results(
    what: str,
    prefix: str,
    run: Callable[[Path], dict[str, Any]],
    heading: str,
    section: Callable[[dict[str, Any]], str],
) -> None:
    """Run `run` in a temporary folder where a node can run; replace its docs section."""
    reason = unsupported_reason()
    if reason:
        print(f"{what} skipped: {reason}")
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        result = run(Path(tmp))
    new = section(result)
    replace_section(DOC, heading, new)
    print(new)
    print(json.dumps(result, indent=2), file=sys.stderr)


def where(result: dict[str, Any], module: str) -> list[str]:
    """The section's first lines: when, on what, with which command and load."""
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}",
        f"- command: `make bench` (`python -m {module}`); machine load (1-minute "
        f"load average, {os.cpu_count()} cores): {result['load'][0]:.1f} at the start, "
        f"{result['load'][1]:.1f} at the end",
    ]


def main() -> None:
    write_results("node benchmark", "wta-bench-node-", run, HEADING, section)


if __name__ == "__main__":
    main()
