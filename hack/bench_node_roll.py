"""`make bench`, node part two: the tenant's runtime rolls while contacts write at 10 messages/s.

On the node hack/bench_node.py installed, the example tenant is pointed at the scripted model
(it answers at once, signing with the `rev-N` of the agent's instructions). Contacts, each new,
write one message every 0.1 s through the gateway's Service: for `BEFORE` seconds, then while the
agent's instructions change and the runtime Deployment rolls, then `AFTER` seconds more. Each
message's latency is from its first POST to its reply reaching the Twilio API (the tenant's
2 s burst window included); "during the roll" is by when the message was posted, from the patch
to the last old pod gone.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.node.model import answer_with_revision, revision_of, roll_to, use_model
from tests.node.node import RealNode
from tests.node.release import EXAMPLES, TENANT, Release
from tests.node.services import NodeServices
from tests.node.traffic import Sent, write_steadily
from tests.utils.openai_server import ScriptedModel, create_openai_app
from tests.utils.servers import serve_in_thread

from wta_runtime.catalog import load_catalog
from wta_runtime.settings import Settings

RATE = 10.0
BEFORE = 20.0
AFTER = 20.0
ANSWER_TIMEOUT = 240.0
# Past JetStream's ack wait, a redelivered message would have been answered a second time.
RESEND_WAIT = Settings().stream_ack_wait_seconds + 5


@dataclass(frozen=True)
class Window:
    """Messages posted in one stretch of time and what became of them."""

    sent: int
    lost: int
    twice: int
    p50: float | None
    p99: float | None
    worst: float | None


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def window(sent: list[Sent], latency: dict[str, float], replies: dict[str, int]) -> Window:
    latencies = [latency[s.contact] for s in sent if s.contact in latency]
    return Window(
        sent=len(sent),
        lost=sum(1 for s in sent if replies[s.contact] == 0),
        twice=sum(1 for s in sent if replies[s.contact] > 1),
        p50=percentile(latencies, 0.5),
        p99=percentile(latencies, 0.99),
        worst=max(latencies, default=None),
    )


async def _answered(services: NodeServices, sent: list[Sent]) -> None:
    """Wait until every contact has a reply (or the timeout), then long enough for a resend."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while time.monotonic() < deadline:
        if all(services.sent_to(s.contact) for s in sent):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(RESEND_WAIT)


async def _roll_under_traffic(node: RealNode, release: Release) -> tuple[list[Sent], float, float]:
    """Traffic at `RATE`; the instructions change after `BEFORE` s; both ends of the roll."""
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    rolled = asyncio.Event()
    moments: list[float] = []

    async def roll() -> None:
        await asyncio.sleep(BEFORE)
        moments.extend(await roll_to(node, "rev-2"))
        rolled.set()

    roller = asyncio.create_task(roll())
    sent = await write_steadily(
        release.gateway_url,
        tenant,
        per_second=RATE,
        stop=rolled,
        then=int(AFTER * RATE),
        at_most=int(RATE * 900),
    )
    await roller
    return sent, moments[0], moments[1]


def measure(node: RealNode, release: Release, services: NodeServices) -> dict[str, Any]:
    """Roll the runtime under steady traffic; lost, answered twice and latency per window."""
    model = ScriptedModel(answer=answer_with_revision)
    with serve_in_thread(create_openai_app(model), host=node.network.host_ip) as url:
        use_model(node, url + "/v1")
        wall_minus_monotonic = time.time() - time.monotonic()
        sent, roll_start, roll_end = asyncio.run(_roll_under_traffic(node, release))
        asyncio.run(_answered(services, sent))
    latency: dict[str, float] = {}
    replies: dict[str, int] = {}
    for s in sent:
        got = services.sent_to(s.contact)
        replies[s.contact] = len(got)
        if got:
            posted = datetime.fromtimestamp(s.sent_at + wall_minus_monotonic, UTC)
            latency[s.contact] = (got[0].date_created - posted).total_seconds()
    during = [s for s in sent if roll_start <= s.sent_at <= roll_end]
    outside = [s for s in sent if not roll_start <= s.sent_at <= roll_end]
    after = [s for s in sent if s.sent_at > roll_end and replies[s.contact]]
    first, last = min(s.sent_at for s in sent), max(s.sent_at for s in sent)
    return {
        "rate": RATE,
        "offered_rate": (len(sent) - 1) / (last - first),
        "roll_seconds": roll_end - roll_start,
        "refused": sum(1 for s in sent if s.status != 200),
        "during": window(during, latency, replies).__dict__,
        "outside": window(outside, latency, replies).__dict__,
        "all": window(sent, latency, replies).__dict__,
        "after_roll_old_instructions": sum(
            1 for s in after if revision_of(services.sent_to(s.contact)[0].body) != "rev-2"
        ),
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def rows(result: dict[str, Any]) -> list[str]:
    """The markdown lines of the rolling-update part of the node section."""
    lines = [
        f"Rolling update at {result['rate']:.0f} messages/s ({result['offered_rate']:.1f} "
        "offered; the agent's instructions changed; "
        f"the roll took {result['roll_seconds']:.1f} s from the patch to the last old pod gone; "
        f"{result['refused']} webhooks refused after retries; "
        f"{result['after_roll_old_instructions']} replies after the roll under the old "
        "instructions):",
        "",
        "Latency: from a message's first POST to its reply reaching the Twilio API, the "
        "tenant's 2 s burst window included.",
        "",
        "| messages posted | sent | lost | answered twice | p50 s | p99 s | worst s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (("during", "during the roll"), ("outside", "before and after it")):
        w = result[key]
        lines.append(
            f"| {label} | {w['sent']} | {w['lost']} | {w['twice']} | {_seconds(w['p50'])} "
            f"| {_seconds(w['p99'])} | {_seconds(w['worst'])} |"
        )
    return lines
