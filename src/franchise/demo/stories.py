"""What people asked the owner, what they heard back, and what the team learned.

Slots: {client}, {host}, {server}, {user}, {kb}, {amount}, {l2}. Questions are keyed by
reason and then by ticket category; "*" is the fallback for any category.
"""

from __future__ import annotations

QUESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "approval": {
        "backup": (
            "The backup repository for {client} is full. OK to buy a 4 TB drive for the NAS "
            "(about £{amount})?",
            "Can I extend {client}'s cloud backup retention to 90 days? Adds £{amount} a month.",
        ),
        "onboarding": (
            "{client} has a new starter Monday and no spare Business Premium licence. OK to buy "
            "one (£{amount}/yr)?",
            "New starter at {client} needs a laptop. The stock one is old; OK to order a new "
            "ThinkPad for £{amount}?",
        ),
        "patching": (
            "{server} at {client} needs a reboot to finish patching. OK to do it at lunchtime "
            "or do we wait for the weekend?",
        ),
        "disk-space": (
            "{server} is out of space. OK to add 200 GB to the VM (about £{amount} a month on "
            "their hosting)?",
        ),
        "printer": (
            "{client}'s printer needs an engineer (fuser). Call-out is £{amount}; do I book it?",
        ),
        "mfa": ("{user} at {client} wants a YubiKey instead of the app. OK to order one?",),
        "*": ("Can I spend £{amount} to sort this for {client}?",),
    },
    "technical_decision": {
        "vpn": (
            "VPN at {client} failing for everyone and the RADIUS test fails. Do I restart NPS "
            "on {server} now or wait until after hours?",
        ),
        "endpoint-offline": (
            "{server} at {client} is offline. Do I ask them to hard power it off or wait for "
            "someone to go on site?",
            "{host} not checking in for 3 days. Reimage or send it back under warranty?",
        ),
        "backup": (
            "Backup at {client} keeps failing on VSS. Safe to restart the SQL writer during the "
            "day?",
            "Should I restore the folder for {client} from last night or from the noon "
            "snapshot? They edited files this morning.",
        ),
        "patching": (
            "{kb} keeps failing on {host}. Do I skip it for {client} or do an in-place repair?",
        ),
        "mfa": ("Prompts for {user} came from abroad. Do I reset the password and revoke now?",),
        "email-quarantine": (
            "Quarantined email for {client} looks genuine but the link is odd. Release it?",
        ),
        "account-lockout": (
            "{user} at {client} keeps locking out. Do I disable the old phone's mail profile "
            "without asking them?",
        ),
        "disk-space": ("Can I delete the old IIS logs on {server} or do they need them?",),
        "*": ("Not sure which way to go on this one for {client}. What would you do?",),
    },
    "customer_communication": {
        "*": (
            "{client} is asking why this keeps happening. What do I tell them?",
            "Their director is on the phone and not happy. Can you call {client} back?",
            "{client} wants to know if this is covered by the contract. Is it?",
            "How do I word the outage update for {client}? They want an ETA.",
        ),
    },
    "escalation": {
        "*": (
            "Runbook ended in escalate to owner for {client}. Do you want it, or does it wait "
            "for L2?",
            "Who decides this one for {client}? The map isn't clear to me.",
            "This looks bigger than L2 for {client}. Can you have a look?",
        ),
    },
    "other": {
        "*": (
            "Quick one: do we still support {client}'s old phone system?",
            "{client} asked for a quote for new PCs. Do I pass that to you?",
        ),
    },
}

# What the owner said when actually reached.
OWNER_ANSWERS: dict[str, tuple[str, ...]] = {
    "approval": ("Yes, go ahead.", "Yes, but get a second quote next time.", "Wait till Friday."),
    "technical_decision": (
        "Do it after hours.",
        "Yes, do it.",
        "Go ahead, tell the client first.",
        "Leave it until I've looked tomorrow.",
    ),
    "customer_communication": (
        "I'll call them.",
        "Tell them it's covered, no charge.",
        "Send the outage template with a 2-hour ETA.",
    ),
    "escalation": (
        "I'll take it.",
        "Give it to Tomasz tomorrow morning.",
        "Call me if it gets worse.",
    ),
    "other": ("Yes, send it to me.", "No, we dropped that last year."),
}

