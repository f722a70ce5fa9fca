"""Reading a URL from the hostile web: address checks, redirects, size and time limits.

``web_fetch`` gets its URLs from the model, which may be steered by a page it read. So
every connection is checked where it is made: the host name is resolved here, every
address it resolves to must be public (or inside ``allow_private_networks``), and the
socket is opened to one of those checked addresses. The check therefore holds for each
redirect hop and against DNS answers that change between a check and the connection
(rebinding). Redirects are followed by hand (cap, loop detection, http(s) only); a body
is streamed and reading stops at the size limit, so a huge page is never held in memory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses`` (a test resolver plays a rebinding DNS server)."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
"""RFC 8215 local-use NAT64: on a network that runs one, it reaches IPv4 (the metadata
service at 169.254.169.254 too) with the address in the last 32 bits."""
_EMBEDDING_96 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
"""IPv4-compatible (deprecated) and IPv4-translated (SIIT) addresses."""
SNIFF_BYTES = 4096
"""Bytes read before deciding what an unlabelled body is."""


class WebError(Exception):
    """A fetch failed; the message is one line for the model and the user."""


class BlockedAddress(WebError):
    """The host resolves to an address web tools may not reach."""


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values]


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv6 one (mapped, NAT64, 6to4, Teredo), else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if (
            ip in _NAT64
            or ip in _LOCAL_NAT64
            or (
                any(ip in net for net in _EMBEDDING_96) and int(ip) > 1  # not :: or ::1
            )
        ):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def address_problem(address: str, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be reached (``"a loopback address"``), or ``None`` if it may."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    inner = _embedded_ipv4(ip)
    for candidate in {ip, inner}:
        if any(candidate.version == net.version and candidate in net for net in allowed):
            return None
    for candidate in (inner, ip):
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_link_local:
            return "a link-local address (where cloud metadata services live)"
        if candidate.is_unspecified:
            return "an unspecified address"
        if isinstance(candidate, ipaddress.IPv6Address) and candidate.is_site_local:
            return "a site-local address (a private network)"
        if candidate.is_multicast:
            return "a multicast address"
        if candidate.is_private or not candidate.is_global:
            return "a private or reserved address"
    return None


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebError(f"cannot resolve host {host!r} ({exc.strerror or exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _guarded_backend(resolve: Resolver, allowed: Sequence[IPNetwork]) -> Any:
    """An httpcore network backend that connects only to checked addresses."""
    from httpcore import AsyncNetworkBackend, AsyncNetworkStream, ConnectError
    from httpcore._backends.auto import AutoBackend

    class GuardedBackend(AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = AutoBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> AsyncNetworkStream:
            addresses = await resolve(host, port)
            if not addresses:
                raise WebError(f"host {host!r} resolves to no address")
            for address in addresses:  # every answer must pass: one bad one is enough
                problem = address_problem(address, allowed)
                if problem:
                    shown = host if host == address else f"{host} ({address})"
                    raise BlockedAddress(
                        f"refused: {shown} is {problem}; web tools only reach public "
                        "internet addresses (a [web] allow_private_networks entry allows one)"
                    )
            last: Exception | None = None
            for address in addresses:
                try:
                    return await self._inner.connect_tcp(
                        address,
                        port,
                        timeout=timeout,
                        local_address=local_address,
                        socket_options=socket_options,
                    )
                except ConnectError as exc:
                    last = exc
            assert last is not None
            raise last

        async def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> AsyncNetworkStream:
            raise WebError("web tools do not connect to local sockets")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    return GuardedBackend()


def guarded_client(
    *,
    allowed: Sequence[IPNetwork] = (),
    timeout_s: float = 20.0,
    user_agent: str = "",
    resolve: Resolver = system_resolve,
) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through the address check.

    It never follows redirects by itself (see :func:`fetch`) and uses no proxy: a proxy
    would resolve names where this check cannot see them.
    """
    import httpcore
    import httpx

    transport = httpx.AsyncHTTPTransport(trust_env=False)
    if not hasattr(transport, "_pool"):  # httpx changed its insides: refuse to run unguarded
        raise RuntimeError("httpx.AsyncHTTPTransport has no _pool; web_fetch cannot guard it")
    ssl_context = httpx.create_ssl_context(trust_env=True)  # SSL_CERT_FILE / SSL_CERT_DIR
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=20,
        max_keepalive_connections=5,
        keepalive_expiry=5.0,
        network_backend=_guarded_backend(resolve, list(allowed)),
    )
    headers = {"User-Agent": user_agent} if user_agent else {}
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        headers=headers,
    )


