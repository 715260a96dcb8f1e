"""Where downloaded media is kept: the `MediaStore` protocol and its local-folder default.

Every store names content by its SHA-256 under the tenant's own prefix, never executes it, and
refuses a key of another tenant.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_TENANT = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    key: str


class MediaStoreError(Exception):
    """The store cannot be used as configured; the message says what to fix."""


class MediaStoreRefused(MediaStoreError):
    """The bucket's endpoint is not one the platform's egress policy lets us reach."""


class MediaStore(Protocol):
    """Keeps a tenant's media by content hash and gives it back only to that tenant."""

    @property
    def location(self) -> str:
        """Where the media goes, for logs and `wta check-env` (never a credential)."""
        ...

    async def check(self) -> str:
        """What the store looks like when usable; MediaStoreError says why it is not."""
        ...

    async def save(self, tenant: str, content: bytes, content_type: str) -> StoredMedia:
        """Keep the content once (same bytes, same key) and return its hash and key."""
        ...

    async def read(self, tenant: str, key: str) -> bytes:
        """The content of a key this tenant saved; PermissionError for any other key."""
        ...

    async def read_document(self, tenant: str, key: str) -> bytes:
        """An object the tenant put under its own prefix (`<tenant>/<key>`), e.g. a knowledge
        document; FileNotFoundError when there is none."""
        ...

    def close(self) -> None:
        """Release what the store holds (an S3 client's connections)."""
        ...


def checked_tenant(tenant: str) -> str:
    """The tenant name, refused unless it is a plain Kubernetes name (no `/`, no `..`)."""
    if not _TENANT.fullmatch(tenant):
        raise ValueError(f"not a tenant name: {tenant!r}")
    return tenant


def document_key(tenant: str, key: str) -> str:
    """`<tenant>/<key>`, refused when the key would leave the tenant's prefix."""
    parts = key.split("/")
    if not key or key.startswith("/") or ".." in parts or "" in parts:
        raise PermissionError(f"{key!r} is not an object key below the tenant's prefix")
    return f"{checked_tenant(tenant)}/{key}"


def content_key(tenant: str, digest: str) -> str:
    """`<tenant>/<hash[:2]>/<hash>`: the part of every key below the store's root."""
    return f"{checked_tenant(tenant)}/{digest[:2]}/{digest}"


class LocalMediaStore:
    """`<root>/<tenant>/<hash[:2]>/<hash>`: files 0600, folders 0700, no extension, no exec bit.

    The content type is not kept beside the file: the media row has it.
    """

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    @property
    def location(self) -> str:
        return str(self._root)

    async def check(self) -> str:
        # The first folder that exists must let us write: the rest is created on first save.
        existing = next(p for p in (self._root, *self._root.parents) if p.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise MediaStoreError(f"{existing} is not a writable folder")
        return "local folder, writable" if existing == self._root else f"{existing} writable"

    def _tenant_dir(self, tenant: str) -> Path:
        return self._root / checked_tenant(tenant)

    async def save(self, tenant: str, content: bytes, content_type: str = "") -> StoredMedia:
        """Write the content once (same bytes, same file) and return its hash and key."""
        return await asyncio.to_thread(self._save, tenant, content)

    def _save(self, tenant: str, content: bytes) -> StoredMedia:
        digest = hashlib.sha256(content).hexdigest()
        folder = self._tenant_dir(tenant) / digest[:2]
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / digest
        if not target.exists():
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        return StoredMedia(sha256=digest, key=content_key(tenant, digest))

    def path(self, tenant: str, key: str) -> Path:
        """The file of a stored key, only inside the tenant's own folder."""
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._tenant_dir(tenant)):
            raise PermissionError(f"media {key!r} does not belong to tenant {tenant!r}")
        return path

    async def read(self, tenant: str, key: str) -> bytes:
        return await asyncio.to_thread(self.path(tenant, key).read_bytes)

    async def read_document(self, tenant: str, key: str) -> bytes:
        return await asyncio.to_thread(self.path(tenant, document_key(tenant, key)).read_bytes)

    def close(self) -> None:
        """Files hold nothing open between calls."""
