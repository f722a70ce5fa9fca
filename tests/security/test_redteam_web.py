"""Red team: addresses that hide a private IPv4 address in an IPv6 spelling.

``web_fetch`` checks every address a host resolves to. Mapped, well-known NAT64, 6to4
and Teredo addresses were unwrapped; the local-use NAT64 prefix (RFC 8215), which on a
network running one reaches IPv4 -- the cloud metadata service too --, the deprecated
IPv4-compatible and the IPv4-translated (SIIT) forms, and IPv6 site-local addresses
passed as public. A DNS name answering with one of them reached what it named.
"""

from __future__ import annotations

import pytest

from ml_intern_tui.integrations.web_http import address_problem


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("64:ff9b:1::a9fe:a9fe", "link-local"),  # local-use NAT64 of 169.254.169.254
        ("64:ff9b:1::7f00:1", "loopback"),
        ("64:ff9b:1::a00:1", "private"),  # 10.0.0.1
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("::a9fe:a9fe", "link-local"),
        ("::ffff:0:7f00:1", "loopback"),  # IPv4-translated (SIIT)
        ("::ffff:0:c0a8:1", "private"),  # 192.168.0.1
        ("fec0::1", "site-local"),
    ],
)
def test_ipv4_hidden_in_ipv6_is_refused(address: str, problem: str) -> None:
    found = address_problem(address)
    assert found is not None and problem in found, (address, found)


@pytest.mark.parametrize("address", ["64:ff9b:1::808:808", "::8.8.8.8", "2606:4700::1111", "::1"])
def test_public_ones_pass_and_plain_loopback_is_still_loopback(address: str) -> None:
    found = address_problem(address)
    if address == "::1":
        assert found == "a loopback address"
    else:
        assert found is None
