"""`/console/conversations/{id}`: the whole thread, live, and what a person does with it.

Every action goes through the handoff API's own route functions: what the console sends is
stored and sent exactly as an API call would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from wta_runtime.console.audit import audit
from wta_runtime.console.live import live_section
from wta_runtime.console.sessions import PostingStaffDep, Staff, StaffDep
from wta_runtime.console.web import ConsoleDep, ConsoleRoute, page_words, render
from wta_runtime.conversation.window import window_open
from wta_runtime.db.consent import opted_out
from wta_runtime.db.console_media import media_of_messages
from wta_runtime.db.contacts import last_inbound_at
from wta_runtime.db.conversation_queries import conversation_history, conversation_messages
from wta_runtime.db.staff_accounts import (
    add_note,
    conversation_actions,
    conversation_notes,
    tenant_staff,
)
from wta_runtime.db.tables import Conversation, MediaItem, Message
from wta_runtime.gateway.routes import handoff
from wta_runtime.gateway.routes.conversations import found
from wta_runtime.gateway.schemas import storable
from wta_runtime.gateway.state import GatewayDep, GatewayState

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Text = Annotated[str, Form(min_length=1, max_length=4096)]


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    at: datetime
    row: Any


def author_of(message: Message, translate: Callable[[str], str]) -> str:
    """Who wrote a message, as staff call them, in the page's language."""
    if message.direction == "inbound":
        return translate("contact")
    if message.author == "support":
        return f"{message.details.get('staff') or 'support'} ({translate('person')})"
    return f"{translate('bot')} ({message.agent})" if message.agent else message.author


async def _thread(state: GatewayState, staff: Staff, conversation_id: uuid.UUID) -> dict[str, Any]:
    async with state.database(staff.tenant).sessions() as session:
        conversation = await found(session, staff.tenant.name, conversation_id)
        messages = await conversation_messages(session, conversation_id)
        notes = await conversation_notes(session, staff.tenant.name, conversation_id)
        actions = await conversation_actions(session, staff.tenant.name, conversation_id)
        moves = await conversation_history(session, conversation_id)
        media = await media_of_messages(session, staff.tenant.name, [m.id for m in messages])
    timeline = sorted(
        [TimelineItem("message", m.created_at, m) for m in messages]
        + [TimelineItem("note", n.created_at, n) for n in notes]
        + [TimelineItem("state", s.changed_at, s) for s in moves]
        + [TimelineItem("action", a.created_at, a) for a in actions],
        key=lambda item: item.at,
    )
    attachments: dict[uuid.UUID, list[MediaItem]] = {}
    for item in media:
        attachments.setdefault(item.message_id, []).append(item)
    return {
        "conversation": conversation,
        "timeline": timeline,
        "author_of": author_of,
        "attachments": attachments,
    }


async def contact_window_open(
    state: GatewayState, staff: Staff, console: ConsoleDep, conversation: Conversation
) -> bool:
    """The rule delivery applies: the contact's last message to this number, any conversation."""
    async with state.database(staff.tenant).sessions() as session:
        last_inbound = await last_inbound_at(
            session,
            tenant=staff.tenant.name,
            business=conversation.business_number,
            contact=conversation.contact_number,
        )
    return window_open(last_inbound, console.clock())


async def _page(
    request: Request,
    staff: Staff,
    state: GatewayState,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    thread = await _thread(state, staff, conversation_id)
    async with state.database(staff.tenant).sessions() as session:
        colleagues = await tenant_staff(session, staff.tenant.name) if staff.supervisor else []
        opt_out = await opted_out(
            session, tenant=staff.tenant.name, contact=thread["conversation"].contact_number
        )
    return render(
        console,
        request,
        "conversation.html",
        status_code,
        staff=staff,
        error=error,
        colleagues=colleagues,
        window_open=await contact_window_open(state, staff, console, thread["conversation"]),
        opt_out=opt_out,
        template=staff.tenant.spec.template,
        reply_key=uuid.uuid4().hex,
        **thread,
    )


@router.get("/conversations/{conversation_id}")
async def read_conversation(
    *,
    request: Request,
    staff: StaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
) -> Response:
    """The whole conversation: messages with their ticks, notes and state changes."""
    return await _page(request, staff, state, console, conversation_id)


@router.get("/conversations/{conversation_id}/live")
async def read_conversation_live(
    *,
    request: Request,
    staff: StaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
) -> StreamingResponse:
    """The thread again each time it changes (server-sent events)."""
    await _thread(state, staff, conversation_id)
    fragment = console.templates.get_template("thread.html")

    words = page_words(request)

    async def render_thread() -> str:
        return fragment.render(**words, **await _thread(state, staff, conversation_id))

    return live_section(request, render_thread)


def back_to(conversation_id: uuid.UUID) -> Response:
    return RedirectResponse(f"/console/conversations/{conversation_id}", status_code=303)


async def error_page(
    request: Request,
    staff: Staff,
    state: GatewayState,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    exc: HTTPException,
) -> Response:
    if exc.status_code == 404:
        raise exc
    return await _page(
        request,
        staff,
        state,
        console,
        conversation_id,
        error=exc.detail,
        status_code=exc.status_code,
    )


@router.post("/conversations/{conversation_id}/note")
async def note(
    *,
    staff: PostingStaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    text: Text,
) -> Response:
    """Leave a note for colleagues; it is never sent to the contact."""
    try:
        body = storable(text)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    async with state.database(staff.tenant).sessions.begin() as session:
        await found(session, staff.tenant.name, conversation_id)
        await add_note(
            session,
            tenant=staff.tenant.name,
            conversation_id=conversation_id,
            author=staff.email,
            body=body,
            now=console.clock(),
        )
    return back_to(conversation_id)


# The console's name of each lifecycle move and the handoff API route that makes it.
MOVES = {"release": handoff.release_to_bot, "close": handoff.close_conversation}


@router.post("/conversations/{conversation_id}/{move}")
async def move_conversation(
    *,
    request: Request,
    staff: PostingStaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    move: Literal["release", "close"],
) -> Response:
    """Release the conversation to the bot, or close it as support_closed."""
    try:
        await MOVES[move](tenant=staff.tenant, state=state, conversation_id=conversation_id)
    except HTTPException as exc:
        return await error_page(request, staff, state, console, conversation_id, exc)
    await audit(state, console, staff, conversation_id, move)
    return RedirectResponse("/console", status_code=303)
