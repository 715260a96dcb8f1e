"""A turn decided by consent: the contact opts out or back in, or is opted out (no model call).

The delivery layer refuses anything for an opted-out contact; here the turn learns it early, so
the model is not even asked, and the one confirmation of a keyword is stored and sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime import metrics
from wta_runtime.catalog import Tenant
from wta_runtime.conversation.consent import OPT_OUT, ConsentKeyword, confirmation, consent_keyword
from wta_runtime.conversation.lifecycle import CLOSED
from wta_runtime.db import conversation_store as store
from wta_runtime.db.consent import lock_contact_consent, opted_out, record_consent
from wta_runtime.db.conversation_store import TurnState
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.thread_leases import ThreadLease, fence
from wta_runtime.worker.known_opt_outs import KnownOptOuts
from wta_runtime.worker.settling import OPTED_OUT, Outcome
from wta_runtime.worker.thread_replies import ReplyDraft, ThreadReplies


def _keywords(tenant: Tenant, batch: Sequence[Message]) -> list[ConsentKeyword]:
    rules = tenant.spec.consent
    found = (
        consent_keyword(m.body, opt_out=rules.opt_out_keywords, opt_in=rules.opt_in_keywords)
        for m in batch
    )
    return [k for k in found if k is not None]


def _changes(keywords: Sequence[ConsentKeyword], opted: bool) -> list[ConsentKeyword]:
    """The keywords that change the state, in order (a second STOP changes nothing)."""
    changes = []
    for keyword in keywords:
        if (keyword.kind == OPT_OUT) != opted:
            opted = not opted
            changes.append(keyword)
    return changes


class ConsentTurns:
    """Settles the bursts that consent decides; leaves every other burst to the bot."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        replies: ThreadReplies,
        clock: Callable[[], datetime],
        known: KnownOptOuts,
    ) -> None:
        self._sessions = sessions
        self._replies = replies
        self._clock = clock
        self._known = known

    async def settle(
        self,
        tenant: Tenant,
        state: TurnState,
        key: str,
        lease: ThreadLease,
    ) -> Outcome | None:
        """The outcome when consent decides the burst (stored, confirmed); None for the bot.

        A reply stored already, or a closed conversation, is the usual turn's to settle.
        """
        conversation, batch = state.conversation, state.batch
        if state.reply_stored or conversation.status in CLOSED:
            return None
        keywords = _keywords(tenant, batch)
        contact = conversation.contact_number
        if not keywords and state.opt_out is None:
            return None  # read with the turn's state: the usual turn asks nothing more
        async with self._sessions.begin() as session:
            await fence(session, lease)
            await lock_contact_consent(session, tenant=tenant.name, contact=contact)
            opted = await opted_out(session, tenant=tenant.name, contact=contact) is not None
            changes = _changes(keywords, opted)
            # Before the commit: a keyword that may not be stored still keeps the fallback away.
            self._known.saw(
                tenant.name, contact, opted_out=changes[-1].kind == OPT_OUT if changes else opted
            )
            if not changes:
                if not opted:
                    return None  # START from a contact who never left: a message for the bot
                await store.mark_answered(session, batch, OPTED_OUT)
                return "opted_out"
            parts = await self._confirm(session, tenant, conversation, batch, key, lease, changes)
        for change in changes:
            (metrics.OPT_OUTS if change.kind == OPT_OUT else metrics.OPT_INS).labels(
                tenant.name
            ).inc()
        report = await self._replies.deliver(tenant, conversation, parts, lease)
        return "replied" if report.sent else "refused"

    async def _confirm(
        self,
        session: AsyncSession,
        tenant: Tenant,
        conversation: Conversation,
        batch: list[Message],
        key: str,
        lease: ThreadLease,
        changes: Sequence[ConsentKeyword],
    ) -> list[Message]:
        """Record each change and store the confirmation of the last one, answering the burst."""
        now = self._clock()
        for change in changes:
            await record_consent(
                session,
                tenant=tenant.name,
                contact=conversation.contact_number,
                kind=change.kind,
                reason=f"keyword {change.keyword} ({change.language})",
                now=now,
                confirmation_key=key if change is changes[-1] else None,
            )
        last = changes[-1]
        rules = tenant.spec.consent
        replies = rules.opt_out_replies if last.kind == OPT_OUT else rules.opt_in_replies
        draft = ReplyDraft(
            conversation=conversation,
            key=key,
            parts=[confirmation(replies, last.language)],
            author="system",
            agent=None,
            provider="consent",
            answers=batch,
            details={"consent": last.kind},
        )
        return await self._replies.store(session, lease, draft)
