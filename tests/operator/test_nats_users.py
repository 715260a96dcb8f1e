"""Tenants' own NATS users: the runtime's Secret and Deployment, and NATS's authorization block."""

from __future__ import annotations

import base64
import json

import pytest
from pydantic import ValidationError

from tests.operator.factories import runtime_inputs, tenant_view
from wta_operator.builders.nats_users import (
    AUTH_KEY,
    build_nats_secret,
    edit_auth,
    platform_users,
)
from wta_operator.builders.runtime import build_runtime_deployment
from wta_operator.reconcile.nats_users import nats_url_ref
from wta_operator.settings import OperatorConfig
from wta_runtime.stream.permissions import GATEWAY_USER, NatsUser, gateway_permissions

OPERATOR_URL = "nats://wta-operator:op-secret@nats.nats:4222"
GATEWAY_URL = "nats://wta-gateway:gw-secret@nats.nats:4222"


def _platform() -> list[NatsUser]:
    return platform_users(OPERATOR_URL, GATEWAY_URL)


def _applied(data: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    merged = {**data, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def test_the_runtime_reads_its_nats_url_from_its_tenants_secret() -> None:
    tenant = tenant_view()
    config = OperatorConfig(nats_url=OPERATOR_URL, nats_auth_secret="nats/wta-nats-auth")
    inputs = runtime_inputs(tenant, nats_url_secret=nats_url_ref(tenant, config))

    deployment = build_runtime_deployment(tenant, inputs)
    secret = build_nats_secret(tenant, "nats://wta-tenant-acme-pizza:pw@nats.nats:4222")

    for container in deployment["spec"]["template"]["spec"]["containers"]:
        [env] = [e for e in container["env"] if e["name"] == "WTA_NATS_URL"]
        assert env["valueFrom"]["secretKeyRef"] == {"name": "acme-pizza-nats", "key": "url"}
    assert secret["metadata"]["name"] == "acme-pizza-nats"
    assert base64.b64decode(secret["data"]["url"]).decode().startswith("nats://wta-tenant-acme")


def test_without_tenant_users_a_plain_url_is_a_plain_value() -> None:
    tenant = tenant_view()
    assert nats_url_ref(tenant, OperatorConfig(nats_url="nats://nats.nats:4222")) is None


@pytest.mark.parametrize(
    "settings",
    [{"nats_url": OPERATOR_URL}, {"runtime_nats_url": "nats://shared:rt-secret@nats.nats:4222"}],
    ids=["operator-url", "runtime-url"],
)
def test_a_shared_url_with_credentials_reaches_the_pods_only_by_secret_key_ref(
    settings: dict[str, str],
) -> None:
    tenant = tenant_view()
    config = OperatorConfig(**settings)  # type: ignore[arg-type]
    inputs = runtime_inputs(
        tenant, nats_url=config.nats_url_for_runtime, nats_url_secret=nats_url_ref(tenant, config)
    )

    pod = build_runtime_deployment(tenant, inputs)["spec"]["template"]["spec"]

    assert "secret@" not in json.dumps(pod)
    for container in pod["initContainers"] + pod["containers"]:
        [env] = [e for e in container["env"] if e["name"] == "WTA_NATS_URL"]
        assert env["valueFrom"]["secretKeyRef"] == {"name": "acme-pizza-nats", "key": "url"}


def test_tenant_users_need_the_operators_own_credentials() -> None:
    with pytest.raises(ValidationError, match="lock itself out"):
        OperatorConfig(nats_url="nats://nats:4222", nats_auth_secret="nats/wta-nats-auth")


def test_the_block_lists_the_platform_users_and_each_tenant_with_its_rights() -> None:
    changes = edit_auth({}, "acme-pizza", "shops", "tenant-secret", _platform())
    text = changes[AUTH_KEY]
    assert text is not None
    users = json.loads(text.removeprefix("authorization "))["users"]

    by_name = {u["user"]: u for u in users}
    assert set(by_name) == {"wta-operator", GATEWAY_USER, "wta-tenant-acme-pizza"}
    assert "permissions" not in by_name["wta-operator"]
    gateway = gateway_permissions(GATEWAY_USER)
    assert by_name[GATEWAY_USER]["permissions"]["publish"]["allow"] == list(gateway.publish)
    tenant = by_name["wta-tenant-acme-pizza"]
    assert tenant["password"] == "tenant-secret"
    assert (
        "$JS.API.CONSUMER.MSG.NEXT.WTA_INBOUND_ACME_PIZZA.runtime-worker"
        in (tenant["permissions"]["publish"]["allow"])
    )
    assert tenant["permissions"]["subscribe"]["allow"] == ["_INBOX.wta-tenant-acme-pizza.>"]


def test_reapplying_the_same_user_changes_nothing_and_deleting_removes_it() -> None:
    data = _applied({}, edit_auth({}, "acme-pizza", "shops", "pw", _platform()))

    again = edit_auth(data, "acme-pizza", "shops", "pw", _platform())
    removed = _applied(data, edit_auth(data, "acme-pizza", "shops", None, _platform()))

    assert again == {}
    assert "tenant.acme-pizza" not in removed
    assert "wta-tenant-acme-pizza" not in removed[AUTH_KEY]


def test_a_tenant_of_the_same_name_elsewhere_never_replaces_the_owners_user() -> None:
    data = _applied({}, edit_auth({}, "acme-pizza", "shops", "owner-pw", _platform()))

    taken = edit_auth(data, "acme-pizza", "other", "intruder-pw", _platform())
    removal = edit_auth(data, "acme-pizza", "other", None, _platform())

    assert taken == {}
    assert removal == {}
