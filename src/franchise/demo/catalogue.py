"""Who is in the demo MSP: the company, its staff, its clients and the names people have.

Fixed lists rather than generated ones, so the demo reads like a real business; the seed
decides everything that varies (contacts, users, devices, tickets).
"""

from __future__ import annotations

from dataclasses import dataclass

MSP_NAME = "Northwind Managed IT"
MSP_DOMAIN = "northwind.example"


@dataclass(frozen=True)
class StaffSeat:
    key: str
    name: str
    role: str
    level: str
    password: str

    @property
    def email(self) -> str:
        first, last = self.name.lower().split(" ", 1)
        return f"{first}.{last.replace(' ', '')}@{MSP_DOMAIN}"


# Two L1 and two L2 (one of them the service manager who dispatches), plus the owner.
# The passwords are printed by `franchise demo`; they protect nothing but a demo database.
STAFF = (
    StaffSeat("owner", "Sam Whitfield", "owner", "owner", "demo-owner-pass"),
    StaffSeat("manager", "Priya Natarajan", "service_manager", "L2", "demo-manager-pass"),
    StaffSeat("l2", "Tomasz Nowak", "technician", "L2", "demo-tech-pass"),
    StaffSeat("l1a", "Jordan Blake", "technician", "L1", "demo-tech-pass"),
    StaffSeat("l1b", "Aisha Okafor", "technician", "L1", "demo-tech-pass"),
)
TECHNICIANS_L1 = ("l1a", "l1b")
TECHNICIANS_L2 = ("l2", "manager")


@dataclass(frozen=True)
class Company:
    name: str
    code: str  # hostname prefix, as an MSP names devices: HD-WS-014
    domain: str
    sector: str
    tier: str
    endpoints: int


# The first name is the idempotency marker: if it exists, the demo is already loaded.
CLIENTS = (
    Company("Harbour Dental Care", "HD", "harbourdental.example", "dental", "standard", 6),
    Company("Ashford & Lowe Solicitors", "AL", "ashfordlowe.example", "law", "premium", 9),
    Company("Meridian Accountancy", "MA", "meridianaccounts.example", "accounts", "standard", 7),
    Company(
        "Brackenridge Precision Engineering",
        "BPE",
        "brackenridge.example",
        "manufacturing",
        "premium",
        14,
    ),
    Company("St Aldhelm's Primary School", "SAS", "staldhelms.example", "school", "standard", 12),
    Company(
        "Greenway Veterinary Clinic", "GV", "greenwayvets.example", "veterinary", "essential", 4
    ),
    Company("Copperleaf Architects", "CA", "copperleaf.example", "architecture", "standard", 6),
    Company("Holloway Physiotherapy", "HP", "hollowayphysio.example", "clinic", "essential", 3),
    Company("Redfern Logistics", "RL", "redfernlogistics.example", "logistics", "standard", 8),
    Company("Bluebell Garden Centre", "BGC", "bluebellgardens.example", "retail", "essential", 3),
    Company("Thornbury Estate Agents", "TEA", "thornburyhomes.example", "property", "standard", 5),
    Company("Oakmere Financial Planning", "OFP", "oakmere.example", "finance", "premium", 5),
    Company(
        "Calder Valley Brewing Co.", "CVB", "caldervalley.example", "manufacturing", "standard", 6
    ),
    Company("Linden House Care Home", "LH", "lindenhouse.example", "care", "standard", 7),
    Company("Pemberton Insurance Brokers", "PIB", "pemberton.example", "finance", "standard", 5),
    Company("Wrenfield Opticians", "WO", "wrenfieldoptical.example", "clinic", "essential", 3),
    Company("Fairhaven Dental Studio", "FDS", "fairhavendental.example", "dental", "standard", 4),
    Company(
        "Marlow & Stone Recruitment", "MS", "marlowstone.example", "recruitment", "essential", 4
    ),
    Company(
        "Silverbirch Chartered Surveyors", "SCS", "silverbirch.example", "property", "standard", 5
    ),
    Company(
        "Riverside Community Trust", "RCT", "riversidetrust.example", "charity", "essential", 4
    ),
)

# Who an MSP deals with at each kind of client; the first is the usual primary contact.
CONTACT_ROLES = {
    "dental": ("Practice Manager", "Principal Dentist", "Reception Lead"),
    "law": ("Practice Manager", "Managing Partner", "IT Partner"),
    "accounts": ("Office Manager", "Director", "Payroll Lead"),
    "manufacturing": ("Operations Director", "Finance Manager", "Production Manager"),
    "school": ("School Business Manager", "Head Teacher", "Computing Lead"),
    "veterinary": ("Practice Manager", "Clinical Director", "Head Nurse"),
    "architecture": ("Studio Manager", "Founding Director", "CAD Manager"),
    "clinic": ("Clinic Manager", "Owner", "Reception Lead"),
    "logistics": ("Operations Manager", "Managing Director", "Transport Planner"),
    "retail": ("General Manager", "Owner", "Shop Supervisor"),
    "property": ("Office Manager", "Director", "Senior Partner"),
    "finance": ("Compliance Officer", "Managing Director", "Office Manager"),
    "care": ("Registered Manager", "Deputy Manager", "Administrator"),
    "recruitment": ("Office Manager", "Managing Director", "Team Lead"),
    "charity": ("Chief Executive", "Finance Officer", "Volunteer Coordinator"),
}

FIRST_NAMES = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Lily", "Ella", "Sophie",
    "Hannah", "Chloe", "Zara", "Nadia", "Ruth", "Helen", "Claire", "Fiona", "Joanne", "Karen",
    "Oliver", "George", "Harry", "Jack", "Noah", "Leo", "Arthur", "Oscar", "Thomas", "James",
    "Daniel", "Mohammed", "Ravi", "Ethan", "Callum", "Gareth", "Martin", "Steve", "Paul", "Ian",
    "Marek", "Anika", "Sian", "Rhys", "Megan", "Connor", "Imran", "Yasmin", "Dev", "Beth",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts",
    "Walker", "Wright", "Hughes", "Green", "Hall", "Wood", "Harris", "Clarke", "Patel", "Khan",
    "Lewis", "Jackson", "Turner", "Hill", "Moore", "Cooper", "Ward", "Morris", "King", "Baker",
    "Harrison", "Morgan", "Price", "Bennett", "Shaw", "Gray", "Ali", "Kowalski", "Murphy",
    "O'Brien", "Fletcher", "Chapman", "Ellis", "Hussain", "Mills", "Barker", "Lloyd", "Doyle",
)  # fmt: skip

WORKSTATION_OS = (
    ("Windows 11 Pro 23H2", 5),
    ("Windows 11 Pro 24H2", 4),
    ("Windows 10 Pro 22H2", 3),
)
LAPTOP_OS = (
    ("Windows 11 Pro 23H2", 5),
    ("Windows 11 Pro 24H2", 5),
    ("macOS 14 Sonoma", 1),
)
SERVER_OS = (
    ("Windows Server 2022 Standard", 5),
    ("Windows Server 2019 Standard", 4),
    ("Windows Server 2016 Standard", 1),
)
# Ofcom reserves 01632 960000-960999 for drama, so these never ring a real phone.
PHONE_PREFIX = "01632 960"
