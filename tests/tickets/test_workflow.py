"""Runs on tickets: an action step waits for its approval; stepping back refreshes escalation."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.approvals.service import decide, list_requests
from franchise.bootstrap import initialise
from franchise.errors import Refused
from franchise.flows.runs import begin_run, record_answer, step_back
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket

SERVER_DISK = """\
key: server-disk-swap
title: Replace a failing server disk
category: disk-space
status: validated
start: order-disk
steps:
  order-disk:
    kind: action
    text: Order the replacement disk from the vendor.
    estimate: {minutes: 30, cost: 450, impact: low, kind: hardware-purchase}
    options: {"Ordered": fitted}
  fitted:
    kind: check
    text: Is the new disk fitted and the array rebuilding?
    options: {"Yes": done, "No": to-l2}
  done: {kind: resolve, text: Array healthy.}
  to-l2: {kind: escalate, to: L2, text: Rebuild failed.}
"""


def test_action_step_cannot_be_answered_until_its_approval_is_granted(session: Session) -> None:
    initialise(session)
    tech = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    lead = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    runbooks.save_runbook(session, SERVER_DISK, file="server-disk.yaml")
    ticket = create_ticket(session, title="RAID degraded on SRV-FS01", category="disk-space")
    run = begin_run(
        session, runbooks.get_runbook(session, "server-disk-swap"), ticket=ticket, actor=tech
    )
    # Reaching an action step asks for approval; 450 is above the L1 limit, so it waits for L2.
    (request,) = list_requests(session, ticket=ticket)
    assert (request.status, request.approver_level) == ("pending", "L2")
    with pytest.raises(
        Refused, match=r"step 'order-disk' needs approval first: request #\d+ waits for L2"
    ):
        record_answer(session, run, step="order-disk", reply="Ordered", actor=tech)
    decide(session, request, by=lead, approve=True, reason="disk is under the hardware budget")
    state = record_answer(session, run, step="order-disk", reply="Ordered", actor=tech)
    assert state.current == "fitted"


def test_stepping_back_retracts_the_answer_and_refreshes_escalation(session: Session) -> None:
    initialise(session)
    tech = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    ticket = create_ticket(session, title="VPN down for everyone", category="vpn")
    run = begin_run(session, runbooks.get_runbook(session, "vpn"), ticket=ticket, actor=tech)
    record_answer(session, run, step="scope", reply="Several or all users", actor=tech)
    record_answer(session, run, step="vpn-type", reply="FortiGate IPsec dial-up", actor=tech)
    record_answer(session, run, step="recent-change", reply="Firmware upgraded", actor=tech)
    assert ticket.custom_fields["escalation_allowed"] == "yes"
    state = step_back(session, ticket, actor=tech)
    assert state.current == "recent-change"
    assert ticket.custom_fields["escalation_allowed"] == "no"
