"""`/console`: the live queue of conversations waiting for a person, and taking one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from wta_runtime.console.audit import audit
from wta_runtime.console.live import live_section
from wta_runtime.console.sessions import PostingStaffDep, StaffDep
from wta_runtime.console.web import ConsoleDep, ConsoleRoute, page_words, render
from wta_runtime.db.conversation_queries import handoff_queue
from wta_runtime.db.staff_accounts import find_staff
from wta_runtime.gateway.routes import handoff
from wta_runtime.gateway.schemas import AssignRequest
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.get("")
async def read_queue(
    *, request: Request, staff: StaffDep, state: GatewayDep, console: ConsoleDep
) -> Response:
    """The queue: unassigned conversations first, then those waiting longest."""
    async with state.database(staff.tenant).sessions() as session:
        queue = await handoff_queue(session, staff.tenant.name)
    return render(console, request, "queue.html", staff=staff, queue=queue)


@router.get("/queue/live")
async def read_queue_live(
    *, request: Request, staff: StaffDep, state: GatewayDep, console: ConsoleDep
) -> StreamingResponse:
    """The queue's rows again each time they change (server-sent events)."""
    rows = console.templates.get_template("queue_rows.html")
    words = page_words(request)

    async def render_rows() -> str:
        async with state.database(staff.tenant).sessions() as session:
            queue = await handoff_queue(session, staff.tenant.name)
        return rows.render(staff=staff, queue=queue, **words)

    return live_section(request, render_rows)


@router.post("/conversations/{conversation_id}/assign")
async def assign(
    *,
    staff: PostingStaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    conversation_id: uuid.UUID,
    to: Annotated[str | None, Form(alias="staff", max_length=254)] = None,
) -> Response:
    """Take a conversation; a supervisor may give it to another staff member of the tenant."""
    assignee = staff.email if not to else to.strip().lower()
    if assignee != staff.email:
        if not staff.supervisor:
            raise HTTPException(403, "only a supervisor assigns conversations to others")
        async with state.database(staff.tenant).sessions() as session:
            if await find_staff(session, staff.tenant.name, assignee) is None:
                raise HTTPException(400, f"{assignee} is not a staff member of this tenant")
    await handoff.assign_conversation(
        tenant=staff.tenant,
        state=state,
        conversation_id=conversation_id,
        body=AssignRequest(staff=assignee),
    )
    await audit(state, console, staff, conversation_id, "assign", assignee)
    return RedirectResponse(f"/console/conversations/{conversation_id}", status_code=303)
