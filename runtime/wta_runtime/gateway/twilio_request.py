"""What every request from Twilio must pass (its tenant found, its signature checked) and how
Twilio is answered, on the lean route that bypasses FastAPI (see routes/twilio.py)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from wta_runtime.catalog import Tenant, UnknownTenantError
from wta_runtime.gateway.public_url import public_url
from wta_runtime.gateway.signature import valid_signature
from wta_runtime.gateway.state import GatewayState
from wta_runtime.gateway.webhook_counts import webhook_outcome
from wta_runtime.gateway.webhook_form import WebhookFormError, read_form

PLAIN_TEXT = b"text/plain; charset=utf-8"


class TwilioRequestRejected(Exception):
    """The request is refused with `status`; `tenant` labels the metric when it is known."""

    def __init__(self, status: int, reason: str, tenant: str = "unknown") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.tenant = tenant


# Every header Twilio's routes read: the form's (read_form), the signature and what rebuilds the
# public URL (public_url). Only these are decoded, the rest (user agent, encodings...) never is.
# ASGI servers lowercase header names, so the raw names are matched as they are.
ROUTE_HEADERS = {
    name.encode("latin-1"): name
    for name in (
        "content-type",
        "content-length",
        "x-twilio-signature",
        "host",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-prefix",
    )
}


@dataclass(frozen=True, slots=True)
class TwilioPost:
    """A post to a Twilio route as ASGI hands it over; the first of repeated headers counts."""

    scope: Scope
    headers: dict[str, str]  # the `ROUTE_HEADERS` it has
    receive: Receive

    @classmethod
    def from_asgi(cls, scope: Scope, receive: Receive) -> TwilioPost:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = ROUTE_HEADERS.get(name)
            if key is not None and key not in headers:
                headers[key] = value.decode("latin-1")
        return cls(scope, headers, receive)


@dataclass(frozen=True)
class SignedTwilioForm:
    """A Twilio post whose tenant is known and whose signature that tenant's token checked."""

    tenant: Tenant
    params: dict[str, str]


async def read_signed_form(
    state: GatewayState, post: TwilioPost, tenant_name: str | None, *, number_param: str
) -> SignedTwilioForm:
    """Read the form, find its tenant (path, else `AccountSid` + `number_param`), check it."""
    try:
        params = await read_form(
            post.headers, post.receive, max_bytes=state.settings.max_webhook_bytes
        )
    except WebhookFormError as exc:
        raise TwilioRequestRejected(exc.status, exc.reason) from None
    tenant = resolve_tenant(state, params, tenant_name, number_param=number_param)
    check_signature(state, post, tenant, params)
    check_business_number(tenant, params, number_param)
    return SignedTwilioForm(tenant, params)


def resolve_tenant(
    state: GatewayState, params: dict[str, str], tenant_name: str | None, *, number_param: str
) -> Tenant:
    """The tenant named in the path, else the one owning `AccountSid` + the business number."""
    try:
        if tenant_name is not None:
            return state.catalog.by_name(tenant_name)
        if not params.get("AccountSid") or not params.get(number_param):
            raise TwilioRequestRejected(
                400, f"AccountSid and {number_param} are needed to find the tenant"
            )
        return state.catalog.by_number(params["AccountSid"], params[number_param])
    except UnknownTenantError as exc:
        raise TwilioRequestRejected(404, str(exc)) from None


def check_signature(
    state: GatewayState, post: TwilioPost, tenant: Tenant, params: dict[str, str]
) -> None:
    """`X-Twilio-Signature` over all parameters, with the tenant's token, on the public URL."""
    signature = post.headers.get("x-twilio-signature")
    if not signature:
        raise TwilioRequestRejected(403, "missing X-Twilio-Signature", tenant.name)
    url = public_url(
        post.scope,
        post.headers,
        base_url=state.settings.public_base_url,
        trust_forwarded=state.settings.trust_forwarded_headers,
    )
    if not valid_signature(url, params, tenant.auth_token.get_secret_value(), signature):
        raise TwilioRequestRejected(403, "invalid X-Twilio-Signature", tenant.name)
    if params.get("AccountSid") and params["AccountSid"] != tenant.account_sid:
        raise TwilioRequestRejected(403, "AccountSid does not belong to this tenant", tenant.name)


def check_business_number(tenant: Tenant, params: dict[str, str], number_param: str) -> None:
    """The business number must be the tenant's own: a tenant's token signs no other number."""
    number = params.get(number_param, "")
    if not number:
        raise TwilioRequestRejected(400, f"missing parameter: {number_param}", tenant.name)
    if number.removeprefix("whatsapp:") not in tenant.numbers:
        raise TwilioRequestRejected(
            403, f"{number_param} {number} is not a number of tenant {tenant.name}", tenant.name
        )


async def answer(
    send: Send, status: int, body: bytes, content_type: bytes | None, *extra: tuple[bytes, bytes]
) -> None:
    """Send a whole response in two ASGI messages (no content headers without a content type)."""
    headers = list(extra)
    if content_type is not None:
        headers += [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def refuse(send: Send, rejected: TwilioRequestRejected, *, outcome_prefix: str) -> None:
    """Count the refusal and answer it; a 503 tells Twilio when to retry."""
    webhook_outcome(rejected.tenant, f"{outcome_prefix}rejected_{rejected.status}").inc()
    retry = ((b"retry-after", b"5"),) if rejected.status == 503 else ()
    await answer(send, rejected.status, rejected.reason.encode(), PLAIN_TEXT, *retry)
