"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from franchise.accounts.models import (
    ApiToken,
    LoginThrottleEntry,
    PasskeyCredential,
    RecoveryCode,
    SignInEvent,
    Staff,
    TotpFactor,
)
from franchise.accounts.session_models import WebSession
from franchise.alerts.models import AlertGroup, ClientMapping, InboxItem, Integration
from franchise.approvals.models import ApprovalRequest
from franchise.ask.models import AskReply
from franchise.clients.models import Client, ClientContact, ClientFact, Endpoint
from franchise.contacts.models import OwnerContact
from franchise.db import Base
from franchise.drills.models import Drill, ReviewItem
from franchise.duty.models import DutyShift
from franchise.kb.models import KbArticle
from franchise.lessons.models import Lesson
from franchise.mailin.models import MailMessage, TicketAttachment
from franchise.messages.models import TicketMessage
from franchise.ops.models import WorkerHeartbeat
from franchise.orgsettings.models import OrgSetting
from franchise.outbox.models import OutboxItem
from franchise.people.models import ActionLink, StaffChannel, StaffNotice
from franchise.policydocs.models import PolicyRevision
from franchise.psa.models import ImportState, WebhookEvent
from franchise.runbooks.models import Runbook, RunbookRevision, RunbookRun, RunStep
from franchise.tickets.models import NoteAttachment, Ticket, TicketEvent

__all__ = [
    "ActionLink",
    "AlertGroup",
    "ApiToken",
    "ApprovalRequest",
    "AskReply",
    "Base",
    "Client",
    "ClientContact",
    "ClientFact",
    "ClientMapping",
    "Drill",
    "DutyShift",
    "Endpoint",
    "ImportState",
    "InboxItem",
    "Integration",
    "KbArticle",
    "Lesson",
    "LoginThrottleEntry",
    "MailMessage",
    "NoteAttachment",
    "OrgSetting",
    "OutboxItem",
    "OwnerContact",
    "PasskeyCredential",
    "PolicyRevision",
    "RecoveryCode",
    "ReviewItem",
    "RunStep",
    "Runbook",
    "RunbookRevision",
    "RunbookRun",
    "SignInEvent",
    "Staff",
    "StaffChannel",
    "StaffNotice",
    "Ticket",
    "TicketAttachment",
    "TicketEvent",
    "TicketMessage",
    "TotpFactor",
    "WebSession",
    "WebhookEvent",
    "WorkerHeartbeat",
]
