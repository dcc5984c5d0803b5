"""The instance domain: the issuer's host without port, the suffix of generated org domains."""

from __future__ import annotations

import pytest

from bergfried.domain.instance import instance_domain


@pytest.mark.parametrize(
    ("external_url", "expected"),
    [
        ("http://localhost:8080", "localhost"),
        ("https://auth.example.com", "auth.example.com"),
        ("https://Auth.Example.COM:8443/base/path", "auth.example.com"),
        ("http://127.0.0.1:9000", "127.0.0.1"),
        ("http://[::1]:8080", "::1"),
    ],
)
def test_instance_domain_is_the_lower_case_host_without_port(external_url: str, expected: str) -> None:
    assert instance_domain(external_url) == expected


def test_instance_domain_falls_back_to_localhost_without_a_host() -> None:
    assert instance_domain("") == "localhost"
