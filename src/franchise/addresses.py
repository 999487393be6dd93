"""What counts as an e-mail address, everywhere one is typed: staff, client contacts,
policy documents and the SMTP settings.

A plain shape check (something@domain.tld) that also refuses the characters that would
split or extend an address list in a header (`<>,;"`); deliverability is the mail
server's to judge.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
