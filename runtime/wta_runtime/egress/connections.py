"""HTTP clients whose every connection goes only where the egress policy allows.

The check sits where the connection is opened (an httpcore network backend), so it covers the
first request, every redirect and every reconnection alike. The host is resolved once; each of
its addresses is checked, and the connection goes to a checked address, while the URL keeps the
host's name for the Host header, TLS SNI and the certificate check: a name that resolves to a
public address when checked and to a private one afterwards (DNS rebinding) never reaches the
latter. Environment proxies are not used (they would connect on our behalf, unchecked).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import httpcore
import httpx

from wta_runtime.egress.policy import EgressPolicy, EgressRefused

if TYPE_CHECKING:
    import httpx2

Resolve = Callable[[str, int], Awaitable[Sequence[str]]]
Stream = TypeVar("Stream")


class HostUnresolved(OSError):
    """The host's name could not be resolved now."""


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise HostUnresolved(f"host not resolved: {exc}") from None
    return [str(info[4][0]) for info in infos]


async def checked_addresses(
    policy: EgressPolicy, resolve: Resolve, host: str, port: int, timeout: float | None
) -> list[str]:
    """Where a connection to `host:port` may go: its checked addresses, or the name itself
    for a host the platform trusts by name; EgressRefused or HostUnresolved otherwise."""
    if policy.trusts(host, port):
        return [host]
    async with asyncio.timeout(timeout):
        addresses = await resolve(host, port)
    return policy.check(host, addresses)


def check_host_now(policy: EgressPolicy, url: str) -> None:
    """Resolve the URL's host (blocking) and refuse it unless the policy allows every address.

    For clients that connect by themselves (boto3's urllib3): they resolve the name again to
    connect, so this is a check, not a pin; a name that cannot be resolved is left to them.
    """
    parts = httpx.URL(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.host
    if policy.trusts(host, port):
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return
    policy.check(host, [str(info[4][0]) for info in infos])


async def first_connected(
    addresses: Sequence[str], connect: Callable[[str], Awaitable[Stream]], error: type[Exception]
) -> Stream:
    """A connection to the first of `addresses` that accepts one (`error`: a refused connect)."""
    *others, last = addresses
    for address in others:
        try:
            return await connect(address)
        except error:
            continue
    return await connect(last)


def checked_backend(core: ModuleType, policy: EgressPolicy, resolve: Resolve = resolve_host) -> Any:
    """A network backend of `core` (httpcore, or the httpcore2 fork the MCP SDK's httpx2 uses)
    that connects only to addresses the policy allows."""

    class CheckedBackend(core.AsyncNetworkBackend):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            self._inner = core.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> Any:
            try:
                addresses = await checked_addresses(policy, resolve, host, port, timeout)
            except (HostUnresolved, TimeoutError) as exc:
                raise core.ConnectError(str(exc) or "host not resolved in time") from None

            def connect(address: str) -> Awaitable[Any]:
                return self._inner.connect_tcp(  # type: ignore[no-any-return]
                    address, port, timeout, local_address, socket_options
                )

            return await first_connected(addresses, connect, core.ConnectError)

        async def connect_unix_socket(self, path: str, *_: Any, **__: Any) -> Any:
            raise EgressRefused("a unix socket")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    return CheckedBackend()


def egress_client(
    policy: EgressPolicy, *, resolve: Resolve = resolve_host, **options: Any
) -> httpx.AsyncClient:
    """An httpx client (with `options`) whose connections the policy checks."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx takes no network backend; its pool does, and makes every connection with it.
    transport._pool._network_backend = checked_backend(httpcore, policy, resolve)
    return httpx.AsyncClient(transport=transport, trust_env=False, **options)


def egress_client2(policy: EgressPolicy, **options: Any) -> httpx2.AsyncClient:
    """The same, for the `httpx2` fork the MCP SDK uses."""
    import httpcore2
    import httpx2

    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    transport._pool._network_backend = checked_backend(httpcore2, policy)
    return httpx2.AsyncClient(transport=transport, trust_env=False, **options)
