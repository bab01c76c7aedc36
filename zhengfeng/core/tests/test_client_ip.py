"""core.http.client_ip: REMOTE_ADDR unless the peer is a trusted proxy, then the right-most untrusted hop."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config.settings import env_networks
from zhengfeng.core.http import client_ip

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.1/32")]


def ip(remote: str, forwarded: str | None = None) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(request)


@pytest.fixture(autouse=True)
def _proxies(settings):
    settings.TRUSTED_PROXIES = PROXIES


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # A direct client: its header is its own word and is ignored.
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),
        ("203.0.113.5", None, "203.0.113.5"),
        # Through our proxy: the address it saw.
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
        # The client wrote a forged hop first; our proxy appended the real one.
        ("10.0.0.2", "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        # Two of our proxies in a row.
        ("10.0.0.2", "1.2.3.4, 203.0.113.5, 192.0.2.1", "203.0.113.5"),
        # Only proxies: the left-most of them.
        ("10.0.0.2", "10.1.1.1", "10.1.1.1"),
        # No header: the proxy itself.
        ("10.0.0.2", None, "10.0.0.2"),
        # An unreadable hop stops the walk at the last proxy that wrote a good one.
        ("10.0.0.2", "203.0.113.5, garbage", "10.0.0.2"),
        ("10.0.0.2", "garbage, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", " 2001:db8::1 ", "2001:db8::1"),
        ("", None, "unknown"),
    ],
)
def test_client_address(remote, forwarded, expected):
    assert ip(remote, forwarded) == expected


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []

    assert ip("10.0.0.2", "203.0.113.5") == "10.0.0.2"


def test_the_setting_parses_addresses_and_blocks_and_names_a_bad_one(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12")
    assert env_networks("TRUSTED_PROXIES", "") == [
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("172.16.0.0/12"),
    ]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1,proxy.local")
    with pytest.raises(
        ImproperlyConfigured, match=r"TRUSTED_PROXIES: 'proxy\.local' 不是有效的 IP 地址或网段"
    ):
        env_networks("TRUSTED_PROXIES", "")
