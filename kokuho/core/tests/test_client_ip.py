"""The client's address behind the TLS proxy: believed only from a trusted proxy, read from
the right, never what the client wrote itself."""

import pytest
from django.test import RequestFactory

from kokuho.core.client_ip import client_address


@pytest.fixture
def behind_proxy(settings):
    settings.KOKUHO_TRUSTED_PROXIES = ["127.0.0.1", "10.9.0.1"]


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.KOKUHO_TRUSTED_PROXIES = []
    assert client_address(_request("10.0.0.7", "203.0.113.9")) == "10.0.0.7"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("127.0.0.1", "10.0.0.7", "10.0.0.7"),  # the proxy saw the counter
        ("127.0.0.1", "203.0.113.9, 10.0.0.7", "10.0.0.7"),  # a forged hop on the left
        ("127.0.0.1", "10.0.0.7, 10.9.0.1", "10.0.0.7"),  # two proxies of ours
        ("10.0.0.8", "10.0.0.7", "10.0.0.8"),  # not from a proxy: header not believed
        ("127.0.0.1", "not-an-address", "127.0.0.1"),  # unreadable: the proxy itself
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    behind_proxy, remote, forwarded, expected
):
    assert client_address(_request(remote, forwarded)) == expected
