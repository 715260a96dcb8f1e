"""The operator tests' fixtures: the real API server, NATS, PostgreSQL and the running operator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.client import Client

from tests.kube import KubeCluster, kube_cluster, kube_namespace
from tests.operator.harness import RunningOperator, running_operator, superuser_url

__all__ = ["kube_cluster", "kube_namespace"]


@pytest.fixture(scope="session")
def admin_database_url(database_url: str) -> str:
    return superuser_url(database_url)


@pytest.fixture(scope="session")
def live_operator(
    kube_cluster: KubeCluster,
    nats_url: str,
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningOperator]:
    """`python -m wta_operator` as its ServiceAccount from rbac.yaml, for the whole session."""
    folder = tmp_path_factory.mktemp("operator")
    with running_operator(kube_cluster, folder, nats_url, admin_database_url) as running:
        yield running


@pytest.fixture(scope="session")
async def nats_client(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()
