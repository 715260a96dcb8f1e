"""A platform team's first `helm install`, on a real node: the example tenant answers."""

from __future__ import annotations

import asyncio

import pytest

from tests.node.node import RealNode
from tests.node.release import AGENT, EXAMPLES, TENANT, TENANT_NS, Release
from tests.node.services import NodeServices
from tests.node.traffic import WEBHOOK, post_until_accepted
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.agents.offline import OFFLINE_LABEL
from wta_runtime.catalog import load_catalog

pytestmark = [pytest.mark.node, pytest.mark.timeout(600)]


async def test_helm_installed_platform_answers_a_signed_webhook_once(
    real_node: RealNode, release: Release, services: NodeServices
) -> None:
    kube = real_node.kube
    kube.kubectl(
        *("-n", TENANT_NS, "wait", "--for=condition=Ready", "--timeout=300s"),
        *(f"whatsapptenant/{TENANT}", f"aiagent/{AGENT}"),
        timeout=320,
    )
    kube.kubectl(
        *("-n", TENANT_NS, "rollout", "status", f"deployment/{TENANT}-runtime", "--timeout=300s"),
        timeout=320,
    )
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    contact = new_contact()
    url = release.gateway_url + WEBHOOK
    data, headers = webhook_for(tenant, url, contact=contact, body="When are you open?")

    response = await post_until_accepted(url, data, headers, timeout=120)

    assert response.status_code == 200, response.text
    replies = await eventually(lambda: services.sent_to(contact), until=bool, timeout=120)
    await asyncio.sleep(3)
    assert len(services.sent_to(contact)) == 1
    assert replies[0].from_ == f"whatsapp:{tenant.numbers[0]}"
    assert replies[0].body.startswith(OFFLINE_LABEL)
