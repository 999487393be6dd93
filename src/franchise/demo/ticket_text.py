"""What the demo's tickets say: templates per category with slots filled per ticket.

User-written templates are terse, misspelt and in a hurry, like real tickets; alert
templates read like the RMM or backup product that raised them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    title: str
    body: str
    fixes: tuple[str, ...] = ()  # resolutions that only fit this text; else the category's


@dataclass(frozen=True)
class CategoryText:
    user: tuple[Text, ...]
    alert: tuple[Text, ...]
    resolutions: tuple[str, ...]
    escalations: tuple[str, ...]


CATEGORY_TEXT: dict[str, CategoryText] = {
    "account-lockout": CategoryText(
        user=(
            Text(
                "Locked out of my account",
                "Hi, I've been locked out of my computer this morning. It says the account is "
                "locked and to contact the administrator. I'm on {host}. Can someone unlock it "
                "asap please, I have patients/clients from 9.\n\n{user}\n{client}",
            ),
            Text(
                "Password expired - can't log in",
                "My password expired over the weekend and now it won't let me change it, keeps "
                "saying the password doesn't meet requirements and then locked me out. {user}",
            ),
            Text(
                "{first} keeps getting locked out",
                "{first} from our office has been locked out three times since yesterday. "
                "Every time we unlock it, it locks again within the hour. Could it be the "
                "phone? They changed their password on Friday.\n\n{contact}, {client}",
            ),
            Text(
                "Reset password for {user}",
                "Please can you reset the password for {user} ({email}). They've come back "
                "from leave and can't remember it. They're at {host}.",
            ),
            Text(
                "account locked",
                "cant get in says account locked. tried my password like 5 times. {first}",
            ),
        ),
        alert=(
            Text(
                "[Entra ID] Repeated sign-in failures: {email}",
                "Microsoft Entra ID reported 14 failed sign-ins for {email} in 10 minutes "
                "(error 50053, account locked). Source IP in the office range.",
            ),
        ),
        resolutions=(
            "Identity verified by callback; account unlocked and password reset. Old password "
            "was cached on the user's iPhone mail app, removed and re-added.",
            "Unlocked in ADUC after callback. Stale mapped-drive credentials in Credential "
            "Manager on {host} were causing the relock; cleared.",
            "Password reset via Entra admin centre after verification with the manager; user "
            "signed in and set a new passphrase.",
        ),
        escalations=(
            "Account relocks within minutes from an unknown source; need L2 to trace the "
            "lockout source on the domain controller.",
        ),
    ),
    "email-quarantine": CategoryText(
        user=(
            Text(
                "Email from {sender} not arriving",
                "We're expecting an invoice from {sender} and it hasn't come through. They say "
                "they sent it twice this morning. Could it be in spam? {user}",
            ),
            Text(
                "Release quarantined email please",
                "I got a quarantine notification for an email from {sender_email} - it's a "
                "genuine supplier, please release it and make sure it doesn't happen again.\n\n"
                "{user}, {client}",
            ),
            Text(
                "Missing emails from a client",
                "One of our clients says their emails bounce or never reach us. Their domain is "
                "{sender_domain}. Nothing in my junk folder. {first}",
            ),
            Text(
                "Is this email safe?",
                "Got an email saying 'Your mailbox is almost full, click here to upgrade' - it "
                "went to quarantine but a colleague says she got the same one in her inbox. "
                "Should we click it?? {user}",
                fixes=(
                    "Confirmed phishing (credential-harvest page on a lookalike domain); purged "
                    "every copy from the tenant with a content search, blocked the sender and sent"
                    " staff a heads-up.",
                ),
            ),
            Text(
                "Docusign from {sender} blocked",
                "Our solicitor sent a DocuSign envelope and the quarantine email says it was held "
                "as phishing. We need to sign today. {user}",
                fixes=(
                    "Verified the envelope against DocuSign's sending IPs and the link target; "
                    "released it and allowed the sender's DocuSign account address.",
                ),
            ),
        ),
        alert=(
            Text(
                "[Defender for Office 365] High-confidence phish quarantined for {email}",
                "Microsoft Defender for Office 365 quarantined 1 message to {email} from "
                "{sender_email} (verdict: high-confidence phish). User requested release.",
            ),
        ),
        resolutions=(
            "Checked headers and URLs in the Defender explorer; message genuine, released to "
            "the user and the sender added to the tenant allow list for 30 days.",
            "Message was a real phish (lookalike domain); kept in quarantine, blocked the "
            "sender domain and reminded the user. Colleague's copy purged with a search.",
            "Sender's SPF record did not include their new mail provider; released the message "
            "and told the client's contact what their IT needs to fix.",
        ),
        escalations=(
            "Phishing message reached several inboxes and one user clicked the link; handing "
            "to L2 for sign-in review and session revocation.",
        ),
    ),
    "mfa": CategoryText(
        user=(
            Text(
                "New phone - Authenticator not working",
                "I got a new phone yesterday and now I can't get into Outlook, it keeps asking "
                "to approve on the Authenticator app which was on my old phone. {user}",
                fixes=(
                    "Verified by callback, issued a Temporary Access Pass and the user registered "
                    "Authenticator on the new phone; removed the old phone's registration.",
                ),
            ),
            Text(
                "MFA prompts I didn't ask for",
                "I keep getting 'approve sign-in?' notifications on my phone and I'm not trying "
                "to log in. Denied them all. Is someone trying to hack me? {user}, {client}",
                fixes=(
                    "Password had leaked (prompts from an overseas IP). Reset password, revoked "
                    "sessions, re-registered MFA with number matching; user briefed.",
                ),
            ),
            Text(
                "Not getting the approve notification",
                "The sign-in just waits for me to approve on my phone but the notification never "
                "comes. Phone has signal. {first}",
                fixes=(
                    "Authenticator notifications were blocked by the phone's battery saver; "
                    "re-enabled them and tested a push with the user.",
                ),
            ),
            Text(
                "Lost my phone",
                "Lost my work phone on the train last night. I can't sign in to anything because "
                "of the code thing. Please help, {user} ({email})",
                fixes=(
                    "Verified by callback with the line manager, removed the lost phone's MFA "
                    "methods, revoked sessions and issued a Temporary Access Pass; phone reported "
                    "to the carrier.",
                ),
            ),
            Text(
                "Set up MFA for {first}",
                "{first} started last week and still hasn't got the two-factor set up, they're "
                "getting a 'more information required' screen. Can you call them? {contact}",
            ),
        ),
        alert=(
            Text(
                "[Entra ID Protection] MFA fatigue pattern: {email}",
                "Entra ID Protection flagged repeated MFA denials for {email} from an unfamiliar "
                "location (risk level: medium).",
            ),
        ),
        resolutions=(
            "Verified by callback, removed the old phone's Authenticator registration, issued "
            "a Temporary Access Pass and watched the user register the new phone.",
            "Password had leaked (prompts from an overseas IP). Reset password, revoked "
            "sessions, re-registered MFA with number matching; user briefed.",
            "Authenticator notifications disabled by the phone's battery saver; re-enabled "
            "and tested a push.",
        ),
        escalations=(
            "Successful sign-in from an unknown country before the denials; escalating to L2 "
            "as a possible compromise.",
        ),
    ),
    "printer": CategoryText(
        user=(
            Text(
                "Printer not printing",
                "The {printer} in {location} isn't printing, jobs just sit in the queue. We've "
                "turned it off and on. {user}",
            ),
            Text(
                "Can't scan to email",
                "Scan to email on the {printer} stopped working today, says 'send failed'. We "
                "need it for patient forms / ID checks. {first}",
                fixes=(
                    "Scan-to-email was using basic SMTP auth which Microsoft switched off; moved "
                    "the printer to the SMTP relay connector and tested a scan.",
                ),
            ),
            Text(
                "printer offline on my pc",
                "printer says offline on {host} but everyone else can print to it. {first}",
            ),
            Text(
                "Paper jam error that won't clear",
                "The {printer} shows a paper jam but there is no paper in it. Opened every door. "
                "{contact}, {client}",
                fixes=(
                    "Torn scrap of paper behind the fuser door was tripping the sensor; removed it"
                    " on a remote video call with the office manager.",
                ),
            ),
            Text(
                "Need the new printer added",
                "We've moved the {printer} to {location}, can you set it up on all the PCs "
                "again? Nobody can find it now. {contact}",
                fixes=(
                    "Printer had a new IP after the move; set a DHCP reservation, updated the port"
                    " on the print server and redeployed it to the PCs by group policy.",
                ),
            ),
        ),
        alert=(
            Text(
                "[NinjaOne] Print Spooler service stopped on {server}",
                "NinjaOne condition 'Service stopped: Spooler' triggered on {server} "
                "({client}). Automatic restart attempted twice and failed.",
            ),
        ),
        resolutions=(
            "Stuck job in the spooler on {server}; cleared the queue and restarted the Spooler "
            "service. Test page printed.",
            "Printer had picked up a new DHCP address; set a reservation on the firewall and "
            "updated the port on the print server.",
            "Scan-to-email was using basic SMTP auth which Microsoft switched off; moved the "
            "printer to the SMTP relay connector.",
            "Reinstalled the driver on {host} from the print server; user printing again.",
        ),
        escalations=(
            "Fuser error persists after power cycle; needs an engineer visit under the lease "
            "contract. Waiting on approval for the call-out.",
        ),
    ),
    "patching": CategoryText(
        user=(
            Text(
                "Computer keeps saying restart to update",
                "My laptop ({host}) has said 'restart to finish installing updates' all week. "
                "I restart and it says the same. {user}",
            ),
            Text(
                "Updates stuck at 0%",
                "Windows Update has been stuck downloading on {host} since Monday. {first}",
            ),
            Text(
                "PC really slow after update",
                "Since the updates last night {host} takes 10 minutes to start and Outlook "
                "freezes. {user}",
            ),
        ),
        alert=(
            Text(
                "[NinjaOne] Patch install failed: {kb} on {host}",
                "NinjaOne patch management: {kb} failed to install on {host} ({client}) with "
                "error {error}. 3 attempts in the last maintenance window.",
            ),
            Text(
                "[NinjaOne] Pending reboot for 14 days: {server}",
                "{server} ({client}) has required a reboot to finish patching for 14 days. "
                "Patch compliance for the client is below 90%.",
            ),
            Text(
                "[NinjaOne] Patch scan failed on {host}",
                "Windows Update scan on {host} failed with {error}. Device is not reporting "
                "patch status.",
            ),
        ),
        resolutions=(
            "Reset the Windows Update components (SoftwareDistribution and catroot2), "
            "re-ran the scan and {kb} installed on the next attempt.",
            "Recovery partition too small for {kb}; resized it per Microsoft's script, update "
            "installed.",
            "Rebooted {server} in the agreed out-of-hours window; all patches applied and "
            "services checked.",
        ),
        escalations=(
            "Update fails with {error} after component reset; needs L2 to run an in-place repair.",
            "Server reboot needs a window agreed with the client; L2 to schedule.",
        ),
    ),
    "backup": CategoryText(
        user=(
            Text(
                "Need a file restored",
                "I accidentally deleted the folder 'Clients 2024' from the shared drive this "
                "morning. Can you get it back? {user}",
                fixes=(
                    "Restored the folder from the 12:00 snapshot to its original location and "
                    "confirmed with the user that the files open.",
                ),
            ),
            Text(
                "Backup email says failed",
                "We got an email from {backup} saying last night's backup failed. Is that a "
                "problem? {contact}, {client}",
            ),
        ),
        alert=(
            Text(
                "[{backup}] Job '{job}' failed on {server}",
                "{backup} reported that job '{job}' on {server} ({client}) finished with status "
                "Failed: {backup_error}.",
            ),
            Text(
                "[{backup}] No successful backup for 48 hours: {server}",
                "{server} ({client}) has not completed a successful backup for 48 hours. Last "
                "result: {backup_error}.",
            ),
            Text(
                "[{backup}] Job '{job}' completed with warnings",
                "Job '{job}' on {server} completed with warning: {backup_error}.",
            ),
        ),
        resolutions=(
            "VSS writer had failed; restarted the writer, re-ran the job successfully and did "
            "a test file restore.",
            "Repository credentials had expired after a password rotation; updated in the "
            "vault and the job, backup completed, test restore OK.",
            "Restored the folder from the 12:00 snapshot and confirmed with the user.",
            "Job was hung on a locked file; cancelled it and retried, completed. Test restore OK.",
        ),
        escalations=(
            "Repository is 97% full; needs L2 to decide retention or extra storage.",
            "Backup target NAS unreachable and not responding to ping; L2 to investigate on site.",
        ),
    ),
    "endpoint-offline": CategoryText(
        user=(
            Text(
                "PC won't turn on",
                "The reception PC ({host}) won't switch on at all this morning, no lights. {user}",
                fixes=(
                    "Power supply failed; swapped in the spare PC, restored the user's profile and"
                    " booked a warranty repair.",
                ),
            ),
            Text(
                "No internet on my computer",
                "{host} says no internet but my phone on the wifi is fine. {first}",
                fixes=(
                    "Network cable had come out of the floor box during cleaning; reconnected and "
                    "the device checked in.",
                ),
            ),
        ),
        alert=(
            Text(
                "[NinjaOne] Device offline: {host}",
                "{host} ({client}) has not checked in to NinjaOne for {hours} hours. Last "
                "logged-on user: {email}.",
            ),
            Text(
                "[NinjaOne] Server offline: {server}",
                "{server} ({client}) stopped responding to the NinjaOne agent and ping at "
                "{time}. No planned maintenance on record.",
            ),
            Text(
                "[NinjaOne] Agent not reporting: {host}",
                "The NinjaOne agent on {host} ({client}) last reported {hours} hours ago while "
                "the device still answers ping.",
            ),
        ),
        resolutions=(
            "Device had been shut down for a desk move; user powered it on and it checked in.",
            "NinjaOne agent service crashed after an update; reinstalled the agent via "
            "remote PowerShell and the device reports again.",
            "Power supply failed; swapped with the spare PC and arranged a warranty repair.",
            "Network cable unplugged under the desk; reconnected, device online.",
        ),
        escalations=(
            "Server not reachable and nobody on site can get to the console; L2 to attend.",
        ),
    ),
    "disk-space": CategoryText(
        user=(
            Text(
                "Computer says disk full",
                "Getting a message on {host} that the disk is nearly full and I can't save "
                "attachments. {user}",
            ),
        ),
        alert=(
            Text(
                "[NinjaOne] Disk space low: {drive} on {server}",
                "{drive} on {server} ({client}) has {free} GB free ({pct}%). Threshold: 10%.",
            ),
            Text(
                "[NinjaOne] Disk space critical: {drive} on {host}",
                "{drive} on {host} ({client}) has {free} GB free ({pct}%).",
            ),
            Text(
                "[NinjaOne] Disk space low: {drive} on {host}",
                "{drive} on {host} ({client}) fell below 15% free ({free} GB).",
            ),
        ),
        resolutions=(
            "Cleared the Windows Update cache, temp folders and an 18 GB Teams cache; "
            "{drive} now at 34% free.",
            "IIS logs had never been rotated on {server}; archived them and added a cleanup "
            "task. 41% free.",
            "User had 60 GB of phone backups in Downloads; moved to OneDrive with their agreement.",
        ),
        escalations=(
            "Growth is the SQL database itself; needs L2 to extend the volume or move the "
            "data files.",
        ),
    ),
    "vpn": CategoryText(
        user=(
            Text(
                "VPN not connecting",
                "{vpn} won't connect from home, says 'credential or ssl vpn configuration is "
                "wrong'. Worked on Friday. {user}",
            ),
            Text(
                "Can't get to the shared drive from home",
                "Working from home today and can't get onto the S: drive or our practice "
                "software. The VPN icon just spins. {first}",
            ),
            Text(
                "VPN certificate error",
                "Getting a certificate error when I connect to the VPN from my laptop {host}. "
                "Clicked continue but it fails. {user}",
            ),
        ),
        alert=(
            Text(
                "[FortiGate] SSL-VPN login failures for {email}",
                "FortiGate at {client} logged 9 SSL-VPN login failures for {email} in 15 "
                "minutes (reason: sslvpn_login_cert_checked_error).",
            ),
        ),
        resolutions=(
            "User's password had expired and the VPN client cannot change it; reset after "
            "callback, user connected and changed it in the office session.",
            "Client certificate on {host} expired; pushed a new one via Intune, user connected.",
            "User was not in the VPN-Users group after a role change; added with the "
            "manager's approval.",
        ),
        escalations=(
            "Several users failing at once and the RADIUS test fails; escalating to L2 to "
            "check NPS and the domain controller.",
        ),
    ),
    "onboarding": CategoryText(
        user=(
            Text(
                "New starter: {new_user} on {start_day}",
                "Hi, we have a new {new_role} starting on {start_day}: {new_user}. They'll need "
                "email, the usual shared drives, a laptop and access to our practice software. "
                "Same setup as {first} please.\n\n{contact}, {client}",
            ),
            Text(
                "Setup for new employee",
                "{new_user} is joining us as {new_role} next week. Can you set up an account "
                "and a PC? They'll sit at {host}. {contact}",
            ),
        ),
        alert=(),
        resolutions=(
            "Account, mailbox and licence created; added to groups per the role template, "
            "laptop enrolled in Intune and handed over; MFA registered on day one.",
            "User created from the onboarding template, {host} reset and assigned, "
            "practice software licence requested from the vendor and applied.",
        ),
        escalations=("No spare licence left in the tenant; purchase needs approval.",),
    ),
}

WAITING_NOTES = (
    "Asked {first} to try again and confirm whether it works now.",
    "Waiting for {contact} to confirm a time for a remote session.",
    "Sent the client the steps to try; waiting for their reply.",
    "Waiting for the client to confirm before we change anything.",
)
CLOSE_NOTE = "Closed automatically: no reply within 3 days of resolution."

PRINTERS = (
    "HP LaserJet Pro M404dn",
    "Brother MFC-L8900CDW",
    "Kyocera TASKalfa 2553ci",
    "Canon imageRUNNER C3226i",
    "Ricoh IM C3000",
)
LOCATIONS = ("reception", "the back office", "the first floor", "the surgery", "the main office")
BACKUP_PRODUCTS = ("Veeam Backup & Replication", "Datto SIRIS", "Acronis Cyber Protect")
BACKUP_JOBS = ("Nightly - File Server", "Daily - SQL", "Daily - System State", "Weekly - Full")
BACKUP_ERRORS = (
    "VSS writer 'SqlServerWriter' is in a failed state",
    "cannot connect to the repository: access denied",
    "not enough free space in the repository",
    "the job was stopped because it ran longer than its window",
    "snapshot creation failed (0x8004230f)",
)
PATCH_KBS = ("KB5034441", "KB5036893", "KB5039212", "KB5040442", "KB5041585", "KB5043064")
PATCH_ERRORS = ("0x80070643", "0x800f0922", "0x80073712", "0x8024402c", "0x800f081f")
VPN_CLIENTS = ("FortiClient", "Cisco Secure Client", "SonicWall NetExtender", "GlobalProtect")
SENDERS = (
    ("Sage Payroll", "sage-payroll.example"),
    ("Henry Schein", "henryschein.example"),
    ("HMRC Notices", "hmrc-notices.example"),
    ("Travis Perkins", "travisperkins.example"),
    ("Xero", "xero-mail.example"),
    ("Lloyds Bank", "lloydsbank-alerts.example"),
    ("DPD Local", "dpd-local.example"),
)
NEW_ROLES = (
    "receptionist",
    "dental nurse",
    "trainee solicitor",
    "accounts assistant",
    "office administrator",
    "sales coordinator",
    "teaching assistant",
)
DRIVES = ("C:", "D:", "E:")
