"""Expiring links to files staff send, for Twilio to fetch without credentials.

The link names the tenant and the file's id, not where it is stored (the tenant says which
database holds the file), and is signed with the tenant's own Twilio auth token: it rotates with
the token and one tenant cannot sign for another.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

LIFETIME = timedelta(hours=1)
PATH = "/console/files"


def _signature(secret: str, file_id: uuid.UUID, expires: int) -> str:
    message = f"{file_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_file_url(
    base_url: str, tenant: str, secret: str, file_id: uuid.UUID, now: datetime
) -> str:
    """The public URL of a tenant's file, valid for LIFETIME from `now`."""
    expires = int((now + LIFETIME).timestamp())
    query = urlencode({"expires": expires, "signature": _signature(secret, file_id, expires)})
    return f"{base_url.rstrip('/')}{PATH}/{tenant}/{file_id}?{query}"


def valid_signature(
    secret: str, file_id: uuid.UUID, expires: int, signature: str, now: datetime
) -> bool:
    """Whether the link was signed with `secret` for this file and has not expired."""
    if now.timestamp() >= expires:
        return False
    return hmac.compare_digest(_signature(secret, file_id, expires), signature)
