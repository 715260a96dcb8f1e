"""What every request from Twilio must pass: its tenant found, its signature checked."""

from __future__ import annotations

from fastapi import Request
from twilio.request_validator import RequestValidator

from wta_runtime.catalog import Tenant, UnknownTenantError
from wta_runtime.gateway.public_url import public_url
from wta_runtime.gateway.state import GatewayState


class TwilioRequestRejected(Exception):
    """The request is refused with `status`; `tenant` labels the metric when it is known."""

    def __init__(self, status: int, reason: str, tenant: str = "unknown") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.tenant = tenant


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
    state: GatewayState, request: Request, tenant: Tenant, params: dict[str, str]
) -> None:
    """`X-Twilio-Signature` over all parameters, with the tenant's token, on the public URL."""
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise TwilioRequestRejected(403, "missing X-Twilio-Signature", tenant.name)
    url = public_url(
        request,
        base_url=state.settings.public_base_url,
        trust_forwarded=state.settings.trust_forwarded_headers,
    )
    validator = RequestValidator(tenant.auth_token.get_secret_value())
    if not validator.validate(url, params, signature):
        raise TwilioRequestRejected(403, "invalid X-Twilio-Signature", tenant.name)
    if params.get("AccountSid") and params["AccountSid"] != tenant.account_sid:
        raise TwilioRequestRejected(403, "AccountSid does not belong to this tenant", tenant.name)
