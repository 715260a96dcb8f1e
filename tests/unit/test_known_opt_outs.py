"""What a worker remembers of its contacts' consent, for the fallback sent without the database."""

from __future__ import annotations

from wta_runtime.worker.known_opt_outs import KnownOptOuts


def test_the_newest_state_seen_for_a_contact_of_a_tenant_counts() -> None:
    known = KnownOptOuts()

    known.saw("acme", "+1555", opted_out=True)
    known.saw("other", "+1666", opted_out=True)
    known.saw("other", "+1666", opted_out=False)

    assert known.opted_out("acme", "+1555")
    assert not known.opted_out("other", "+1555")  # consent is per tenant
    assert not known.opted_out("other", "+1666")  # opted back in
    assert not known.opted_out("acme", "+1777")  # never seen


def test_the_least_recently_seen_contact_is_forgotten_first() -> None:
    known = KnownOptOuts(limit=2)

    known.saw("acme", "+1", opted_out=True)
    known.saw("acme", "+2", opted_out=True)
    known.saw("acme", "+1", opted_out=True)  # seen again: kept
    known.saw("acme", "+3", opted_out=True)

    assert [known.opted_out("acme", c) for c in ("+1", "+2", "+3")] == [True, False, True]
