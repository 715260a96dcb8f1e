"""Which language a console page speaks: a chosen one (cookie), else Accept-Language."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response

from wta_runtime.console.translations import PT_BR

LANGUAGE_COOKIE = "wta_console_lang"
ENGLISH, PORTUGUESE = "en", "pt-BR"
CATALOGS: dict[str, dict[str, str]] = {ENGLISH: {}, PORTUGUESE: PT_BR}


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, preferred first."""
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    return [tag for *_, tag in sorted(ranked)]


def supported(tag: str | None) -> str | None:
    """The console's language for a tag (any Portuguese is pt-BR); None if it has none."""
    if not tag:
        return None
    tag = tag.lower()
    if tag.startswith("pt"):
        return PORTUGUESE
    if tag.startswith("en"):
        return ENGLISH
    return None


def language_of(request: Request) -> str:
    """`?lang=`, else the chosen language, else the browser's first we speak, else English."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if supported(chosen):
            return supported(chosen) or ENGLISH
    for tag in _accepted(request.headers.get("accept-language", "")):
        if supported(tag):
            return supported(tag) or ENGLISH
    return ENGLISH


def translator(language: str) -> Callable[[str], str]:
    catalog = CATALOGS[language]
    return lambda text: catalog.get(text, text)


def remember_choice(request: Request, response: Response) -> None:
    """Keep a language picked with `?lang=` for the next pages."""
    chosen = supported(request.query_params.get("lang"))
    if chosen:
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, path="/console", httponly=True, samesite="strict"
        )
