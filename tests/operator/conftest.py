"""The operator tests' fixtures: the real API server, NATS, PostgreSQL and the running operator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.client import Client

from tests.kube import KubeCluster, kube_cluster, kube_namespace
from tests.operator.factories import unique_name, unique_number
from tests.operator.harness import OwnedNumber, RunningOperator, running_operator, superuser_url
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import free_port
from wta_runtime.stream.permissions import (
    NatsUser,
    authorization_config,
    mint_password,
    with_credentials,
)

__all__ = ["kube_cluster", "kube_namespace"]


@pytest.fixture(scope="session")
def admin_database_url(database_url: str) -> str:
    return superuser_url(database_url)


@pytest.fixture(scope="session")
def operator_nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A NATS server that wants a password, as documented for production: the operator's URL
    carries its user and password (the chart's `nats.existingSecret`)."""
    folder = tmp_path_factory.mktemp("nats-operator")
    user = NatsUser("wta-operator", mint_password())
    config = folder / "nats.conf"
    config.write_text(authorization_config([user]))
    port = free_port()
    server = nats_process(folder / "data", port=port, log_path=folder / "nats.log", config=config)
    server.start()
    yield with_credentials(f"nats://127.0.0.1:{port}", user.name, user.password)
    server.stop()


@pytest.fixture(scope="session")
def live_operator(
    kube_cluster: KubeCluster,
    operator_nats_url: str,
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningOperator]:
    """`python -m wta_operator` as its ServiceAccount from rbac.yaml, for the whole session."""
    folder = tmp_path_factory.mktemp("operator")
    with running_operator(kube_cluster, folder, operator_nats_url, admin_database_url) as running:
        yield running


@pytest.fixture(scope="session")
async def nats_client(operator_nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(operator_nats_url)
    yield client
    await client.drain()


@pytest.fixture
def owned_number(live_operator: RunningOperator, kube_namespace: str) -> OwnedNumber:
    """A number no other test claims, owned by a Ready tenant of this test's namespace."""
    owned = OwnedNumber(kube_namespace, unique_name("first"), unique_number())
    live_operator.ready_tenant(owned.namespace, owned.owner, [owned.number])
    return owned
