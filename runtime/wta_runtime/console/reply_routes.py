"""Replies staff send from a conversation: text and a file, or the template once the window closed.

They go through the handoff API's own route function: stored, then sent, once per form.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from pydantic import ValidationError

from wta_runtime.console.conversation_routes import Text, back_to, contact_window_open, error_page
from wta_runtime.console.sessions import PostingStaffDep, Staff
from wta_runtime.console.uploads import upload_for_reply
from wta_runtime.console.web import ConsoleDep, ConsoleRoute
from wta_runtime.gateway.routes import handoff
from wta_runtime.gateway.routes.conversations import found
from wta_runtime.gateway.schemas import HumanReplyCreate, storable
from wta_runtime.gateway.state import GatewayDep, GatewayState

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
# The template form's field of each per-send variable: `variable.<name>`.
VARIABLE = "variable."


@router.post("/conversations/{conversation_id}/reply")
async def reply(
    *,
    request: Request,
    staff: PostingStaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    text: Text,
    key: Annotated[str, Form(min_length=1, max_length=64)],
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Send the text (and a file) to the contact on WhatsApp as this staff member.

    A resubmitted form is not sent again.
    """

    async def body() -> HumanReplyCreate:
        media_urls = []
        if file is not None and file.filename:
            media_urls.append(await upload_for_reply(request, console, state, staff, file))
        return HumanReplyCreate(text=text, staff=staff.email, media_urls=media_urls)

    return await _send(request, staff, state, console, conversation_id, key, body)


@router.post("/conversations/{conversation_id}/template")
async def send_template(
    *,
    request: Request,
    staff: PostingStaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    key: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """Send the tenant's template with the values staff filled in (the 24 h window has closed)."""
    template = staff.tenant.spec.template
    form = await request.form()
    values = {
        name.removeprefix(VARIABLE): value
        for name, value in form.multi_items()
        if name.startswith(VARIABLE) and isinstance(value, str)
    }

    async def body() -> HumanReplyCreate:
        async with state.database(staff.tenant).sessions() as session:
            conversation = await found(session, staff.tenant.name, conversation_id)
        if template is None or await contact_window_open(state, staff, console, conversation):
            # The text below would otherwise go to the contact as written.
            raise HTTPException(409, "not sent: the contact wrote within 24 hours; reply with text")
        text = f"[template {template.content_sid}]"
        return HumanReplyCreate(text=text, staff=staff.email, template_variables=values)

    return await _send(request, staff, state, console, conversation_id, key, body)


async def _send(
    request: Request,
    staff: Staff,
    state: GatewayState,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    key: str,
    body: Callable[[], Awaitable[HumanReplyCreate]],
) -> Response:
    """Send through the handoff API's own route; its refusals come back as the page's error."""
    try:
        report = await handoff.send_human_reply(
            tenant=staff.tenant,
            state=state,
            conversation_id=conversation_id,
            body=await body(),
            idempotency_key=storable(key),
        )
    except (ValidationError, ValueError) as exc:
        error = HTTPException(400, f"not sent: {exc}")
        return await error_page(request, staff, state, console, conversation_id, error)
    except HTTPException as exc:
        return await error_page(request, staff, state, console, conversation_id, exc)
    if report.refused_reason:
        error = HTTPException(409, f"not sent: {report.refused_reason}")
        return await error_page(request, staff, state, console, conversation_id, error)
    return back_to(conversation_id)
