"""Estimates that mean money: recurring costs over a year, and kinds implied by the action
text (the strictest where several match). Expected values worked out by hand from the
starter boundaries: L1 100 / 60 min / none+low, licence 50; L2 1000 / any impact,
licence 500; firewall, data deletion, mail flow and server changes not allowed for L1."""

from __future__ import annotations

from decimal import Decimal

import pytest

from franchise.approvals.boundaries import Boundaries
from franchise.approvals.parse import parse_boundaries
from franchise.approvals.policy import (
    Ask,
    cost_text,
    decide_by_boundaries,
    implied_kinds,
    make_ask,
)
from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.errors import InvalidInput

STARTER_KINDS = (
    "licence-purchase",
    "hardware-purchase",
    "software-purchase",
    "firewall-change",
    "data-deletion",
    "mail-flow-change",
    "account-containment",
    "server-change",
)


@pytest.fixture(scope="module")
def starter() -> Boundaries:
    parsed, problems = parse_boundaries(STARTER_BOUNDARIES.read_text(encoding="utf-8"))
    assert problems == []
    assert parsed is not None
    return parsed


def ask(action: str, **kw: object) -> Ask:
    args: dict[str, object] = {"cost": 0, "minutes": 15, "impact": "low", "level": "L1"}
    args.update(kw)
    return make_ask(action=action, **args)  # type: ignore[arg-type]


def test_the_starter_boundaries_declare_every_kind_with_keywords(starter: Boundaries) -> None:
    assert set(STARTER_KINDS) <= set(starter.kinds)
    assert all(starter.kinds[k].keywords for k in STARTER_KINDS)
    l1 = starter.levels["L1"].kinds
    for kind in ("firewall-change", "data-deletion", "mail-flow-change", "server-change"):
        assert l1[kind].allowed is False, kind


def test_a_firewall_change_without_a_kind_waits_for_l2(starter: Boundaries) -> None:
    decision = decide_by_boundaries(starter, ask("Open port 3389 on the client's firewall"))
    assert (decision.status, decision.approver_level) == ("pending", "L2")
    assert decision.kind == "firewall-change"
    assert decision.reason.startswith("kind firewall-change implied by 'firewall' in the action;")
    assert "firewall-change actions are not allowed for L1" in decision.reason


def test_the_same_change_with_its_kind_named_decides_the_same(starter: Boundaries) -> None:
    named = decide_by_boundaries(starter, ask("Change it", kind="firewall-change"))
    assert (named.status, named.approver_level, named.kind) == ("pending", "L2", "firewall-change")


def test_a_vpn_certificate_renewal_matches_no_kind_and_l1_approves_it(
    starter: Boundaries,
) -> None:
    renewal = ask(
        "Renew the user's VPN certificate from the VPN certificate template, delete the "
        "expired certificate and reconnect",
        minutes=20,
    )
    assert implied_kinds(starter, renewal.action) == []
    decision = decide_by_boundaries(starter, renewal)
    assert (decision.status, decision.approver_level, decision.kind) == ("approved", "L1", None)


def test_a_monthly_licence_is_compared_over_a_year(starter: Boundaries) -> None:
    # 40 a month = 480 a year: over L1's licence limit of 50, inside L2's 500.
    licence = ask("Buy a Business Premium licence", cost=40, recurring="month", impact="none")
    assert licence.yearly_cost == Decimal("480.00")
    decision = decide_by_boundaries(starter, licence)
    assert (decision.status, decision.approver_level) == ("pending", "L2")
    assert decision.kind == "licence-purchase"
    assert "cost 40/month (480 a year) exceeds L1 limit 50 for licence-purchase" in decision.reason


def test_the_same_licence_paid_once_is_inside_l1(starter: Boundaries) -> None:
    once = decide_by_boundaries(starter, ask("Buy a licence", cost=40, kind="licence-purchase"))
    assert (once.status, once.approver_level) == ("approved", "L1")
    assert once.reason.startswith("inside the L1 boundary for licence-purchase: cost 40 of 50,")


def test_a_yearly_cost_counts_once_and_the_edge_is_inside(starter: Boundaries) -> None:
    at_limit = ask("Buy a licence", cost=50, recurring="year", kind="licence-purchase")
    assert decide_by_boundaries(starter, at_limit).status == "approved"
    over = ask("Buy a licence", cost="50.01", recurring="year", kind="licence-purchase")
    assert decide_by_boundaries(starter, over).approver_level == "L2"


def test_a_monthly_cost_goes_to_the_owner_when_its_year_is_past_l2(starter: Boundaries) -> None:
    # 90/month = 1080 a year: above L2's general limit of 1000, so only the owner.
    decision = decide_by_boundaries(starter, ask("Backup storage", cost=90, recurring="month"))
    assert decision.approver_level == "owner"
    assert decision.reason == (
        "cost 90/month (1080 a year) exceeds L1 limit 100; "
        "no boundary covers it, so the owner decides"
    )


