"""`/console/login`, `/console/logout` and the console's own static files."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from wta_runtime.console.passwords import password_matches
from wta_runtime.console.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    PostingStaffDep,
    client_address,
    login_token,
    read_session_cookie,
    session_cookie,
    set_cookie,
)
from wta_runtime.console.web import HERE, ConsoleDep, ConsoleRoute, render
from wta_runtime.db.staff_accounts import close_session, find_staff, open_session
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
SESSION_LIFETIME = timedelta(hours=12)


def _login_page(
    console: ConsoleDep,
    request: Request,
    state: GatewayDep,
    *,
    error: str | None = None,
    status_code: int = 200,
    tenant: str = "",
    email: str = "",
) -> Response:
    token = login_token(request)
    response = render(
        console,
        request,
        "login.html",
        status_code,
        login_token=token,
        error=error,
        tenant=tenant,
        email=email,
        staff=None,
    )
    set_cookie(response, request, state, LOGIN_COOKIE, token)
    return response


@router.get("/login")
async def read_login(*, request: Request, console: ConsoleDep, state: GatewayDep) -> Response:
    """The login form."""
    return _login_page(console, request, state)


@router.post("/login")
async def login(
    *,
    request: Request,
    console: ConsoleDep,
    state: GatewayDep,
    tenant: Annotated[str, Form(max_length=253)],
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    """Check the password; on success open a session and go to the queue."""
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    email = email.strip().lower()
    account = f"{tenant}/{email}"
    address = client_address(request, state)
    again = {"tenant": tenant, "email": email}
    if not console.limiter.allows(account, address):
        error = "Too many failed attempts: wait 15 minutes and try again."
        return _login_page(console, request, state, error=error, status_code=429, **again)
    served = state.catalog.tenants.get(tenant)
    member = None
    if served is not None:
        async with state.database(served).sessions() as session:
            member = await find_staff(session, tenant, email)
    # An unknown tenant costs the same hash as a wrong password: the time tells nothing.
    if not await password_matches(member.password_hash if member else None, password):
        console.limiter.failed(account, address)
        error = "Wrong tenant, email or password."
        return _login_page(console, request, state, error=error, status_code=401, **again)
    assert member is not None
    assert served is not None
    console.limiter.succeeded(account)
    async with state.database(served).sessions.begin() as session:
        token = await open_session(
            session,
            staff_id=member.id,
            now=console.clock(),
            lifetime=SESSION_LIFETIME,
        )
    response = RedirectResponse("/console", status_code=303)
    set_cookie(response, request, state, SESSION_COOKIE, session_cookie(tenant, token))
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(*, request: Request, staff: PostingStaffDep, state: GatewayDep) -> Response:
    """End this browser's session."""
    cookie = read_session_cookie(request)
    async with state.database(staff.tenant).sessions.begin() as session:
        await close_session(session, cookie[1] if cookie else "")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/static/{name}")
async def read_static(*, name: str) -> Response:
    """The console's script and style sheet (its only static files)."""
    if name not in STATIC:
        raise HTTPException(404, "no such file")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])
