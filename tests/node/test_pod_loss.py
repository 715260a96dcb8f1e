"""The tenant's runtime pod lost mid-turn, deleted or its worker SIGKILLed: nothing lost or
answered twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest

from tests.node.containerd import ctr
from tests.node.node import RealNode
from tests.node.release import EXAMPLES, TENANT, TENANT_NS, Release
from tests.node.rollout import container_id, only_runtime_pod, restarts, wait_rolled
from tests.node.services import NodeServices
from tests.node.traffic import Sent, every_contact_answered, write_steadily
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from wta_runtime.catalog import load_catalog
from wta_runtime.settings import Settings

pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]

ACK_WAIT = Settings().stream_ack_wait_seconds
WORKER = "worker"


@pytest.fixture
def slow_model(model_tenant: ScriptedModel) -> Iterator[ScriptedModel]:
    """Each model call takes 2 s, so turns are in flight when the pod goes."""
    model_tenant.delay_seconds = 2.0
    yield model_tenant
    model_tenant.delay_seconds = 0.0


async def lose_mid_turn(
    release: Release, model: ScriptedModel, lose: Callable[[], Awaitable[None]]
) -> list[Sent]:
    """Contacts write at a steady rate; once a turn is in flight, `lose` the runtime."""
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    lost = asyncio.Event()
    load = asyncio.create_task(
        write_steadily(release.gateway_url, tenant, per_second=4, stop=lost, then=8, at_most=200)
    )
    await eventually(lambda: model.in_flight, until=lambda n: n > 0, timeout=60)
    await lose()
    lost.set()
    return await load


async def assert_each_answered_once(services: NodeServices, sent: list[Sent]) -> None:
    assert [s.contact for s in sent if s.status != 200] == []
    await every_contact_answered(services, sent, timeout=240, then_wait=ACK_WAIT + 5)
    counts = {s.contact: len(services.sent_to(s.contact)) for s in sent}
    assert {contact: n for contact, n in counts.items() if n != 1} == {}


async def test_runtime_pod_deleted_mid_turn_loses_and_repeats_nothing(
    real_node: RealNode, release: Release, services: NodeServices, slow_model: ScriptedModel
) -> None:
    kube = real_node.kube
    pod = only_runtime_pod(kube)["metadata"]["name"]

    async def delete_pod() -> None:
        kube.kubectl("-n", TENANT_NS, "delete", "pod", pod, "--wait=false")

    sent = await lose_mid_turn(release, slow_model, delete_pod)
    await asyncio.to_thread(wait_rolled, kube)

    assert only_runtime_pod(kube)["metadata"]["name"] != pod
    await assert_each_answered_once(services, sent)


async def test_worker_sigkilled_mid_turn_loses_and_repeats_nothing(
    real_node: RealNode, release: Release, services: NodeServices, slow_model: ScriptedModel
) -> None:
    kube = real_node.kube
    containerd = real_node.containerd
    assert containerd is not None
    worker = container_id(only_runtime_pod(kube), WORKER)
    before = restarts(kube, WORKER)

    async def kill_worker() -> None:
        ctr(containerd, "tasks", "kill", "--signal", "SIGKILL", worker)

    sent = await lose_mid_turn(release, slow_model, kill_worker)
    await eventually(lambda: restarts(kube, WORKER), until=lambda n: n > before, timeout=120)
    await asyncio.to_thread(wait_rolled, kube)

    await assert_each_answered_once(services, sent)
