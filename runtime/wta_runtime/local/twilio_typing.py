"""The local Twilio server's WhatsApp typing indicator (`POST /v2/Indicators/Typing.json`).

Twilio accepts a typing indicator only for an inbound message it has. This server has the inbound
messages it was told of (`POST /local/Accounts/{AccountSid}/Inbound/{MessageSid}.json`: `wta chat`
and the tests do it before posting the webhook, as the message reaches Twilio first) and refuses
any other SID, an outbound one included, the way Twilio does. The calls it accepted are kept in
order: `app.state.typing_indicators`, and
`GET /local/Accounts/{AccountSid}/Indicators/Typing.json`.

Tests can make Twilio slow to act on the typing indicator of a message
(`app.state.slow_typing`, MessageSid -> seconds): it is shown, and recorded, that much later.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

MESSAGE_ID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
INVALID_SID = 90001  # Twilio's "Message SID is invalid"
# Twilio's answer to a SID it has no inbound message for (twilio/twilio-python#894); the code
# is its generic invalid-parameter one, as the beta documents none of its own.
NOT_INBOUND = (20001, "Unable to create record: invalid or incomplete inbound data in MDR")


@dataclass(frozen=True)
class RecordedTyping:
    """One typing indicator Twilio would have shown: for which account's inbound message, when."""

    account_sid: str
    message_id: str
    at: datetime

    def resource(self) -> dict[str, Any]:
        return {"account_sid": self.account_sid, "message_id": self.message_id, "at": str(self.at)}


def add_typing_routes(
    app: FastAPI,
    *,
    account_of: Callable[[str | None], str],
    error: Callable[[int, int, str], JSONResponse],
) -> None:
    """The typing indicator and its local-only companions; `account_of` checks Basic auth."""
    app.state.typing_indicators = []
    app.state.inbound_messages = {}
    app.state.slow_typing = {}
    recorded: list[RecordedTyping] = app.state.typing_indicators
    inbound: dict[str, str] = app.state.inbound_messages  # MessageSid -> AccountSid
    slow: dict[str, float] = app.state.slow_typing  # MessageSid -> seconds

    @app.post("/v2/Indicators/Typing.json")
    async def create_typing_indicator(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        """Show "typing..." for an inbound WhatsApp message (and mark it read), like Twilio."""
        account_sid = account_of(authorization)
        form = await request.form()
        message_id, channel = str(form.get("messageId", "")), str(form.get("channel", ""))
        if channel != "whatsapp":
            return error(400, 20001, "channel must be whatsapp")
        if not MESSAGE_ID.match(message_id):
            return error(400, INVALID_SID, "Message SID is invalid")
        if inbound.get(message_id) != account_sid:
            return error(400, *NOT_INBOUND)
        if message_id in slow:
            await asyncio.sleep(slow[message_id])
        recorded.append(RecordedTyping(account_sid, message_id, datetime.now(UTC)))
        return JSONResponse({"success": True})

    @app.post("/local/Accounts/{account_sid}/Inbound/{message_sid}.json")
    async def receive_inbound(
        account_sid: str, message_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        """Local only: a contact's message reached Twilio (its webhook is posted separately)."""
        if account_of(authorization) != account_sid:
            raise HTTPException(401, "Authenticate")
        if not MESSAGE_ID.match(message_sid):
            return error(400, INVALID_SID, "Message SID is invalid")
        inbound[message_sid] = account_sid
        return JSONResponse({"sid": message_sid}, status_code=201)

    @app.get("/local/Accounts/{account_sid}/Indicators/Typing.json")
    async def list_typing_indicators(
        account_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Local only: the typing indicators shown for the account's contacts, oldest first."""
        if account_of(authorization) != account_sid:
            raise HTTPException(401, "Authenticate")
        shown = [t.resource() for t in recorded if t.account_sid == account_sid]
        return {"typing_indicators": shown}
