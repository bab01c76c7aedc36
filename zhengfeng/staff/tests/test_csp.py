"""Every page reachable without parameters, for every role and anonymously, carries the strict CSP
and no inline code: no `<script>` or `<style>` without the response's nonce, no `on*=` handler, no
`hx-on` attribute, no `style=` attribute, no `javascript:` URL (core.csp; docs/security.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

from zhengfeng.core.csp import HEADER
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

POLICY = re.compile(
    r"default-src 'self'; script-src 'self' 'nonce-(?P<nonce>[A-Za-z0-9_-]{24})'; "
    r"style-src 'self' 'nonce-(?P=nonce)'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    r"object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# Script types a browser does not run (the API docs page keeps its settings in a JSON block).
DATA_SCRIPT_TYPES = {"application/json"}


def named_urls(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from named_urls(pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
        elif pattern.name:
            yield prefix + pattern.name


def parameterless_paths() -> list[str]:
    paths = set()
    for name in named_urls(get_resolver()):
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            continue  # needs arguments
    return sorted(paths)


class InlineCode(HTMLParser):
    """Collects every piece of inline code a strict CSP would block."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith(("on", "hx-on")) or name == "style":
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")
        inline_script = (
            tag == "script" and "src" not in values and values.get("type") not in DATA_SCRIPT_TYPES
        )
        if inline_script and values.get("nonce") != self.nonce:
            self.found.append("<script> without the nonce")
        if tag == "style" and values.get("nonce") != self.nonce:
            self.found.append("<style> without the nonce")


def inline_code(html: str, nonce: str) -> list[str]:
    parser = InlineCode(nonce)
    parser.feed(html)
    return parser.found


@pytest.fixture
def users(city):
    unit = UnitFactory(code="441800-Z", name="市丙局", division=city)
    people = [
        UserFactory(username=f"csp_{role}", role=role, unit=unit if role != Role.ADMIN else None)
        for role in Role.values
    ]
    people.append(
        UserFactory(username="csp_superuser", role=Role.ADMIN, unit=None, is_staff=True, is_superuser=True)
    )
    return people


def test_the_walk_covers_staff_portal_admin_and_api_docs():
    paths = parameterless_paths()

    for expected in ["/", "/portal/", "/admin/", "/admin/hotline/open311submission/", "/api/v1/docs"]:
        assert expected in paths


def test_the_scanner_finds_each_kind_of_inline_code():
    html = (
        '<script>alert(1)</script><script nonce="n">ok()</script><script src="/s.js"></script>'
        '<script type="application/json">{}</script><style>p{}</style><style nonce="n">p{}</style>'
        '<p style="color:red" onclick="x()" hx-on:click="y()"><a href="javascript:void(0)">a</a></p>'
    )

    assert inline_code(html, "n") == [
        "<script> without the nonce",
        "<style> without the nonce",
        "<p style=…>",
        "<p onclick=…>",
        "<p hx-on:click=…>",
        "<a href=javascript:…>",
    ]


def test_every_page_for_every_role_carries_the_policy_and_no_inline_code(users):
    # A server error is listed with the rest instead of stopping the walk.
    client = Client(raise_request_exception=False)
    paths = parameterless_paths()
    problems: list[str] = []
    visited = 0
    for user in [None, *users]:
        client.logout()
        if user is not None:
            client.force_login(user)
        who = user.username if user else "anonymous"
        for path in paths:
            response = client.get(path)
            visited += 1
            if response.status_code >= 500:
                problems.append(f"{who} {path}: {response.status_code}")
                continue
            match = POLICY.fullmatch(response.get(HEADER, ""))
            if match is None:
                problems.append(f"{who} {path}: {HEADER} {response.get(HEADER)!r}")
                continue
            if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
                problems += [
                    f"{who} {path}: {found}"
                    for found in inline_code(response.content.decode(), match["nonce"])
                ]

    assert "\n".join(problems) == ""
    assert visited == len(paths) * (len(users) + 1)


def test_each_response_gets_a_fresh_nonce(client):
    first, second = client.get("/portal/")[HEADER], client.get("/portal/")[HEADER]

    assert first != second


def test_static_files_answered_by_whitenoise_carry_the_policy_too(client):
    # WhiteNoise answers before the views; the policy's middleware sits above it.
    response = client.get("/static/css/zhengfeng.css")

    assert response.status_code == 200
    assert POLICY.fullmatch(response[HEADER]) is not None
    assert b"".join(response.streaming_content).startswith(b"/*")