# What Ask the owner answered from the system instead (a deflection).
DEFLECTIONS: dict[str, tuple[str, ...]] = {
    "approval": (
        "Within your approval boundary (up to £100, low impact): approved and logged; no need "
        "to ask the owner.",
        "Inside the L2 boundary; approved by the boundary and logged on the ticket.",
    ),
    "technical_decision": (
        "The runbook has a step for this that is not done yet; follow it and escalate only if "
        "it ends in escalate.",
        "The runbook's edge cases cover this: do it in the client's agreed maintenance window.",
    ),
    "customer_communication": (
        "Use the 'update' client template; it explains the cause and the next update time.",
        "Use the 'outage' template; the ETA comes from the ticket.",
    ),
    "escalation": (
        "The escalation map sends this to L2 ({l2}), not the owner.",
        "Not an owner decision by the map: the service manager decides client priority.",
    ),
    "other": ("Quotes go to the service manager; the map names her for sales questions.",),
}

EMERGENCY_QUESTIONS = (
    "EMERGENCY: {server} at {client} is down and nobody there can work. Runbook ends in "
    "escalate to owner; do we call the hardware vendor out (£{amount})?",
    "EMERGENCY: files on {server} at {client} are being renamed with a strange extension. "
    "Pulled the network cable. What next?",
)
EMERGENCY_ANSWER = "Emergency by the map: the owner took the call and decided."

DRILL_REFUSAL = (
    "Owner-offline drill in progress: this is not an emergency by the escalation map. Follow "
    "the runbook; if it ends in escalate, take it to {l2}."
)
DRILL_CRITERIA = (
    "Emergency only: a client-wide outage over 1 hour, suspected breach or ransomware, "
    "data loss, or spend over £1,000."
)

# How a review closes a contact, by the contact's reason ("emergency" for emergencies):
# the disposition, and the notes to choose from.
REVIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "approval": (
        "tighten_rule",
        (
            "Raised the L2 spending boundary to £300 for parts; this ask is now approved by "
            "the boundary.",
            "Licences and like-for-like replacements are now inside the L1 boundary.",
        ),
    ),
    "technical_decision": (
        "improve_runbook",
        (
            "The runbook stopped short here; added a step for the case the technician hit.",
            "The technician did not know the fix was safe during the day; the runbook now "
            "says when it is.",
        ),
    ),
    "customer_communication": (
        "tighten_rule",
        ("Customer complaints go to the service manager; the map now says so.",),
    ),
    "escalation": (
        "tighten_rule",
        (
            "Client-wide outages now go to the service manager first; only ransomware and "
            "data loss go to the owner.",
        ),
    ),
    "other": ("tighten_rule", ("Sales and contract questions go to the service manager.",)),
    "emergency": (
        "improve_runbook",
        (
            "A real emergency, handled right. Added the isolate-and-restore steps so L2 can "
            "start before the owner picks up.",
        ),
    ),
}

LESSONS: dict[str, tuple[str, ...]] = {
    "account-lockout": (
        "Relocks within minutes were the user's phone mail app with the old password. Check "
        "Exchange mobile devices for the user before unlocking, not after.",
        "The lockout source was a mapped drive saved with old credentials. Add 'clear "
        "Credential Manager' to the unlock step.",
    ),
    "email-quarantine": (
        "A supplier's invoices were quarantined because their SPF record was wrong. When the "
        "same sender is held three times, tell the client's contact rather than releasing again.",
    ),
    "mfa": (
        "Users replacing phones lose Authenticator when they do not use the transfer option. "
        "Issue a Temporary Access Pass straight away instead of resetting all methods.",
        "Push notifications were blocked by battery saver on Android. Ask about it before "
        "re-registering.",
    ),
    "printer": (
        "Scan-to-email broke when basic SMTP auth was switched off. Check the SMTP relay "
        "connector first for any 'send failed' on a multifunction printer.",
    ),
    "patching": (
        "KB5034441 fails with 0x80070643 when the recovery partition is too small. Resize the "
        "partition instead of resetting Windows Update components.",
    ),
    "backup": (
        "The nightly job failed after the service account password rotated. Check the "
        "repository credentials before restarting anything.",
        "A test restore caught a corrupt file that the job reported as a success. Keep the "
        "test restore mandatory even when the retry works.",
    ),
    "endpoint-offline": (
        "Half the 'device offline' alerts were PCs switched off at night. Check the client's "
        "working hours before calling anyone.",
    ),
    "disk-space": (
        "The Teams cache was 18 GB on a shared reception PC. Add it to the cleanup step.",
    ),
    "vpn": (
        "VPN-only users cannot change an expired password. Untick 'must change at next logon' "
        "when resetting for them.",
    ),
    "onboarding": (
        "We ran out of licences on a Monday morning. Check spare licences when the new-starter "
        "ticket arrives, not on the start day.",
    ),
}
