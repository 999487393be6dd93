"""An alert type that exactly one runbook claims decides the runbook without ranking the
text (`SuggestIndex.sole_claimant`): the same answer the ranking gives, for every alert type
of the starter library, whatever the text says."""

from __future__ import annotations

from dataclasses import replace

import pytest

from franchise.runbooks.definition import Runbook
from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER
from franchise.suggest.index import SuggestIndex


@pytest.fixture(scope="module")
def starter() -> list[Runbook]:
    return [rb for _, rb in lint_files([STARTER]).runbooks]


def _by_key(runbooks: list[Runbook], key: str) -> Runbook:
    return next(r for r in runbooks if r.key == key)


def test_the_one_runbook_claiming_a_type_is_its_sole_claimant(starter: list[Runbook]) -> None:
    index = SuggestIndex(starter)
    found = index.sole_claimant("vpn.tunnel_down")
    assert found is not None and found.key == "vpn-auth-failure"
    assert index.sole_claimant("no.such_type") is None
    assert index.sole_claimant(None) is None
    assert index.sole_claimant("") is None


def test_two_claimants_or_an_archived_one_are_not_a_sole_claimant(starter: list[Runbook]) -> None:
    vpn = _by_key(starter, "vpn-auth-failure")
    printer = _by_key(starter, "printer-problem")
    twice = replace(printer, alert_types=(*printer.alert_types, "vpn.tunnel_down"))
    shared = SuggestIndex([vpn, twice])
    assert shared.sole_claimant("vpn.tunnel_down") is None
    assert shared.sole_claimant("printer.offline") == twice
    archived = SuggestIndex([vpn, replace(twice, status="archived")])
    found = archived.sole_claimant("vpn.tunnel_down")
    assert found is not None and found.key == "vpn-auth-failure"
    assert archived.sole_claimant("printer.offline") is None


# Texts that say something else entirely, some with many keywords of another runbook.
TEXTS = (
    "",
    "Printer offline, toner empty, paper jam, print spooler stuck, printing fails",
    "VPN tunnel down, cannot connect, vpn password rejected, anyconnect, forticlient",
    "Nightly backup failed, veeam job missed, restore test, datto, backup storage full",
    "Account locked out after password reset, mfa prompt denied, authenticator",
)


def test_the_ranking_agrees_with_the_sole_claimant_for_every_starter_alert_type(
    starter: list[Runbook],
) -> None:
    index = SuggestIndex(starter)
    alert_types = sorted({t for r in starter for t in r.alert_types})
    assert len(alert_types) >= 30
    for alert_type in alert_types:
        claimant = index.sole_claimant(alert_type)
        assert claimant is not None, alert_type  # the starter library claims each type once
        for text in TEXTS:
            match = index.match(text, alert_type=alert_type, limit=1)
            assert match.best is not None
            assert (match.best.key, match.confidence, match.fits) == (claimant.key, 1.0, True)
