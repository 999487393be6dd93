"""The ticket CSV exports we read: which header means which field, per PSA. Pure.

Headers are matched on letters, digits and '#' only, without regard to case, so
"Ticket #", "ticket#", "TICKET_#" and "Date Entered"/"date_entered" are the same column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The fields an import fills; external_id and title are required.
FIELDS = (
    "external_id",
    "title",
    "body",
    "client",
    "requester",
    "category",
    "priority",
    "status",
    "created_at",
)
REQUIRED = ("external_id", "title")
DATE_ORDERS = ("mdy", "dmy")


def header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9#]+", "", name.lower())


@dataclass(frozen=True)
class Format:
    """Accepted header names for each field, in order of preference.

    `category` lists several columns that are all read and joined with " / " (e.g.
    ConnectWise Type / Subtype / Item), most general first.
    """

    name: str
    label: str
    columns: Mapping[str, Sequence[str]]
    category_columns: Sequence[Sequence[str]] = ()
    # How to read 03/04/2026: US exports are month first, UK/EU exports day first.
    date_order: str = "mdy"
    date_format: str | None = None
    priority_map: Mapping[str, str] = field(default_factory=dict)
    status_map: Mapping[str, str] = field(default_factory=dict)
    category_map: Mapping[str, str] = field(default_factory=dict)


CONNECTWISE = Format(
    name="connectwise",
    label="ConnectWise PSA (Manage) service ticket export",
    columns={
        "external_id": ("Ticket #", "Ticket Number", "Ticket Nbr", "Ticket ID", "Id", "SR #"),
        "title": ("Summary", "Summary Description", "Ticket Summary", "Subject"),
        "body": ("Initial Description", "Detail Description", "Description", "Notes"),
        "client": ("Company", "Company Name", "Company ID", "Account"),
        "requester": ("Contact", "Contact Name", "Contact Email"),
        "priority": ("Priority", "Priority Name"),
        "status": ("Status", "Status Name"),
        "created_at": ("Entered", "Date Entered", "Date Created", "Created", "Opened"),
    },
    category_columns=(
        ("Type", "Service Type", "Type Name"),
        ("Subtype", "Sub Type", "Service Subtype", "Subtype Name"),
        ("Item", "Service Item", "Item Name"),
    ),
    date_order="mdy",
)

AUTOTASK = Format(
    name="autotask",
    label="Autotask PSA ticket search export",
    columns={
        "external_id": ("Ticket Number", "Ticket #", "Ticket ID", "Number"),
        "title": ("Title", "Ticket Title", "Summary"),
        "body": ("Description", "Ticket Description", "Details"),
        "client": ("Account", "Account Name", "Company", "Organization"),
        "requester": ("Contact", "Contact Name", "Contact Email"),
        "priority": ("Priority", "Priority Label"),
        "status": ("Status", "Status Label"),
        "created_at": ("Created", "Create Date", "Created Date", "Date Created", "Created On"),
    },
    category_columns=(
        ("Issue Type", "Issue"),
        ("Sub-Issue Type", "Sub Issue Type", "Subissue Type", "Sub-Issue"),
    ),
    date_order="mdy",
)

HALOPSA = Format(
    name="halopsa",
    label="HaloPSA ticket report export",
    columns={
        "external_id": ("Ticket ID", "ID", "Ticket Number", "Request ID", "Ticket #"),
        "title": ("Summary", "Subject", "Ticket Summary"),
        "body": ("Details", "Detail", "Description", "Ticket Details", "Note"),
        "client": ("Client", "Client Name", "Customer", "Customer Name", "Organisation"),
        "requester": ("User", "User Name", "End User", "Requester", "Contact"),
        "priority": ("Priority", "Priority Name", "Priority ID"),
        "status": ("Status", "Status Name"),
        "created_at": ("Date Logged", "Date Opened", "Date Occurred", "Logged", "Opened"),
    },
    category_columns=(
        ("Category", "Category 1", "Category1", "Category Name"),
        ("Category 2", "Category2", "Sub Category", "Subcategory"),
    ),
    # Halo is most used in the UK and Australia; its exports follow the user's locale.
    date_order="dmy",
)

GENERIC = Format(name="generic", label="any CSV, described by a mapping file", columns={})

FORMATS = {f.name: f for f in (CONNECTWISE, AUTOTASK, HALOPSA, GENERIC)}


def resolve_columns(fmt: Format, headers: Sequence[str]) -> tuple[dict[str, int], list[int]]:
    """Map each field to its column index, and list the category columns present."""
    positions: dict[str, int] = {}
    for index, name in enumerate(headers):
        positions.setdefault(header_key(name), index)
    found: dict[str, int] = {}
    for name, aliases in fmt.columns.items():
        for alias in aliases:
            if header_key(alias) in positions:
                found[name] = positions[header_key(alias)]
                break
    category: list[int] = []
    for aliases in fmt.category_columns:
        present = [positions[header_key(a)] for a in aliases if header_key(a) in positions]
        if present:
            category.append(present[0])
    return found, category
