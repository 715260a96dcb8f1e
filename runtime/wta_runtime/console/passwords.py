"""Staff passwords: argon2id hashes, checked off the event loop."""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_HASHER = PasswordHasher()


@cache
def _decoy() -> str:
    """Checked when the email is unknown, so a wrong email costs as long as a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class WeakPasswordError(ValueError):
    """A password too short to be accepted."""


def hash_password(password: str) -> str:
    """The argon2id hash of a password of at least MIN_LENGTH characters."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def new_password() -> str:
    """A random password to hand to a new staff member."""
    return secrets.token_urlsafe(18)


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _decoy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed; None (no such account) never matches."""
    return await asyncio.to_thread(_matches, password_hash, password)
