"""A dedicated worker serves its tenants through one lane; a shared one gives each tenant a lane
with the tenant's own database and NATS URLs, from its mounted Secrets."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import EXAMPLES
from wta_runtime.catalog import load_catalog
from wta_runtime.settings import Settings
from wta_runtime.worker.lane_plans import plan_lanes

PROCESS_DB = "postgresql+asyncpg://wta@db/wta"
PROCESS_NATS = "nats://nats:4222"


def _two_tenants(folder: Path) -> Path:
    """The example tenant and a twin `second` on another number."""
    manifests = folder / "manifests"
    manifests.mkdir()
    for path in EXAMPLES.glob("*.yaml"):
        (manifests / path.name).write_text(path.read_text())
        twin = []
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] == "WhatsAppTenant":
                doc["metadata"]["name"] = "second"
                doc["spec"]["numbers"] = [{"number": "+14155550199"}]
            elif doc["kind"] == "AIAgent":
                doc["spec"]["tenantRef"]["name"] = "second"
            else:
                continue
            twin.append(doc)
        (manifests / f"second-{path.name}").write_text(yaml.safe_dump_all(twin))
    return manifests


def _secret(folder: Path, name: str, value: str) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "url").write_text(value + "\n")


def _settings(manifests: Path, secrets: Path, mode: str) -> Settings:
    return Settings(
        runtime_mode=mode,
        manifests_dir=manifests,
        secrets_dir=secrets,
        database_url=PROCESS_DB,
        nats_url=PROCESS_NATS,
    )


def test_a_dedicated_worker_has_one_lane_with_the_process_urls(tmp_path: Path) -> None:
    manifests = _two_tenants(tmp_path)
    settings = _settings(manifests, tmp_path / "secrets", "dedicated")

    [lane] = plan_lanes(settings, load_catalog(manifests), ["acme-pizza", "second"])

    assert (lane.tenants, lane.database_url, lane.nats_url) == (
        ["acme-pizza", "second"],
        PROCESS_DB,
        PROCESS_NATS,
    )


def test_a_shared_worker_gives_each_tenant_its_own_urls_and_skips_unknown_ones(
    tmp_path: Path,
) -> None:
    manifests, secrets = _two_tenants(tmp_path), tmp_path / "secrets"
    _secret(secrets, "acme-pizza-database", "postgresql+asyncpg://acme@db/acme")
    _secret(secrets, "acme-pizza-nats", "nats://acme:pw@nats:4222")
    _secret(secrets, "second-database", "postgresql+asyncpg://second@db/second")
    settings = _settings(manifests, secrets, "shared")
    catalog = load_catalog(manifests, secrets)

    lanes = plan_lanes(settings, catalog, ["acme-pizza", "second", "gone"])

    assert [(p.tenants, p.database_url, p.nats_url, p.pool_size) for p in lanes] == [
        (["acme-pizza"], "postgresql+asyncpg://acme@db/acme", "nats://acme:pw@nats:4222", 2),
        # No NATS user of its own (a platform without them): the process's URL.
        (["second"], "postgresql+asyncpg://second@db/second", PROCESS_NATS, 2),
    ]
