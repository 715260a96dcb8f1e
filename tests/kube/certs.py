"""Certificates and keys for a throwaway API server, made with the openssl command line."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

_DAYS = "2"


@dataclass(frozen=True)
class ClusterCredentials:
    """Files the API server and its clients need, all inside one folder."""

    folder: Path
    token: str

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.folder / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.folder / "apiserver.key"

    @property
    def admin_cert(self) -> Path:
        return self.folder / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.folder / "admin.key"

    @property
    def service_account_key(self) -> Path:
        return self.folder / "sa.key"

    @property
    def service_account_pub(self) -> Path:
        return self.folder / "sa.pub"

    @property
    def token_file(self) -> Path:
        return self.folder / "tokens.csv"


def _openssl(folder: Path, *args: str) -> None:
    done = subprocess.run(
        ["openssl", *args], cwd=folder, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{done.stderr}")


def _signed_cert(folder: Path, name: str, subject: str, extensions: str) -> None:
    """A key and a certificate for `subject`, signed by the CA in `folder`."""
    (folder / f"{name}.ext").write_text(extensions)
    _openssl(folder, "genrsa", "-out", f"{name}.key", "2048")
    _openssl(folder, "req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
    _openssl(
        folder,
        *("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", f"{name}.crt", "-days", _DAYS),
        *("-extfile", f"{name}.ext"),
    )


def make_credentials(folder: Path, extra_ips: tuple[str, ...] = ()) -> ClusterCredentials:
    """A CA, the serving and admin certificates, the service-account keys and an admin token.

    `extra_ips` are more addresses the API server is reached at (a node's side of a veth, the
    `kubernetes` Service's cluster IP).
    """
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        folder,
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key"),
        *("-out", "ca.crt", "-days", _DAYS, "-subj", "/CN=wta-test-ca"),
    )
    _signed_cert(
        folder,
        "apiserver",
        "/CN=kube-apiserver",
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
        + "".join(f",IP:{ip}" for ip in extra_ips)
        + "\nextendedKeyUsage=serverAuth\n",
    )
    _signed_cert(folder, "admin", "/O=system:masters/CN=admin", "extendedKeyUsage=clientAuth\n")
    _openssl(folder, "genrsa", "-out", "sa.key", "2048")
    _openssl(folder, "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")
    token = secrets.token_hex(16)
    credentials = ClusterCredentials(folder, token)
    credentials.token_file.write_text(f"{token},admin,admin,system:masters\n")
    return credentials
