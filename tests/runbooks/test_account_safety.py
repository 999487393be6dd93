"""Account changes in the starter runbooks: the caller is verified before every unlock,
reset, MFA method change or first credential, and containing a compromise is L1's own call
while buying licences or allowing a sender is not."""

from __future__ import annotations

from collections import deque

import pytest

from franchise.approvals.parse import parse_boundaries
from franchise.approvals.policy import decide_by_boundaries as decide
from franchise.approvals.policy import make_ask
from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.runbooks.definition import Runbook, Step
from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER

LIBRARY = {rb.key: rb for _, rb in lint_files([STARTER]).runbooks}
BOUNDARIES, BOUNDARY_PROBLEMS = parse_boundaries(STARTER_BOUNDARIES.read_text(encoding="utf-8"))

# The steps that unlock an account, reset a password, change MFA methods or hand a new
# user their first credential: each must sit behind the shared identity check.
CREDENTIAL_STEPS = [
    ("vpn-auth-failure", "unlock-or-reset"),
    ("account-lockout", "unlock-or-reset"),
    ("mfa-problem", "remove-old-methods"),
    ("mfa-problem", "register-new"),
    ("mfa-problem", "issue-tap"),
    ("new-user-onboarding", "enable-with-tap"),
    ("new-user-onboarding", "enable-with-password"),
]


def _reachable(runbook: Runbook, avoid: set[str]) -> set[str]:
    """Steps reachable from the start without passing through any step in `avoid`."""
    seen = {runbook.start}
    queue = deque([runbook.start])
    while queue:
        step = runbook.steps[queue.popleft()]
        if step.is_terminal:
            continue
        for target in step.options.values():
            if target not in seen and target not in avoid:
                seen.add(target)
                queue.append(target)
    return seen


def _from_block(runbook: Runbook, key: str) -> list[Step]:
    return [s for s in runbook.steps.values() if s.used_from == key]


@pytest.mark.parametrize(
    ("key", "step"), CREDENTIAL_STEPS, ids=[f"{k}:{s}" for k, s in CREDENTIAL_STEPS]
)
def test_account_change_is_only_reached_through_identity_verification(key: str, step: str) -> None:
    runbook = LIBRARY[key]
    verify = {s.id for s in _from_block(runbook, "verify-identity")}
    assert verify, f"{key} does not use verify-identity"
    assert step in _reachable(runbook, set()), f"{key}:{step} is not reachable at all"
    assert step not in _reachable(runbook, verify), (
        f"{key}:{step} can be reached without a callback"
    )


@pytest.mark.parametrize("key", sorted({k for k, _ in CREDENTIAL_STEPS}))
def test_a_failed_verification_only_ever_escalates(key: str) -> None:
    runbook = LIBRARY[key]
    verify = _from_block(runbook, "verify-identity")
    ids = {s.id for s in verify}
    leaving = {t for s in verify for t in s.options.values() if t not in ids}
    # One way on (towards the change), every other way out is an escalation to L2.
    onward = {t for t in leaving if runbook.steps[t].kind != "escalate"}
    assert len(onward) == 1, onward
    escalations = leaving - onward
    assert escalations
    assert all(runbook.steps[t].to == "L2" for t in escalations)


@pytest.mark.parametrize("key", ["mfa-problem", "account-lockout", "email-quarantine-release"])
def test_containment_is_approved_for_l1_at_once(key: str) -> None:
    assert BOUNDARIES is not None, BOUNDARY_PROBLEMS
    actions = [s for s in _from_block(LIBRARY[key], "contain-account") if s.kind == "action"]
    # Block sign-in / revoke / reset, remove attacker methods, disable rules: three actions.
    assert len(actions) == 3
    for step in actions:
        assert step.estimate is not None
        assert step.estimate.kind == "account-containment"
        ask = make_ask(
            action=step.text,
            cost=step.estimate.annual_cost,
            minutes=step.estimate.minutes,
            impact=step.estimate.impact,
            level="L1",
            kind=step.estimate.kind,
        )
        decision = decide(BOUNDARIES, ask)
        assert (decision.status, decision.approver_level) == ("approved", "L1"), step.id


@pytest.mark.parametrize(
    ("key", "step", "annual"),
    [
        # 22 a month is 264 a year: above L1's licence limit (50), inside L2's (500).
        ("new-user-onboarding", "buy-licence", 264),
        # 1100 once: above L1's 100, inside L2's hardware limit (1500).
        ("new-user-onboarding", "order-device", 1100),
        # No cost, but a tenant-wide allow entry is a medium-impact mail-flow change.
        ("email-quarantine-release", "allow-sender", 0),
    ],
)
def test_purchases_and_mail_flow_changes_wait_for_l2(key: str, step: str, annual: int) -> None:
    assert BOUNDARIES is not None, BOUNDARY_PROBLEMS
    estimate = LIBRARY[key].steps[step].estimate
    assert estimate is not None
    assert estimate.annual_cost == annual
    ask = make_ask(
        action=step,
        cost=estimate.annual_cost,
        minutes=estimate.minutes,
        impact=estimate.impact,
        level="L1",
        kind=estimate.kind,
    )
    decision = decide(BOUNDARIES, ask)
    assert (decision.status, decision.approver_level) == ("pending", "L2")


def test_owner_escalations_are_only_the_emergencies() -> None:
    owner = sorted(
        (key, s.id)
        for key in (
            "vpn-auth-failure",
            "account-lockout",
            "mfa-problem",
            "email-quarantine-release",
            "new-user-onboarding",
        )
        for s in LIBRARY[key].steps.values()
        if s.kind == "escalate" and s.to == "owner"
    )
    # A domain controller actually down, or a confirmed compromise with data leaving.
    assert owner == [
        ("account-lockout", "compromise-escalate"),
        ("email-quarantine-release", "data-leak-escalate"),
        ("mfa-problem", "compromise-escalate"),
        ("vpn-auth-failure", "dc-trouble"),
    ]
    for key, sid in owner:
        assert LIBRARY[key].steps[sid].emergency, (key, sid)
