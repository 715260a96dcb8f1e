"""Who is logged in: the session cookie, CSRF tokens, and the tenant a staff member works for."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from wta_runtime.catalog import Tenant, UnknownTenantError
from wta_runtime.console.web import ConsoleDep
from wta_runtime.db.staff_accounts import signed_in
from wta_runtime.db.staff_tables import StaffMember
from wta_runtime.gateway.public_url import public_url
from wta_runtime.gateway.state import GatewayDep, GatewayState

SESSION_COOKIE = "wta_console"
LOGIN_COOKIE = "wta_console_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOGIN_PAGE = "/console/login"


@dataclass(frozen=True)
class Staff:
    """A logged-in staff member, the tenant they work for and their session's CSRF token."""

    member: StaffMember
    tenant: Tenant
    csrf_token: str

    @property
    def email(self) -> str:
        return self.member.email

    @property
    def supervisor(self) -> bool:
        return self.member.role == "supervisor"


def public_origin(request: Request, state: GatewayState) -> str:
    """Where the outside world reaches the gateway: the configured base, else as the proxy says."""
    settings = state.settings
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    url = public_url(
        request.scope,
        request.headers,
        base_url=None,
        trust_forwarded=settings.trust_forwarded_headers,
    )
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def client_address(request: Request, state: GatewayState) -> str:
    """The browser's address: behind a trusted proxy the first `X-Forwarded-For` hop, so one
    attacker's failed logins do not lock out everyone who comes through the same proxy."""
    forwarded = request.headers.get("x-forwarded-for", "")
    if state.settings.trust_forwarded_headers and forwarded.strip():
        return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else "unknown"


def over_https(request: Request, state: GatewayState) -> bool:
    """Whether the browser reached us over https (directly, or through a proxy that says so)."""
    return public_origin(request, state).startswith("https://")


def set_cookie(
    response: Response, request: Request, state: GatewayState, name: str, value: str
) -> None:
    response.set_cookie(
        name,
        value,
        path="/console",
        httponly=True,
        secure=over_https(request, state),
        samesite="strict",
    )


def session_cookie(tenant: str, token: str) -> str:
    """The cookie names the tenant: its database is where the session is looked up."""
    return f"{tenant}.{token}"


def read_session_cookie(request: Request) -> tuple[str, str] | None:
    """The tenant and session token of the browser's cookie, if it has one."""
    tenant, _, token = request.cookies.get(SESSION_COOKIE, "").partition(".")
    return (tenant, token) if tenant and token else None


def login_token(request: Request) -> str:
    """The pre-login CSRF token of this browser (double-submitted: cookie and form)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


async def current_staff(request: Request, state: GatewayDep, console: ConsoleDep) -> Staff:
    """The staff member of the session cookie; anyone else is sent to the login page."""
    cookie = read_session_cookie(request)
    found = tenant = None
    if cookie is not None:
        name, token = cookie
        try:
            tenant = state.catalog.by_name(name)
        except UnknownTenantError:
            raise HTTPException(404, "this tenant is not served here") from None
        async with state.database(tenant).sessions() as session:
            found = await signed_in(session, token, console.clock())
    # Where tenants share a database, a session of another tenant is no session of this one.
    if found is None or tenant is None or found.staff.tenant != tenant.name:
        raise HTTPException(303, "log in first", {"Location": LOGIN_PAGE})
    return Staff(found.staff, tenant, found.csrf_token)


StaffDep = Annotated[Staff, Depends(current_staff)]


async def posting_staff(request: Request, staff: StaffDep) -> Staff:
    """The staff member of a state-changing request that carries their session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not secrets.compare_digest(sent, staff.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return staff


PostingStaffDep = Annotated[Staff, Depends(posting_staff)]
