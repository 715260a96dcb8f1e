"""Fixtures of the node tests: a real node, the host's services, the installed chart.

Package-scoped: the node goes as soon as the last node test is done, not with the session, so
the tests after them do not share the machine with it.

Skipped with a one-line reason where a node cannot run (not Linux, not root, packages not
installable); on CI a node that should run but does not is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.node.accommodations import unsupported_reason
from tests.node.model import answer_with_revision, use_model
from tests.node.node import NodeUnavailableError, NodeUnsupportedError, RealNode, start_node
from tests.node.release import Release, install
from tests.node.services import NodeServices, node_services
from tests.utils.openai_server import ScriptedModel, create_openai_app
from tests.utils.servers import serve_in_thread


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def real_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealNode]:
    """A one-node cluster with containerd and a kubelet, the built image loaded."""
    reason = unsupported_reason()
    if reason:
        pytest.skip(reason)
    try:
        node = start_node(tmp_path_factory.mktemp("node"))
    except NodeUnsupportedError as exc:
        pytest.skip(str(exc))
    except NodeUnavailableError as exc:
        _unavailable(f"no real node for these tests: {exc}")
    print(f"\nreal node up; accommodations:\n{node.setup.describe()}")
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="package")
def services(
    real_node: RealNode, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeServices]:
    """NATS, PostgreSQL and the local Twilio API where the node's pods reach them."""
    # Pods' connections leave the node masqueraded to its veth address.
    sources = f"{real_node.network.node_ip}/32"
    with node_services(
        tmp_path_factory.mktemp("node-services"), real_node.network.host_ip, sources
    ) as found:
        yield found


@pytest.fixture(scope="package")
def release(real_node: RealNode, services: NodeServices) -> Release:
    """charts/wta installed with the built image, and examples/ applied in namespace `shop`."""
    return install(real_node, services)


@pytest.fixture(scope="package")
def model_tenant(real_node: RealNode, release: Release) -> Iterator[ScriptedModel]:
    """The example tenant answering through the scripted model (instructions at rev-1)."""
    model = ScriptedModel(answer=answer_with_revision)
    with serve_in_thread(create_openai_app(model), host=real_node.network.host_ip) as url:
        use_model(real_node, url + "/v1")
        yield model
