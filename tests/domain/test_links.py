from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosspromo.domain.links import (
    BASE62,
    CLICK_ID_LENGTH,
    CLICK_TIME_LENGTH,
    check_custom_slug,
    host_allowed,
    is_bot,
    new_click_id,
    new_code,
    normalize_domain,
    tagged_destination,
    with_click_id,
)
from crosspromo.errors import InvalidInputError

ALLOWED = frozenset({"shop.example"})


def test_utm_tags_added_without_clobbering() -> None:
    url = tagged_destination(
        "https://www.shop.example/p?a=1&utm_source=newsletter&b=2#reviews",
        ALLOWED,
        source="beans",
        campaign="spring sale",
    )
    parts = urlsplit(url)
    assert parts.fragment == "reviews"
    assert parse_qsl(parts.query) == [
        ("a", "1"),
        ("utm_source", "newsletter"),
        ("b", "2"),
        ("utm_medium", "partner"),
        ("utm_campaign", "spring sale"),
    ]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("shop.example", True),
        ("www.shop.example", True),
        ("SHOP.EXAMPLE.", True),
        ("evilshop.example", False),
        ("shop.example.evil.test", False),
        ("example", False),
    ],
)
def test_allow_list_matches_domain_and_subdomains(host: str, allowed: bool) -> None:
    assert host_allowed(host, ALLOWED) is allowed


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://evil.test/", "not on this organization's allow-list"),
        ("javascript:alert(1)", "http(s) URL"),
        ("ftp://shop.example/x", "http(s) URL"),
        ("//shop.example/x", "http(s) URL"),
        ("https://user:pw@shop.example/", "credentials"),
        ("https://shop.example@evil.test/", "credentials"),
        # finding 8: urlsplit sees a subdomain of shop.example, a browser goes to evil.test
        ("https://evil.test\\.shop.example/", "backslashes"),
        ("https://evil.test\\@shop.example/", "backslashes"),
        ("https://shop.example\t.evil.test/", "control characters"),
        ("https://shop.example\n/", "control characters"),
        ("https://evil.test%2fshop.example/", "allow-list"),
        ("https://sh%6fp.example/", "allow-list"),
    ],
)
def test_unsafe_destinations_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        tagged_destination(url, ALLOWED, source="beans")


def test_click_id_appended_before_fragment() -> None:
    assert with_click_id("https://s.example/p", "abc") == "https://s.example/p?cp_click=abc"
    assert (
        with_click_id("https://s.example/p?x=1#f", "abc")
        == "https://s.example/p?x=1&cp_click=abc#f"
    )


@pytest.mark.parametrize(
    ("agent", "method", "bot"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126 Safari/537.36",
            "GET",
            False,
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148", "GET", False),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126", "HEAD", True),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "GET", True),
        ("facebookexternalhit/1.1", "GET", True),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "GET", True),
        ("WhatsApp/2.23.20.0", "GET", True),
        ("TelegramBot (like TwitterBot)", "GET", True),
        ("Mozilla/5.0 (compatible; Discordbot/2.0)", "GET", True),
        ("curl/8.5.0", "GET", True),
        ("", "GET", True),
    ],
)
def test_bot_detection(agent: str, method: str, bot: bool) -> None:
    assert is_bot(agent, method) is bot


def test_codes_and_slugs() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(c) == 8 and c.isalnum() for c in codes)
    assert check_custom_slug("spring-2026") == "spring-2026"
    for bad in ["ab", "-abc", "a b c", "x" * 65, "a/b/c"]:
        with pytest.raises(InvalidInputError, match="slug"):
            check_custom_slug(bad)


@given(st.lists(st.integers(0, 62**CLICK_TIME_LENGTH - 1), min_size=2, max_size=20, unique=True))
def test_click_ids_sort_as_the_seconds_they_were_made_in(seconds: list[int]) -> None:
    # the store's unique index on click ids grows at its end only if later ids sort after
    made = [new_click_id(second) for second in sorted(seconds)]
    assert sorted(made) == made
    for second, click_id in zip(sorted(seconds), made, strict=True):
        assert len(click_id) == CLICK_ID_LENGTH
        assert set(click_id) <= set(BASE62)
        assert click_id[:CLICK_TIME_LENGTH] == new_click_id(second)[:CLICK_TIME_LENGTH]


def test_click_ids_are_unguessable_past_their_second() -> None:
    ids = [new_click_id(1_796_000_000) for _ in range(2000)]
    assert len({click_id[:CLICK_TIME_LENGTH] for click_id in ids}) == 1
    tails = {click_id[CLICK_TIME_LENGTH:] for click_id in ids}
    assert len(tails) == 2000  # 18 random base62 characters each (107 bits)
    assert len(set("".join(tails))) == 62  # every character used
    assert new_click_id()[:CLICK_TIME_LENGTH] >= new_click_id(1_796_000_000)[:CLICK_TIME_LENGTH]
    with pytest.raises(ValueError, match="base62"):
        new_click_id(62**CLICK_TIME_LENGTH)
    with pytest.raises(ValueError, match="base62"):
        new_click_id(-1)


def test_hosts_are_compared_as_browsers_read_them() -> None:
    allowed = frozenset({normalize_domain("Bücher.example"), "shop.example"})
    assert allowed == {"xn--bcher-kva.example", "shop.example"}
    for url in ["https://BÜCHER.example/a", "https://xn--bcher-kva.example/a",
                "https://SHOP.EXAMPLE./", "https://www.shop.example/"]:  # fmt: skip
        assert tagged_destination(url, allowed, source="s").startswith(url.split("/a")[0])
    with pytest.raises(InvalidInputError, match="allow-list"):
        tagged_destination("https://bucher.example/", allowed, source="s")


def test_domains_are_normalized() -> None:
    assert normalize_domain(" Shop.Example. ") == "shop.example"
    for bad in ["https://shop.example", "shop", "shop.example/x", "sh op.example"]:
        with pytest.raises(InvalidInputError, match="domain name"):
            normalize_domain(bad)
