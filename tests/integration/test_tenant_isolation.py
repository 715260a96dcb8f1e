"""A tenant's Twilio token signs for its own numbers only: a post about another is refused."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import OPENAI_NUMBER
from tests.utils.conversations import ACME, ACME_ACCOUNT, ACME_NUMBER
from tests.utils.gateways import GATEWAY_BASE, gateway_client
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog

BASE = GATEWAY_BASE
NOBODYS_NUMBER = "+14155559999"
Form = Callable[[str], dict[str, str]]


@pytest.fixture
async def gateway(catalog: TenantCatalog, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(catalog, nats_url) as client:
        yield client


def _message(business_number: str) -> dict[str, str]:
    """An inbound message (the business number is `To`)."""
    contact = new_contact()
    return {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": ACME_ACCOUNT,
        "From": f"whatsapp:{contact}",
        "To": f"whatsapp:{business_number}",
        "Body": "hello",
        "NumMedia": "0",
    }


def _status(business_number: str) -> dict[str, str]:
    """A delivery callback (the business number is `From`)."""
    return {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": ACME_ACCOUNT,
        "From": f"whatsapp:{business_number}",
        "To": f"whatsapp:{new_contact()}",
        "MessageStatus": "delivered",
    }


async def _post_signed(
    gateway: httpx.AsyncClient, catalog: TenantCatalog, path: str, params: dict[str, str]
) -> httpx.Response:
    token = catalog.by_name(ACME).auth_token.get_secret_value()
    signature = RequestValidator(token).compute_signature(BASE + path, params)
    return await gateway.post(path, data=params, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("number", [OPENAI_NUMBER, NOBODYS_NUMBER])
@pytest.mark.parametrize(
    ("route", "form", "param"),
    [("webhook", _message, "To"), ("status", _status, "From")],
)
async def test_a_tenants_route_refuses_a_number_the_tenant_does_not_own(
    gateway: httpx.AsyncClient,
    catalog: TenantCatalog,
    route: str,
    form: Form,
    param: str,
    number: str,
) -> None:
    response = await _post_signed(gateway, catalog, f"/api/v1/twilio/{route}/{ACME}", form(number))

    assert response.status_code == 403
    assert response.text == f"{param} whatsapp:{number} is not a number of tenant {ACME}"


@pytest.mark.parametrize(
    ("route", "form"), [("webhook", _message), ("status", _status)], ids=["webhook", "status"]
)
async def test_the_shared_route_refuses_a_number_no_tenant_owns(
    gateway: httpx.AsyncClient, catalog: TenantCatalog, route: str, form: Form
) -> None:
    response = await _post_signed(gateway, catalog, f"/api/v1/twilio/{route}", form(NOBODYS_NUMBER))

    assert response.status_code == 404
    assert NOBODYS_NUMBER in response.text


@pytest.mark.parametrize(
    ("route", "form", "accepted"),
    [("webhook", _message, 200), ("status", _status, 204)],
    ids=["webhook", "status"],
)
async def test_a_tenants_own_number_is_accepted_on_both_routes(
    gateway: httpx.AsyncClient, catalog: TenantCatalog, route: str, form: Form, accepted: int
) -> None:
    for path in (f"/api/v1/twilio/{route}", f"/api/v1/twilio/{route}/{ACME}"):
        response = await _post_signed(gateway, catalog, path, form(ACME_NUMBER))

        assert response.status_code == accepted, response.text