def test_the_strictest_of_two_matching_kinds_applies(starter: Boundaries) -> None:
    # licence-purchase alone: 30 of 50, approved for L1; mail-flow-change: not allowed for
    # L1, L2 decides. The stricter (L2) wins, whatever order the words come in.
    text = "Buy a licence for the mail filter and add a transport rule for it"
    assert [k for k, _ in implied_kinds(starter, text)] == ["licence-purchase", "mail-flow-change"]
    decision = decide_by_boundaries(starter, ask(text, cost=30))
    assert (decision.status, decision.approver_level) == ("pending", "L2")
    assert decision.kind == "mail-flow-change"
    assert decision.reason.startswith(
        "kind mail-flow-change implied by 'transport rule' in the action "
        "(strictest of licence-purchase, mail-flow-change); "
    )


def test_containment_of_a_compromise_is_never_stuck_at_l1(starter: Boundaries) -> None:
    text = "Compromised account: block sign-in, revoke sessions and remove the inbox rule"
    decision = decide_by_boundaries(starter, ask(text, impact="medium", minutes=20))
    assert (decision.status, decision.approver_level) == ("approved", "L1")
    assert decision.kind == "account-containment"
    high = decide_by_boundaries(starter, ask(text, impact="high"))
    assert high.approver_level == "L2"


def test_a_named_kind_is_not_second_guessed_by_the_text(starter: Boundaries) -> None:
    # The runbook (or the asker) says what the action is; the words "firewall" in a
    # containment step must not turn it into a firewall change.
    text = "Block sign-in; the firewall logs showed the attacker's IP"
    decision = decide_by_boundaries(starter, ask(text, kind="account-containment", impact="medium"))
    assert (decision.status, decision.kind) == ("approved", "account-containment")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Reboot the file server tonight", ["server-change"]),
        ("Expand the volume on SRV01", ["server-change"]),
        ("Add a NAT rule", ["firewall-change"]),
        ("Add the sender to the Tenant Allow/Block list", ["mail-flow-change"]),
        ("Permanently delete the leaver's mailbox", ["data-deletion"]),
        ("Write the monthly report", []),  # "report" is not "port"
        ("Reset the print spooler on PC-12", []),
    ],
)
def test_keywords_match_whole_words_and_phrases(
    starter: Boundaries, text: str, kinds: list[str]
) -> None:
    assert [k for k, _ in implied_kinds(starter, text)] == kinds


def test_cost_text_says_what_limits_compare() -> None:
    assert cost_text(ask("x", cost=40)) == "40"
    assert cost_text(ask("x", cost="12.50", recurring="month")) == "12.50/month (150 a year)"
    assert cost_text(ask("x", cost=300, recurring="year")) == "300/year"


def test_an_unknown_recurring_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="unknown recurring 'weekly'"):
        ask("x", recurring="weekly")


def test_a_rule_for_an_undeclared_kind_is_a_problem_once_kinds_are_declared() -> None:
    source = (
        "kinds:\n"
        "  licence-purchase: {keywords: [licence]}\n"
        "levels:\n"
        "  L1: {max_cost: 100, max_minutes: 60, impacts: [none],\n"
        "       kinds: {licence-purchse: {max_cost: 50}}}\n"
        "  owner: unlimited\n"
    )
    _, problems = parse_boundaries(source, "b.yaml")
    assert [(p.line, p.code) for p in problems] == [(4, "unknown-kind")]
    assert "licence-purchse" in problems[0].message


def test_a_document_without_kinds_still_loads_and_implies_nothing() -> None:
    source = (
        "levels:\n"
        "  L1: {max_cost: 100, max_minutes: 60, impacts: [none, low],\n"
        "       kinds: {firewall-change: {allowed: false}}}\n"
        "  owner: unlimited\n"
    )
    parsed, problems = parse_boundaries(source)
    assert problems == [] and parsed is not None
    decision = decide_by_boundaries(parsed, ask("Open a port on the firewall"))
    assert (decision.status, decision.kind) == ("approved", None)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("kinds: {firewall-change: {keywords: firewall}}", "schema"),
        ("kinds: {firewall-change: {keywords: [firewall, Firewall]}}", "duplicate-keyword"),
        ("kinds: {firewall-change: {keywords: ['']}}", "bad-keyword"),
        ("kinds: {Firewall: {keywords: [x]}}", "bad-kind"),
        ("kinds: {firewall-change: {words: [x]}}", "unknown-field"),
    ],
)
def test_bad_kind_declarations_are_named(body: str, code: str) -> None:
    source = f"{body}\nlevels:\n  owner: unlimited\n"
    _, problems = parse_boundaries(source)
    assert code in [p.code for p in problems]
