"""Finding at Twilio a part we handed over but never recorded: which listed message it is.

Twilio's Messages API takes no idempotency key. A worker that dies (or times out) after Twilio
accepted a part and before its SID was stored leaves the part `attempted`; whoever delivers it
next lists the messages to that contact since the attempt and adopts the one that matches,
instead of sending it again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Twilio's clock and ours may differ a little, and `DateSent` filters by whole seconds.
CLOCK_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class ListedMessage:
    """The fields of a message in Twilio's Messages list that tell whether it is our part."""

    sid: str
    status: str
    to: str
    from_: str
    body: str
    num_media: int
    date_sent: datetime | None
    messaging_service_sid: str | None = None


@dataclass(frozen=True)
class AttemptedPart:
    """What we handed to Twilio: `body` None for a template (Twilio lists its rendered text)."""

    to: str
    from_: str
    body: str | None
    media_count: int
    attempted_at: datetime
    messaging_service_sid: str | None = None


def lookup_since(attempted_at: datetime) -> datetime:
    """The `DateSent` lower bound of the lookup: the attempt, less the clocks' margin."""
    return (attempted_at - CLOCK_MARGIN).replace(microsecond=0)


def _is_ours(listed: ListedMessage, part: AttemptedPart) -> bool:
    if listed.to != part.to:
        return False
    if listed.from_ != part.from_ and not (
        part.messaging_service_sid and listed.messaging_service_sid == part.messaging_service_sid
    ):
        return False
    if listed.date_sent is not None and listed.date_sent < lookup_since(part.attempted_at):
        return False
    if part.body is not None and listed.body != part.body:
        return False
    return listed.num_media == part.media_count


def find_attempted(
    listed: Iterable[ListedMessage], part: AttemptedPart, *, taken: Collection[str] = ()
) -> ListedMessage | None:
    """The earliest listed message that is `part`, skipping SIDs already recorded (`taken`).

    The thread's lease lets one delivery at a time send to a contact from a number, so a
    message to them, from us, with the same body and media, since the attempt, is that part.
    """
    matches = [m for m in listed if m.sid not in taken and _is_ours(m, part)]
    if not matches:
        return None
    # Twilio lists newest first; the first of several identical parts is the earliest.
    return min(matches, key=lambda m: (m.date_sent is None, m.date_sent or part.attempted_at))
