"""A tenant added to the gateway's manifest folder is routed without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from tests.conftest import EXAMPLES
from tests.utils.gateways import GATEWAY_BASE as BASE
from tests.utils.gateways import reloading_gateway_client
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import load_catalog

WEBHOOK = "/api/v1/twilio/webhook"


def _second_tenant(folder: Path) -> None:
    docs = []
    for path in sorted(EXAMPLES.glob("*tenant.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] == "WhatsAppTenant":
                doc["metadata"]["name"] = "late-pizza"
                doc["spec"]["numbers"] = [{"number": "+14155550123"}]
            docs.append(doc)
    (folder / "late-pizza.yaml").write_text(yaml.safe_dump_all(docs))


async def test_new_tenant_is_routed_after_the_folder_changes(
    tmp_path: Path, nats_url: str, database_url: str
) -> None:
    for path in EXAMPLES.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    async with reloading_gateway_client(tmp_path, nats_url, database_url) as client:
        path = f"{WEBHOOK}/late-pizza"
        before = await client.post(path, data={"Body": "x"})
        _second_tenant(tmp_path)
        tenant = load_catalog(tmp_path).by_name("late-pizza")

        async def routed() -> int:
            data, headers = webhook_for(tenant, BASE + WEBHOOK, contact=new_contact(), body="hi")
            return (await client.post(WEBHOOK, data=data, headers=headers)).status_code

        status = await eventually(routed, until=lambda code: code != 404, timeout=10)
        (tmp_path / "late-pizza.yaml").write_text("kind: [broken")
        await asyncio.sleep(0.5)
        still = await routed()

    assert before.status_code == 404
    assert status == 200
    assert still == 200
