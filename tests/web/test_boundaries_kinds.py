"""The boundaries page lists the action kinds and the words that imply them."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tests.web.conftest import LiveServer, Member


def test_the_boundaries_page_lists_kinds_with_their_keywords(
    live: LiveServer,
    make_staff: Callable[..., Member],
    session_cookie: Callable[[Member], dict[str, str]],
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    with httpx.Client(base_url=live.url, cookies=session_cookie(owner)) as http:
        html = http.get("/boundaries").text
    section = re.search(r'<section class="card flush" id="kinds">(.*?)</section>', html, re.S)
    assert section is not None
    rows = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td></tr>", section.group(1))
    kinds = {name: words for name, words in rows}
    assert kinds["firewall-change"].startswith("firewall, NAT, port forward")
    assert "block sign-in" in kinds["account-containment"]
    assert len(kinds) == 9
    assert "compared with the cost over a year" in html
