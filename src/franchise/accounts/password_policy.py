"""The one password rule for every way a password is set (Staff page, CLI, API, reset).

Pure apart from reading the shipped list once: at least 12 characters, at most 1,024 (a
longer one only costs hashing time), and not one of the 100,000 most common passwords.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files

from franchise.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024


@cache
def common_passwords() -> frozenset[str]:
    """The shipped breached-password list (see data/LICENSE-common-passwords.txt), lower case."""
    raw = files("franchise.accounts").joinpath("data/common-passwords.txt.gz").read_bytes()
    text = gzip.decompress(raw).decode("utf-8", errors="replace")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_password(password: str) -> None:
    """Raise InvalidInput saying what is wrong; never echoes the password."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"the password may have at most {MAX_LENGTH} characters")
    # Case does not make a common password safe: "Password1234" is guessed as early.
    if password.strip().lower() in common_passwords():
        raise InvalidInput(
            "this password is on the list of commonly used (breached) passwords; choose another"
        )
