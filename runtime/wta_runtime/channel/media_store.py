"""Keeps downloaded media in a per-tenant folder, named by content hash, never executable."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

_TENANT = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    key: str


class LocalMediaStore:
    """`<root>/<tenant>/<hash[:2]>/<hash>`: files 0600, folders 0700, no extension, no exec bit."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def _tenant_dir(self, tenant: str) -> Path:
        if not _TENANT.fullmatch(tenant):
            raise ValueError(f"not a tenant name: {tenant!r}")
        return self._root / tenant

    def save(self, tenant: str, content: bytes) -> StoredMedia:
        """Write the content once (same bytes, same file) and return its hash and key."""
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
        return StoredMedia(sha256=digest, key=f"{tenant}/{digest[:2]}/{digest}")

    def path(self, tenant: str, key: str) -> Path:
        """The file of a stored key, only inside the tenant's own folder."""
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._tenant_dir(tenant)):
            raise PermissionError(f"media {key!r} does not belong to tenant {tenant!r}")
        return path

    def read(self, tenant: str, key: str) -> bytes:
        return self.path(tenant, key).read_bytes()
