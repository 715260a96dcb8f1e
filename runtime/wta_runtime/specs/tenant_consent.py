"""`WhatsAppTenant.spec.consent`: the keywords that opt a contact out and back in, and replies."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from wta_runtime.conversation.consent import (
    DEFAULT_OPT_IN_KEYWORDS,
    DEFAULT_OPT_IN_REPLIES,
    DEFAULT_OPT_OUT_KEYWORDS,
    DEFAULT_OPT_OUT_REPLIES,
    overlapping_keywords,
)
from wta_runtime.specs.common import SpecModel

# One keyword is a short phrase; one confirmation is one WhatsApp message.
Keyword = Annotated[str, Field(min_length=1, max_length=64)]
Reply = Annotated[str, Field(min_length=1, max_length=1600)]


def _copy(keywords: dict[str, list[str]]) -> dict[str, list[str]]:
    return {language: list(words) for language, words in keywords.items()}


class ConsentRules(SpecModel):
    """Opt-out and opt-in by keyword: once opted out, nothing at all is sent to the contact."""

    opt_out_keywords: dict[str, list[Keyword]] = Field(
        default_factory=lambda: _copy(DEFAULT_OPT_OUT_KEYWORDS),
        description=(
            "Per language, keywords that opt the contact out of every message of the tenant "
            "(bot, people, templates) when the whole message is one of them, case and surrounding "
            "punctuation aside."
        ),
    )
    opt_in_keywords: dict[str, list[Keyword]] = Field(
        default_factory=lambda: _copy(DEFAULT_OPT_IN_KEYWORDS),
        description="Per language, keywords that opt an opted-out contact back in.",
    )
    opt_out_replies: dict[str, Reply] = Field(
        default_factory=lambda: dict(DEFAULT_OPT_OUT_REPLIES),
        min_length=1,
        description=(
            "Per language, the one confirmation an opting-out contact gets (in the language of "
            "their keyword, else en, else the first)."
        ),
    )
    opt_in_replies: dict[str, Reply] = Field(
        default_factory=lambda: dict(DEFAULT_OPT_IN_REPLIES),
        min_length=1,
        description="Per language, the confirmation a contact who opts back in gets.",
    )

    @model_validator(mode="after")
    def _keywords_mean_one_thing(self) -> ConsentRules:
        both = overlapping_keywords(self.opt_out_keywords, self.opt_in_keywords)
        if both:
            raise ValueError(
                f"consent keywords {', '.join(both)} are listed to opt out and to opt in: "
                "remove each from one of optOutKeywords and optInKeywords"
            )
        return self
