from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts import service
from franchise.accounts.passwords import verify_password
from franchise.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from tests.support import CliInvoker


def test_passwords_are_stored_as_argon2id_hashes(session: Session) -> None:
    staff = service.add_staff(
        session,
        name="Ana Tech",
        email="Ana@Example.com",
        role="technician",
        level="L1",
        password="s3cret-passphrase",
    )
    assert staff.email == "ana@example.com"
    assert staff.password_hash is not None
    assert staff.password_hash.startswith("$argon2id$")
    assert "s3cret-passphrase" not in staff.password_hash
    assert verify_password(staff.password_hash, "s3cret-passphrase")
    assert not verify_password(staff.password_hash, "wrong")


def test_duplicate_email_is_a_conflict(session: Session) -> None:
    service.add_staff(session, name="A", email="a@example.com", role="technician", level="L1")
    with pytest.raises(Conflict, match=r"a@example\.com"):
        service.add_staff(session, name="B", email="A@example.com", role="technician", level="L2")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("role", "boss", "unknown role 'boss'"),
        ("level", "L3", "unknown level 'L3'"),
        ("email", "nope", "not an e-mail"),
    ],
)
def test_bad_staff_fields_are_named(
    session: Session, field: str, value: str, fragment: str
) -> None:
    args = {
        "name": "X",
        "email": "x@example.com",
        "role": "technician",
        "level": "L1",
        field: value,
    }
    with pytest.raises(InvalidInput, match=fragment):
        service.add_staff(session, **args)


def test_staff_found_by_id_email_or_name(session: Session) -> None:
    staff = service.add_staff(
        session, name="Bo Lead", email="bo@example.com", role="owner", level="owner"
    )
    assert service.get_staff(session, str(staff.id)).id == staff.id
    assert service.get_staff(session, "BO@example.com").id == staff.id
    assert service.get_staff(session, "bo lead").id == staff.id
    with pytest.raises(NotFound):
        service.get_staff(session, "nobody@example.com")


def test_token_authenticates_until_revoked_and_only_hash_is_stored(session: Session) -> None:
    staff = service.add_staff(
        session, name="Bot", email="bot@example.com", role="technician", level="L1"
    )
    token, plain = service.create_token(session, staff=staff, name="phone system")
    assert plain.startswith("frn_")
    assert len(plain) > 40
    assert plain not in token.token_hash
    assert service.authenticate_token(session, plain).id == staff.id
    assert token.last_used_at is not None
    service.revoke_token(session, token.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        service.authenticate_token(session, plain)
    with pytest.raises(NotAuthenticated):
        service.authenticate_token(session, "frn_made-up")


@pytest.mark.parametrize("role", ["technician", "service_manager", "admin"])
def test_only_the_owner_role_may_have_the_owner_level(session: Session, role: str) -> None:
    # The owner level decides the owner's approvals: a technician set to it would gain that.
    with pytest.raises(InvalidInput, match="Role and Level: the owner level is for the owner role"):
        service.add_staff(session, name="X", email="x@example.com", role=role, level="owner")
    with pytest.raises(InvalidInput, match=f"for role '{role}'"):
        service.check_role_level(role, "owner")
    assert service.list_staff(session) == []


@pytest.mark.parametrize(
    ("role", "level"),
    [("owner", "owner"), ("admin", "L2"), ("service_manager", "L2"), ("technician", "L1")],
)
def test_usual_roles_and_levels_are_kept(session: Session, role: str, level: str) -> None:
    staff = service.add_staff(session, name="X", email="x@example.com", role=role, level=level)
    assert (staff.role, staff.level) == (role, level)


def test_the_demo_team_fits_the_role_and_level_rule() -> None:
    from franchise.demo.catalogue import STAFF

    for seat in STAFF:
        service.check_role_level(seat.role, seat.level)


def test_the_cli_refuses_the_owner_level_for_a_technician(cli: CliInvoker) -> None:
    result = cli(
        "user", "add", "Tia", "--email", "tia@example.com", "--role", "technician",
        "--level", "owner", "--password", "a long enough passphrase",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "the owner level is for the owner role only" in result.output