@dataclass
class Fetched:
    """What a fetch brought back: the final URL, its headers and (part of) its body."""

    url: str
    final_url: str
    status: int
    content_type: str
    """The media type, lower case, without parameters (``""`` when the server sent none)."""
    charset: str | None
    body: bytes
    over_limit: bool = False
    """The body was longer than the limit: only its first ``limit`` bytes are here."""
    declared_length: int | None = None
    redirects: list[str] = field(default_factory=list)


Decide = Callable[[str, bytes | None], str | None]
"""``(media type, first bytes) -> refusal``: called with ``None`` as soon as the headers are
in (refuse by type without reading the body), then once with the first bytes."""


def check_url(url: str) -> str:
    """``url`` stripped, or a :class:`WebError` when it is not an absolute http(s) URL."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise WebError(
            f"only http and https URLs can be fetched (got {parts.scheme or 'no'} scheme "
            f"in {url[:200]!r})"
        )
    if not parts.hostname:
        raise WebError(f"no host in {url[:200]!r}")
    if parts.username or parts.password:
        raise WebError("URLs with a user name or password are not fetched")
    return url


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    max_redirects: int,
    timeout_s: float,
    decide: Decide | None = None,
) -> Fetched:
    """GET ``url`` following up to ``max_redirects`` redirects, reading at most ``max_bytes``.

    ``decide`` sees the media type and the first bytes of the body and may refuse it (a
    PDF, a binary file) before the rest is downloaded. Everything — name resolution,
    redirects, the body — must finish within ``timeout_s``.
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await _fetch(client, check_url(url), max_bytes, max_redirects, decide)
    except TimeoutError:
        raise WebError(
            f"{url[:200]} did not answer in full within {timeout_s:g} s; try again later "
            "or use another source"
        ) from None


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    max_bytes: int,
    max_redirects: int,
    decide: Decide | None,
) -> Fetched:
    import httpx

    current = url
    seen = [url]
    while True:
        try:
            async with client.stream("GET", current) as response:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    target = urljoin(current, location.strip())
                    if target in seen:
                        loop = " → ".join([*seen[seen.index(target) :], target])
                        raise WebError(f"redirect loop: {loop[:400]}")
                    if len(seen) > max_redirects:
                        raise WebError(
                            f"too many redirects (more than {max_redirects}) from {url[:200]}"
                        )
                    if urlsplit(target).scheme.lower() not in ("http", "https"):
                        raise WebError(
                            f"{current[:200]} redirects to {target[:200]}, which is not an "
                            "http(s) URL; not followed"
                        )
                    check_url(target)  # no host, or credentials in it: refused too
                    seen.append(target)
                    current = target
                    continue
                if response.status_code >= 400:
                    reason = response.reason_phrase or ""
                    raise WebError(
                        f"{current[:200]} answered HTTP {response.status_code} {reason}".rstrip()
                    )
                return await _read(response, url, current, seen[1:], max_bytes, decide)
        except BlockedAddress as exc:
            if current != url:
                raise BlockedAddress(f"{exc} (reached by a redirect to {current[:200]})") from None
            raise
        except WebError:
            raise
        except httpx.TimeoutException:
            raise WebError(f"{current[:200]} timed out") from None
        except httpx.HTTPError as exc:
            raise WebError(
                f"could not fetch {current[:200]}: {type(exc).__name__}"
                + (f" ({exc})" if str(exc) else "")
            ) from None


async def _read(
    response: httpx.Response,
    url: str,
    final_url: str,
    redirects: list[str],
    max_bytes: int,
    decide: Decide | None,
) -> Fetched:
    raw_type = response.headers.get("content-type", "")
    media_type = raw_type.split(";", 1)[0].strip().lower()
    charset = response.charset_encoding
    try:
        declared: int | None = int(response.headers.get("content-length", ""))
    except ValueError:
        declared = None
    _refuse_if(decide, media_type, None)
    chunks: list[bytes] = []
    size = 0
    decided = decide is None
    over = False
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if not decided and size >= SNIFF_BYTES:
            decided = True
            _refuse_if(decide, media_type, b"".join(chunks)[:SNIFF_BYTES])
        if size > max_bytes:
            over = True
            break  # leaving the ``stream`` block closes the connection: no more is read
    body = b"".join(chunks)
    if not decided:
        _refuse_if(decide, media_type, body[:SNIFF_BYTES])
    if over:
        body = body[:max_bytes]
    return Fetched(
        url=url,
        final_url=final_url,
        status=response.status_code,
        content_type=media_type,
        charset=charset,
        body=body,
        over_limit=over,
        declared_length=declared,
        redirects=redirects,
    )


def _refuse_if(decide: Decide | None, media_type: str, head: bytes | None) -> None:
    refusal = decide(media_type, head) if decide is not None else None
    if refusal:
        raise WebError(refusal)
