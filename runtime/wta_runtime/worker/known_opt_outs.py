"""The contacts this worker last saw opted out: what a fallback checks when it cannot ask.

Every turn reads the contact's opt-out in force with its state, and a consent keyword changes it;
the worker remembers the contacts it saw opted out (and forgets those it saw opt back in), so the
fallback sent without the database (`worker.dead_letter`) does not reach them either. A bounded
memory of one process: what another replica saw, or this one before a restart, it does not know.
"""

from __future__ import annotations

from collections import OrderedDict

# Contacts remembered at most (the least recently seen go first): a few MB at most.
LIMIT = 100_000


class KnownOptOuts:
    """Per tenant and contact, whether the newest consent this process saw was an opt-out."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._opted_out: OrderedDict[tuple[str, str], None] = OrderedDict()

    def saw(self, tenant: str, contact: str, *, opted_out: bool) -> None:
        """Remember what the database just said about the contact."""
        key = (tenant, contact)
        if not opted_out:
            self._opted_out.pop(key, None)
            return
        self._opted_out[key] = None
        self._opted_out.move_to_end(key)
        if len(self._opted_out) > self._limit:
            self._opted_out.popitem(last=False)

    def opted_out(self, tenant: str, contact: str) -> bool:
        """Whether the contact was opted out when this process last saw them."""
        return (tenant, contact) in self._opted_out
