"""Slack's request signatures and our link tokens, checked without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from franchise.people.signing import (
    link_mac,
    slack_request_problem,
    slack_signature,
    split_token,
)

# The worked example in Slack's "Verifying requests from Slack".
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TS = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
    b"-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
    b"00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10"
    b"d2c447fce8b6703c"
)
DOC_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_the_signature_matches_slacks_worked_example() -> None:
    assert slack_signature(DOC_SECRET, DOC_TS, DOC_BODY) == DOC_SIG


def test_a_signed_request_within_five_minutes_is_accepted() -> None:
    sent = int(DOC_TS)
    assert slack_request_problem(DOC_SECRET, DOC_TS, DOC_SIG, DOC_BODY, sent + 300) is None
    assert slack_request_problem(DOC_SECRET, DOC_TS, DOC_SIG, DOC_BODY, sent - 300) is None


def test_a_replay_older_than_five_minutes_is_refused_though_signed() -> None:
    problem = slack_request_problem(DOC_SECRET, DOC_TS, DOC_SIG, DOC_BODY, int(DOC_TS) + 301)
    assert problem is not None and "replay" in problem


def test_a_changed_body_or_wrong_secret_is_refused() -> None:
    now = int(DOC_TS)
    assert slack_request_problem(DOC_SECRET, DOC_TS, DOC_SIG, DOC_BODY + b"&x=1", now)
    assert slack_request_problem("0" * 32, DOC_TS, DOC_SIG, DOC_BODY, now)
    # Signed for another moment: the timestamp is part of what is signed.
    later = str(now + 1)
    assert slack_request_problem(DOC_SECRET, later, DOC_SIG, DOC_BODY, now)


def test_missing_or_malformed_headers_are_refused() -> None:
    now = int(DOC_TS)
    assert slack_request_problem(DOC_SECRET, None, DOC_SIG, DOC_BODY, now)
    assert slack_request_problem(DOC_SECRET, DOC_TS, None, DOC_BODY, now)
    assert slack_request_problem(DOC_SECRET, "12:00", DOC_SIG, DOC_BODY, now)


def test_a_link_mac_binds_person_action_target_and_expiry() -> None:
    key = b"k" * 32
    when = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    base = link_mac(key, "abcdefgh12", 7, "approve", "approval:3", when)
    assert base != link_mac(key, "abcdefgh12", 8, "approve", "approval:3", when)
    assert base != link_mac(key, "abcdefgh12", 7, "deny", "approval:3", when)
    assert base != link_mac(key, "abcdefgh12", 7, "approve", "approval:4", when)
    assert base != link_mac(key, "abcdefgh12", 7, "approve", "approval:3", when.replace(hour=17))
    assert base != link_mac(b"j" * 32, "abcdefgh12", 7, "approve", "approval:3", when)


def test_tokens_not_shaped_like_ours_are_rejected_before_any_lookup() -> None:
    assert split_token("abcdefgh12." + "A" * 43) == ("abcdefgh12", "A" * 43)
    assert split_token("abcdefgh12") is None
    assert split_token("short." + "A" * 43) is None
    assert split_token("abcdefgh12." + "A" * 10) is None
    assert split_token("abcdefgh12." + "A" * 42 + "/") is None
