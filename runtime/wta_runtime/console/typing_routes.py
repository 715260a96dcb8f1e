"""`/console/conversations/{id}/typing`: the contact sees "typing..." while a person writes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from wta_runtime.console.sessions import PostingStaffDep
from wta_runtime.console.web import ConsoleRoute
from wta_runtime.db.conversation_queries import newest_inbound
from wta_runtime.gateway.routes.handoff import may_be_written_to, with_a_person
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.post("/conversations/{conversation_id}/typing")
async def show_typing(
    *, staff: PostingStaffDep, state: GatewayDep, conversation_id: uuid.UUID
) -> dict[str, bool]:
    """Show the contact that a person is typing (the reply box calls it, at most every 10 s).

    409 when a person could not reply (not with a person, or the contact opted out); `shown` is
    false when the tenant has the typing indicator off or Twilio did not show it.
    """
    conversation = await with_a_person(state, staff.tenant, conversation_id)
    await may_be_written_to(state, staff.tenant, conversation)
    async with state.database(staff.tenant).sessions() as session:
        message = await newest_inbound(session, conversation_id)
    if message is None:
        return {"shown": False}
    return {"shown": await state.typing.show(staff.tenant, message.idempotency_key)}
