"""What a contact handed to a person after hours is told, in their language, and what the model is
told: when people are back, written the way each language writes a day and a time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from wta_runtime.conversation.business_hours import AfterHours

_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_PT_DAYS = (
    "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
    "sábado", "domingo",
)  # fmt: skip
_PT_MONTHS = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip
_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip

# Hours whose holidays cover the whole horizon have no opening to name.
_NO_OPENING: dict[str, str] = {
    "en": "Our team is away right now. Your conversation is in the queue for a person.",
    "pt": "Nossa equipe não está disponível agora. Sua conversa está na fila para uma pessoa.",
    "es": "Nuestro equipo no está disponible ahora. Tu conversación está en la cola.",
}


def _primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def language_key(available: Mapping[str, str], language: str | None) -> str:
    """The key of `available` for `language`: the same tag, else the same language (pt for
    pt-BR), else English, else the first."""
    if language:
        for key in available:
            if key.lower() == language.lower():
                return key
        for key in available:
            if _primary(key) == _primary(language):
                return key
    for key in available:
        if _primary(key) == "en":
            return key
    return next(iter(available))


def day_and_time(language: str, at: datetime) -> tuple[str, str]:
    """`at` as a day and a time of `language`: ("Friday, December 25", "9:00 AM") in English,
    ("sexta-feira, 25 de dezembro", "09:00") in Portuguese, ("viernes 25 de diciembre", "09:00")
    in Spanish."""
    primary = _primary(language)
    if primary == "pt":
        day = f"{_PT_DAYS[at.weekday()]}, {at.day} de {_PT_MONTHS[at.month - 1]}"
        return day, at.strftime("%H:%M")
    if primary == "es":
        return f"{_ES_DAYS[at.weekday()]} {at.day} de {_ES_MONTHS[at.month - 1]}", at.strftime(
            "%H:%M"
        )
    hour = at.hour % 12 or 12
    day = f"{_EN_DAYS[at.weekday()]}, {_EN_MONTHS[at.month - 1]} {at.day}"
    return day, f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def contact_notice(messages: Mapping[str, str], language: str | None, away: AfterHours) -> str:
    """The tenant's after-hours message in the contact's language, with the next opening."""
    key = language_key(messages, language)
    if away.back_at is None:
        return _NO_OPENING.get(_primary(key), _NO_OPENING["en"])
    day, clock = day_and_time(key, away.back_at)
    return messages[key].replace("{day}", day).replace("{time}", clock)


def model_note(away: AfterHours, notice: str) -> str:
    """What the handoff tool tells the model after hours, so it keeps helping meanwhile."""
    if away.back_at is None:
        back = "no opening is planned yet"
    else:
        back = f"people are back at {away.back_at.strftime('%A %Y-%m-%d %H:%M')} ({away.time_zone})"
    return (
        f"It is outside business hours: nobody from the team is there now. The conversation "
        f"waits in the queue, marked after-hours; {back}. Tell the customer, in their language, "
        f'for example: "{notice}" Meanwhile keep helping with what you can.'
    )
