"""Reading e-mail without a server: references, reply text, HTML, attachments."""

from __future__ import annotations

from email.message import EmailMessage

from franchise.mailin.parse import clean_filename, html_to_text, parse_mail, strip_quoted


def test_subject_reference_sender_and_answered_ids_are_read() -> None:
    message = EmailMessage()
    message["From"] = '"Ellen Park" <Ellen@PineStLaw.com>'
    message["Subject"] = "RE: [#517] Update: Outlook asks for password"
    message["Message-ID"] = "<abc@pinestlaw.com>"
    message["In-Reply-To"] = "<ours-1@msp.example>"
    message["References"] = "<ours-0@msp.example> <ours-1@msp.example>"
    message.set_content("Still failing.")
    mail = parse_mail(message.as_bytes(), fallback_id="<fallback>")
    assert (mail.sender, mail.sender_name, mail.ticket_ref) == (
        "ellen@pinestlaw.com",
        "Ellen Park",
        517,
    )
    assert mail.answers[0] == "<ours-1@msp.example>"
    assert "<ours-0@msp.example>" in mail.answers
    assert (mail.message_id, mail.automatic) == ("<abc@pinestlaw.com>", False)


def test_a_missing_message_id_uses_the_fallback_and_long_ids_are_hashed() -> None:
    message = EmailMessage()
    message["From"] = "a@b.example"
    message.set_content("x")
    assert parse_mail(message.as_bytes(), fallback_id="<uid-1-7@imap>").message_id == (
        "<uid-1-7@imap>"
    )
    message["Message-ID"] = "<" + "x" * 300 + "@b.example>"
    external = parse_mail(message.as_bytes(), fallback_id="-").external_id
    assert external.startswith("sha256:")
    assert len(external) <= 200


def test_html_only_mail_becomes_readable_text() -> None:
    message = EmailMessage()
    message["From"] = "a@b.example"
    message.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Printer &amp; scanner"
        "</p><p>both offline</p><script>x()</script></body></html>",
        subtype="html",
    )
    assert (
        parse_mail(message.as_bytes(), fallback_id="-").text == "Printer & scanner\n\nboth offline"
    )


def test_reply_text_stops_where_the_quote_starts() -> None:
    outlook = "Done, thanks.\n\n-----Original Message-----\nFrom: Support\nSubject: [#5]\n"
    gmail = "Works now.\n\nOn Mon, 23 Nov 2026 at 10:00, Support <s@msp.example> wrote:\n> hi\n"
    inline = "Yes\n> Did the reboot help?\n"
    assert strip_quoted(outlook) == "Done, thanks."
    assert strip_quoted(gmail) == "Works now."
    assert strip_quoted(inline) == "Yes"
    assert strip_quoted("> only a quote") == "> only a quote"


def test_attachment_names_lose_folders_and_control_characters() -> None:
    assert clean_filename("C:\\Users\\x\\..\\report.pdf") == "report.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("in\x00voice\n.pdf") == "invoice.pdf"
    assert clean_filename("") == "attachment"


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<div>a</div><div>b<br>c</div>") == "a\n\nb\nc"
