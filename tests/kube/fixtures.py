"""Pytest fixtures: one real API server per test session, and a fresh namespace per test.

Import them into a conftest (`from tests.kube.fixtures import kube_cluster, kube_namespace`) or
list the module in the root conftest's `pytest_plugins`. Several conftests importing them still
share one control plane: it is kept in the session's config stash, not in the fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.kube.cluster import KubeCluster, KubeUnavailableError, start_cluster

_CLUSTER = pytest.StashKey[KubeCluster | str]()


def _unavailable(reason: str) -> NoReturn:
    # On CI a missing or broken binary is a failure: it must never silently skip these tests.
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def kube_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> KubeCluster:
    """etcd + kube-apiserver (+ kube-controller-manager for garbage collection), CRDs installed.

    Yields a `KubeCluster`: `.kubeconfig` (admin), `.server`, `.api_client()`, `.kubectl(...)`,
    `.kubeconfig_for_service_account(ns, name)`, `.gc_enabled`. Stopped when the session ends.
    """
    stash = request.config.stash
    found = stash.get(_CLUSTER, None)
    if found is None:
        try:
            found = start_cluster(tmp_path_factory.mktemp("kube"))
        except KubeUnavailableError as exc:
            found = f"no Kubernetes API server for these tests: {exc}"
        else:
            request.config.add_cleanup(found.stop)
        stash[_CLUSTER] = found
    if isinstance(found, str):
        _unavailable(found)
    return found


@pytest.fixture
def kube_namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    """A new namespace for one test, deleted (without waiting) afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube_cluster.kubectl("create", "namespace", name)
    yield name
    kube_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
