"""`/console/conversations`: every conversation of the tenant, filtered, searched, paginated."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from wta_runtime.console.sessions import StaffDep
from wta_runtime.console.web import ConsoleDep, ConsoleRoute, render
from wta_runtime.conversation.lifecycle import State
from wta_runtime.db.conversation_search import ConversationFilter, search_conversations
from wta_runtime.db.staff_accounts import tenant_staff
from wta_runtime.gateway.schemas import StorableStr
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
MAX_PAGE = 10_000
Words = Annotated[StorableStr | None, Query(max_length=200)]


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


@router.get("/conversations")
async def read_conversations(
    *,
    request: Request,
    staff: StaffDep,
    state: GatewayDep,
    console: ConsoleDep,
    status: Annotated[list[State], Query(max_length=len(State))] = [],  # noqa: B006 - copied
    contact: Words = None,
    agent: Words = None,
    since: date | None = None,
    until: date | None = None,
    q: Words = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response:
    """Conversations, most recently active first, narrowed by the filters of the form."""
    last_day = _midnight(until)
    where = ConversationFilter(
        statuses=[s.value for s in status],
        contact=contact or None,
        assigned_to=agent or None,
        since=_midnight(since),
        until=last_day + timedelta(days=1) if last_day else None,
        text=q or None,
    )
    async with state.database(staff.tenant).sessions() as session:
        found = await search_conversations(
            session,
            staff.tenant.name,
            where,
            limit=size + 1,
            offset=(page - 1) * size,
        )
        colleagues = await tenant_staff(session, staff.tenant.name)
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return render(
        console,
        request,
        "conversations.html",
        staff=staff,
        conversations=found[:size],
        page=page,
        more=len(found) > size,
        query=query,
        states=[s.value for s in State],
        chosen=set(where.statuses),
        colleagues=colleagues,
        form={"contact": contact or "", "agent": agent or "", "q": q or ""},
        since=since,
        until=until,
    )
