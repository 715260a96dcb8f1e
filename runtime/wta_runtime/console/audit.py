"""Writes down which staff member assigned, released or closed a conversation."""

from __future__ import annotations

import uuid

from wta_runtime.console.sessions import Staff
from wta_runtime.console.web import ConsoleState
from wta_runtime.db.staff_accounts import record_action
from wta_runtime.gateway.state import GatewayState


async def audit(
    state: GatewayState,
    console: ConsoleState,
    staff: Staff,
    conversation_id: uuid.UUID,
    action: str,
    detail: str | None = None,
) -> None:
    """Record that `staff` did `action` (after it succeeded)."""
    async with state.database(staff.tenant).sessions.begin() as session:
        await record_action(
            session,
            tenant=staff.tenant.name,
            conversation_id=conversation_id,
            staff=staff.email,
            action=action,
            detail=detail,
            now=console.clock(),
        )
