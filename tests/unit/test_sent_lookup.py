"""Which message listed at Twilio is a part handed over without its answer recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wta_runtime.channel.sent_lookup import (
    AttemptedPart,
    ListedMessage,
    find_attempted,
    lookup_since,
)

AT = datetime(2025, 3, 1, 12, 0, 0, 400_000, tzinfo=UTC)
PART = AttemptedPart(
    to="whatsapp:+15550001", from_="whatsapp:+15550002", body="Hi!", media_count=0, attempted_at=AT
)
OURS = ListedMessage(
    sid="SM1",
    status="delivered",
    to="whatsapp:+15550001",
    from_="whatsapp:+15550002",
    body="Hi!",
    num_media=0,
    date_sent=AT + timedelta(seconds=1),
)


def test_the_same_body_to_the_same_contact_from_us_after_the_attempt_is_the_part() -> None:
    assert find_attempted([OURS], PART) == OURS


def test_another_body_contact_sender_or_media_count_is_not() -> None:
    others = [
        replace(OURS, body="Hi"),
        replace(OURS, to="whatsapp:+15559999"),
        replace(OURS, from_="whatsapp:+15559999"),
        replace(OURS, num_media=1),
    ]
    assert all(find_attempted([other], PART) is None for other in others)


def test_media_parts_match_on_their_count_since_twilio_lists_no_urls() -> None:
    part = replace(PART, body="", media_count=1)
    assert find_attempted([replace(OURS, body="", num_media=1)], part) is not None
    assert find_attempted([replace(OURS, body="", num_media=0)], part) is None


def test_a_message_sent_before_the_attempt_beyond_the_clock_margin_is_an_earlier_reply() -> None:
    earlier = replace(OURS, date_sent=AT - timedelta(seconds=30))
    skewed = replace(OURS, date_sent=AT - timedelta(seconds=2))
    assert find_attempted([earlier], PART) is None
    assert find_attempted([skewed], PART) == skewed
    assert lookup_since(AT) == datetime(2025, 3, 1, 11, 59, 55, tzinfo=UTC)


def test_a_message_not_sent_yet_is_still_the_part() -> None:
    queued = replace(OURS, date_sent=None, status="queued")
    assert find_attempted([queued], PART) == queued


def test_a_sid_already_recorded_is_never_adopted_twice() -> None:
    assert find_attempted([OURS], PART, taken={"SM1"}) is None


def test_of_two_identical_messages_the_earliest_is_taken_first() -> None:
    later = replace(OURS, sid="SM2", date_sent=AT + timedelta(seconds=3))
    assert find_attempted([later, OURS], PART) == OURS  # Twilio lists newest first
    assert find_attempted([later, OURS], PART, taken={"SM1"}) == later


def test_a_template_matches_whatever_text_twilio_rendered_but_not_media() -> None:
    template = replace(PART, body=None)
    assert find_attempted([replace(OURS, body="Your order is ready")], template) is not None
    assert find_attempted([replace(OURS, num_media=1)], template) is None


def test_through_a_messaging_service_the_sender_is_any_number_of_its_pool() -> None:
    part = replace(PART, messaging_service_sid="MG1")
    pooled = replace(OURS, from_="whatsapp:+15558888", messaging_service_sid="MG1")
    assert find_attempted([pooled], part) == pooled
    assert find_attempted([replace(pooled, messaging_service_sid="MG2")], part) is None
