"""A second tenant claiming an owned number is refused by the API server: the chart's policy
reads the claimed numbers the operator publishes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.chart.helm import Helm
from tests.operator.factories import tenant_manifest, unique_name, unique_number
from tests.operator.harness import (
    GATEWAY_NAMESPACE,
    NUMBER_CLAIMS,
    OwnedNumber,
    RunningOperator,
    wait_for,
)

POLICY_KINDS = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}


@pytest.fixture
def number_policy(live_operator: RunningOperator, kube_namespace: str) -> Iterator[None]:
    """The chart's policy and binding, bound to this test's namespace only, removed after."""
    helm = Helm(live_operator.cluster.helm_path)
    objects = helm.render(
        namespace=GATEWAY_NAMESPACE, sets=[f"operator.watchNamespaces={{{kube_namespace}}}"]
    )
    policy = yaml.safe_dump_all([o for o in objects if o["kind"] in POLICY_KINDS])
    live_operator.cluster.kubectl("apply", "-f", "-", input=policy)
    yield
    live_operator.cluster.kubectl("delete", "--wait=false", "-f", "-", input=policy)


def _claims(op: RunningOperator) -> dict[str, str]:
    return dict((op.read(GATEWAY_NAMESPACE, "ConfigMap", NUMBER_CLAIMS) or {}).get("data") or {})


def _apply(op: RunningOperator, namespace: str, manifest: dict[str, Any], *, dry: bool) -> Any:
    args = ["apply", "-n", namespace, "-f", "-", *(["--dry-run=server"] if dry else [])]
    return op.cluster.kubectl(*args, input=yaml.safe_dump(manifest), check=False)


@pytest.mark.usefixtures("number_policy")
def test_a_second_claim_of_a_number_is_refused_at_admission(
    live_operator: RunningOperator, owned_number: OwnedNumber
) -> None:
    op, namespace, number = live_operator, owned_number.namespace, owned_number.number
    owner, second = owned_number.owner, unique_name("second")
    wait_for(lambda: _claims(op).get(number[1:]), lambda who: who == f"{namespace}/{owner}")
    claim = tenant_manifest(second, numbers=[unique_number(), number])

    # The API server picks up a new policy and its parameter within moments: wait on a dry run.
    wait_for(lambda: _apply(op, namespace, claim, dry=True).returncode, lambda code: code != 0)
    refused = _apply(op, namespace, claim, dry=False)

    assert refused.returncode != 0
    assert (
        f"spec.numbers: {number} is already claimed by WhatsAppTenant {namespace}/{owner}: a "
        "number belongs to one tenant" in refused.stderr
    )
    assert op.read(namespace, "WhatsAppTenant", second) is None
    edited = tenant_manifest(owner, numbers=[number], displayName="Renamed shop")
    assert _apply(op, namespace, edited, dry=False).returncode == 0

    op.delete(namespace, "whatsapptenant", owner)
    wait_for(lambda: _claims(op), lambda claims: number[1:] not in claims)
    wait_for(lambda: _apply(op, namespace, claim, dry=True).returncode, lambda code: code == 0)
    assert _apply(op, namespace, claim, dry=False).returncode == 0
