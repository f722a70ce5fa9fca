"""web_fetch never reaches this machine, the local network or cloud metadata (SSRF).

The attacker is the model (or a page that steers it): it hands web_fetch a URL whose host
is, resolves to, or redirects to a non-public address. Every case must be refused in one
line before a connection is made; ``[web] allow_private_networks`` opens exactly what it
lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes.web_site import FakeWeb

from ml_intern_tui.config.schema import AppConfig, WebConfig
from ml_intern_tui.core.tool import SessionState, ToolContext, ToolError, parse_arguments
from ml_intern_tui.integrations.web_http import address_problem, parse_networks
from ml_intern_tui.tools.web_fetch import WebFetchTool


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(
        call_id="c1", session_id="s1", cwd=tmp_path, state=SessionState(), publish=print
    )


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    site = FakeWeb()
    yield site
    site.close()


async def fetch(tool: WebFetchTool, ctx: ToolContext, url: str) -> Any:
    try:
        return await tool.run(parse_arguments(tool, {"url": url}), ctx)
    finally:
        await tool.aclose()


async def refusal(tool: WebFetchTool, ctx: ToolContext, url: str) -> str:
    with pytest.raises(ToolError) as caught:
        await fetch(tool, ctx, url)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.5.6.7", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local address (where cloud metadata"),
        ("fe80::1%eth0", "link-local"),
        ("10.0.0.7", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private or reserved"),  # carrier-grade NAT
        ("fd00::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("192.0.2.1", "private or reserved"),  # documentation range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:7", "private"),  # NAT64 of 10.0.0.7
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("not-an-ip", "not an IP address"),
    ],
)
def test_non_public_addresses_are_named(address: str, problem: str) -> None:
    found = address_problem(address)
    assert found is not None and problem in found


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


def test_allowed_networks_open_exactly_what_they_list() -> None:
    allowed = parse_networks(["10.20.0.0/16", "::1"])
    assert address_problem("10.20.3.4", allowed) is None
    assert address_problem("::1", allowed) is None
    assert address_problem("::ffff:10.20.3.4", allowed) is None
    assert address_problem("10.21.0.1", allowed) is not None
    assert address_problem("127.0.0.1", allowed) is not None


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "0.0.0.0"],
)
async def test_loopback_in_any_spelling_is_refused_by_default(
    ctx: ToolContext, web: FakeWeb, host: str
) -> None:
    message = await refusal(WebFetchTool(WebConfig()), ctx, f"http://{host}:{web.port}/notes.txt")
    assert message.startswith("web_fetch: refused: ")
    assert "address; web tools only reach public internet addresses" in message
    assert "allow_private_networks" in message
    assert web.paths() == []  # nothing reached the server


async def test_the_session_config_switch_allows_the_listed_network(
    ctx: ToolContext, web: FakeWeb
) -> None:
    ctx.services = replace(
        ctx.services, settings=AppConfig(web=WebConfig(allow_private_networks=["127.0.0.0/8"]))
    )
    result = await fetch(WebFetchTool(), ctx, web.url("/notes.txt"))
    assert result.ok and web.paths() == ["/notes.txt"]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/redirect/metadata", "169.254.169.254 is a link-local address"),
        ("/redirect/private", "10.0.0.7 is a private or reserved address"),
    ],
)
async def test_redirects_to_private_addresses_are_refused(
    ctx: ToolContext, web: FakeWeb, path: str, shown: str
) -> None:
    tool = WebFetchTool(WebConfig(allow_private_networks=["127.0.0.1"]))
    message = await refusal(tool, ctx, web.url(path))
    assert message.startswith(f"web_fetch: refused: {shown}")
    assert "(reached by a redirect to http://" in message
    assert web.paths() == [path]


async def test_a_name_resolving_to_a_private_address_is_refused(
    ctx: ToolContext, web: FakeWeb
) -> None:
    """A public-looking name whose DNS answer is private (rebinding) never gets a connection."""
    answers = {"docs.example.com": ["127.0.0.1"], "mixed.example.com": ["8.8.8.8", "10.1.2.3"]}
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[host]

    message = await refusal(
        WebFetchTool(WebConfig(), resolve=resolve), ctx, f"http://docs.example.com:{web.port}/"
    )
    assert message.startswith(
        "web_fetch: refused: docs.example.com (127.0.0.1) is a loopback address"
    )
    # One bad answer among good ones is enough: no connection to any of them.
    message = await refusal(
        WebFetchTool(WebConfig(), resolve=resolve), ctx, "http://mixed.example.com/"
    )
    assert "mixed.example.com (10.1.2.3) is a private or reserved address" in message
    assert asked == ["docs.example.com", "mixed.example.com"] and web.paths() == []


async def test_the_checked_address_is_the_one_connected_to(ctx: ToolContext, web: FakeWeb) -> None:
    """The connection goes to the address that passed the check, with the name as Host."""

    async def resolve(host: str, port: int) -> list[str]:
        assert host == "docs.example.com"
        return ["127.0.0.1"]

    tool = WebFetchTool(WebConfig(allow_private_networks=["127.0.0.1"]), resolve=resolve)
    result = await fetch(tool, ctx, f"http://docs.example.com:{web.port}/notes.txt")
    assert result.ok and "line one" in result.output
    request = web.server.calls("GET", "/notes.txt")[0]
    assert request.headers["host"] == f"docs.example.com:{web.port}"


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (cert file, key file)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_https_still_checks_the_certificate_against_the_name(
    ctx: ToolContext, web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connecting to the checked address must not weaken TLS: the certificate is verified
    for the host name in the URL, not for the address."""
    import ssl

    cert_file, key_file = _certificate(tmp_path, "docs.example.com")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    listener = web.server._server
    listener.socket = server_tls.wrap_socket(listener.socket, server_side=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the client trusts only this cert

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    config = WebConfig(allow_private_networks=["127.0.0.1"], timeout_s=5)
    good = await fetch(
        WebFetchTool(config, resolve=resolve), ctx, f"https://docs.example.com:{web.port}/notes.txt"
    )
    assert good.ok and "line one" in good.output
    # Another name on the same address: the certificate does not match, the fetch fails.
    message = await refusal(
        WebFetchTool(config, resolve=resolve), ctx, f"https://other.example.com:{web.port}/x"
    )
    assert message.startswith("web_fetch: could not fetch https://other.example.com")
    assert "CERTIFICATE_VERIFY_FAILED" in message and "Hostname mismatch" in message
    assert web.paths() == ["/notes.txt"]
