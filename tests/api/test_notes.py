"""Internal notes: minutes worked summed on the ticket; files checked by their bytes, stored
under FRANCHISE_HOME and served only as downloads to signed-in staff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.tickets import notes
from franchise.tickets.models import NoteAttachment, TicketEvent
from franchise.tickets.service import create_ticket
from tests.support import CliInvoker

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def test_sniffing_goes_by_the_bytes_not_the_name() -> None:
    assert notes.sniff(PNG) == "image/png"
    assert notes.sniff(PDF) == "application/pdf"
    assert notes.sniff(b"PK\x03\x04rest") == "application/zip"
    assert notes.sniff("résumé of the outage\n".encode()) == "text/plain"
    assert notes.sniff(b"MZ\x90\x00\x03") is None  # a Windows program
    assert notes.sniff(b"\xff\xfe\x00bad") is None
    assert notes.clean_filename("..\\..\\evil/../x.png") == "x.png"
    assert notes.clean_filename("a\x00b\n.txt") == "ab.txt"


def test_a_note_stores_its_files_and_minutes(db: Database, tmp_path: Path) -> None:
    store = notes.AttachmentStore(tmp_path / "attachments", 1000)
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Printer offline")
        notes.add_internal_note(session, ticket, "Rebooted the spooler", by=None, minutes=20)
        event = notes.add_internal_note(
            session,
            ticket,
            "",
            by=None,
            minutes=15,
            uploads=[notes.Upload("../screen.png", PNG), notes.Upload("log.txt", b"spooler ok\n")],
            store=store,
        )
        assert event.note == "Attached screen.png, log.txt"
        assert notes.minutes_worked(session, ticket) == 35
        rows = notes.attachments(session, ticket)
        assert [(r.filename, r.content_type, r.size) for r in rows] == [
            ("screen.png", "image/png", len(PNG)),
            ("log.txt", "text/plain", 11),
        ]
        # Until the commit the files wait under their pending names only.
        assert not store.path(rows[0].stored_name).exists()
        assert store.pending(rows[0].stored_name).read_bytes() == PNG
    assert store.path(rows[0].stored_name).read_bytes() == PNG
    assert sorted(p.name for p in store.folder.iterdir()) == sorted(r.stored_name for r in rows)


def _note_with_file(session: Session, store: notes.AttachmentStore) -> None:
    ticket = create_ticket(session, title="Printer offline")
    notes.add_internal_note(
        session, ticket, "log", by=None, uploads=[notes.Upload("log.txt", b"ok\n")], store=store
    )
    assert [p.name.endswith(".pending") for p in store.folder.iterdir()] == [True]


def _commit_fails(db: Database, store: notes.AttachmentStore) -> None:
    from franchise.accounts.models import Staff

    # A second account with the same address is flushed with the note: the commit fails.
    with db.unit_of_work() as session:
        _note_with_file(session, store)
        session.add(Staff(name="Twin", email="t@example.com", role="technician", level="L1"))


def _work_fails(db: Database, store: notes.AttachmentStore) -> None:
    with db.unit_of_work() as session:
        _note_with_file(session, store)
        raise RuntimeError("a later step failed")


def _savepoint_fails(session: Session, store: notes.AttachmentStore) -> None:
    with session.begin_nested():
        _note_with_file(session, store)
        raise RuntimeError("refused")


def test_a_failed_commit_leaves_no_file(db: Database, tmp_path: Path) -> None:
    from franchise.accounts.service import add_staff

    store = notes.AttachmentStore(tmp_path / "attachments", 1000)
    with db.unit_of_work() as session:
        add_staff(session, name="Tess", email="t@example.com", role="technician", level="L1")
    with pytest.raises(IntegrityError):
        _commit_fails(db, store)
    assert list(store.folder.iterdir()) == []
    with pytest.raises(RuntimeError):
        _work_fails(db, store)
    assert list(store.folder.iterdir()) == []
    # A savepoint around the note rolls back, the rest of the work commits.
    with db.unit_of_work() as session:
        with pytest.raises(RuntimeError):
            _savepoint_fails(session, store)
        create_ticket(session, title="Kept")
    assert list(store.folder.iterdir()) == []
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count(NoteAttachment.id))) == 0


def test_one_bad_file_refuses_the_whole_note_and_stores_nothing(
    session: Session, tmp_path: Path
) -> None:
    store = notes.AttachmentStore(tmp_path / "attachments", 100)
    ticket = create_ticket(session, title="Printer offline")
    before = session.scalar(select(func.count()).select_from(TicketEvent))
    with pytest.raises(InvalidInput, match=r"attachment 'setup.exe' is not a file type"):
        notes.add_internal_note(
            session,
            ticket,
            "tried the installer",
            by=None,
            uploads=[notes.Upload("ok.png", PNG), notes.Upload("setup.exe", b"MZ\x90\x00")],
            store=store,
        )
    with pytest.raises(InvalidInput, match=r"attachment 'big.pdf' is 290 bytes; the limit is 100"):
        notes.add_internal_note(
            session, ticket, "x", by=None, uploads=[notes.Upload("big.pdf", PDF * 10)], store=store
        )
    with pytest.raises(InvalidInput, match="minutes worked must be between 0 and 1440"):
        notes.add_internal_note(session, ticket, "x", by=None, minutes=5000)
    with pytest.raises(InvalidInput, match="the note is empty"):
        notes.add_internal_note(session, ticket, "  ", by=None)
    assert session.scalar(select(func.count()).select_from(TicketEvent)) == before
    assert session.scalar(select(func.count()).select_from(NoteAttachment)) == 0
    assert not store.folder.exists()


def test_api_multipart_note_and_download_headers(
    app_client: TestClient, l1: dict[str, str], tmp_path: Path
) -> None:
    ticket = app_client.post("/api/v1/tickets", json={"title": "VPN drops"}, headers=l1).json()
    url = f"/api/v1/tickets/{ticket['id']}/notes"
    # Over the plain body limit (64 kB here) but within the attachment limit: accepted.
    log = b"connection reset\n" * 5000
    answer = app_client.post(
        url,
        data={"text": "Client log attached", "minutes": "25"},
        files=[("file", ("vpn.log", log, "application/x-msdownload"))],
        headers=l1,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["minutes"], body["minutes_worked"]) == (25, 25)
    [attached] = body["attachments"]
    assert (attached["filename"], attached["content_type"], attached["size"]) == (
        "vpn.log",
        "text/plain",
        len(log),
    )
    assert (
        app_client.post(url, json={"text": "called back", "minutes": 5}, headers=l1).json()[
            "minutes_worked"
        ]
        == 30
    )
    shown = app_client.get(f"/api/v1/tickets/{ticket['id']}", headers=l1).json()
    assert shown["minutes_worked"] == 30
    assert [a["filename"] for a in shown["attachments"]] == ["vpn.log"]
    assert [e["minutes"] for e in shown["history"] if e["kind"] == "note"] == [25, 5]

    got = app_client.get(attached["url"], headers=l1)
    assert got.status_code == 200
    assert got.content == log
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["content-disposition"].startswith('attachment; filename="vpn.log"')
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert app_client.get(attached["url"]).status_code == 401
    other = app_client.post("/api/v1/tickets", json={"title": "x"}, headers=l1).json()
    assert (
        app_client.get(f"/api/v1/tickets/{other['id']}/attachments/{attached['id']}", headers=l1)
    ).status_code == 404

    refused = app_client.post(
        url,
        data={"text": "html page"},
        files=[("file", ("page.html", b"\x00<script>alert(1)</script>", "text/html"))],
        headers=l1,
    )
    assert refused.status_code == 422
    assert "attachment 'page.html' is not a file type" in refused.json()["error"]
    assert (
        app_client.get(f"/api/v1/tickets/{ticket['id']}", headers=l1).json()["minutes_worked"] == 30
    )


def test_cli_note_with_attach(cli: CliInvoker, db: Database, tmp_path: Path) -> None:
    with db.unit_of_work() as session:
        ticket_id = create_ticket(session, title="Backup failed").id
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)
    result = cli(
        "ticket",
        "note",
        str(ticket_id),
        "Job log",
        "--attach",
        str(report),
        "--minutes",
        "12",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["minutes_worked"] == 12
    assert [(a["filename"], a["content_type"]) for a in data["attachments"]] == [
        ("report.pdf", "application/pdf")
    ]
    assert (tmp_path / "attachments").is_dir()
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ\x90\x00")
    bad = cli("ticket", "note", str(ticket_id), "x", "--attach", str(program))
    assert bad.exit_code != 0
    assert "attachment 'tool.exe' is not a file type" in bad.output
    missing = cli("ticket", "note", str(ticket_id), "x", "--attach", str(tmp_path / "nope.txt"))
    assert "no such file" in missing.output
