"""Rendering in the sandbox: strict variables, no way into Python internals, plain text."""

from __future__ import annotations

from typing import Any

import pytest

from franchise.errors import InvalidInput
from franchise.messages.definition import Template
from franchise.messages.render import make_context, render_message
from franchise.messages.timing import format_when, parse_next_update


def context(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "client": {"name": "O'Brien & Sons", "tier": "standard"},
        "contact": {"name": "Dana Whitfield", "email": "dana@obrien.example"},
        "ticket": {
            "id": 42,
            "title": "VPN <down>",
            "status": "in_progress",
            "priority": "high",
            "level": "L1",
            "category": "vpn",
        },
        "technician": {"name": "Priya Shah", "email": "priya@msp.example"},
        "next_update": "Tuesday 3 June, 15:30 UTC",
        "step": {"id": "", "text": ""},
        "org": {"name": "Northwind IT"},
    }
    values.update(overrides)
    return make_context(**values)


def template(body: str, subject: str = "[#{{ ticket.id }}] {{ ticket.title }}") -> Template:
    return Template(key="probe", stage="update", subject=subject, body=body)


def test_it_fills_every_documented_variable() -> None:
    subject, body = render_message(
        template(
            "Hello {{ contact.name }} at {{ client.name }} ({{ client.tier }}),\n"
            "{{ technician.name }} <{{ technician.email }}> works on {{ ticket.category }} "
            "at {{ ticket.level }}, {{ ticket.priority }}, {{ ticket.status }}.\n"
            "Next update by {{ next_update }}.\n"
            "{% if step.id %}Step {{ step.text }}\n{% endif %}"
            "{{ org.name }} / {{ contact.email }}"
        ),
        context(),
    )
    assert subject == "[#42] VPN <down>"
    assert body == (
        "Hello Dana Whitfield at O'Brien & Sons (standard),\n"
        "Priya Shah <priya@msp.example> works on vpn at L1, high, in_progress.\n"
        "Next update by Tuesday 3 June, 15:30 UTC.\n"
        "Northwind IT / dana@obrien.example\n"
    )


def test_plain_text_is_not_html_escaped() -> None:
    _, body = render_message(template("{{ client.name }} {{ ticket.title }}"), context())
    assert body == "O'Brien & Sons VPN <down>\n"


def test_a_missing_variable_is_an_error_naming_it_and_the_template() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_message(template("Hi {{ contact.name }},\n\nSee {{ portal_url }}"), context())
    message = caught.value.message
    assert "template 'probe' (body, line 3)" in message
    assert "missing variable 'portal_url'" in message


def test_a_missing_field_is_an_error_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"template 'probe' \(subject.*unknown field 'titel'"):
        render_message(template("ok", subject="[#{{ ticket.id }}] {{ ticket.titel }}"), context())


@pytest.mark.parametrize(
    "body",
    [
        "{{ ticket.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ client.name.__class__.__init__.__globals__ }}",
        "{{ '{0.__class__}'.format(ticket) }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ticket.update({'id': 1}) }}",
    ],
)
def test_sandbox_escapes_are_refused_with_a_clear_error(body: str) -> None:
    with pytest.raises(InvalidInput, match="refused by the template sandbox") as caught:
        render_message(template(body), context())
    assert "template 'probe' (body" in caught.value.message


def test_huge_output_from_a_short_template_is_refused() -> None:
    with pytest.raises(InvalidInput, match="refused by the template sandbox"):
        render_message(template("{{ 'x' * 1000000000 }}"), context())
    with pytest.raises(InvalidInput, match="refused by the template sandbox"):
        render_message(template("{{ 9 ** 999999 }}"), context())


def test_a_subject_is_one_line_however_the_template_breaks_it() -> None:
    subject, _ = render_message(
        template("ok", subject="[#{{ ticket.id }}]\n  {{ ticket.title }}\r\nBcc: x@evil.example"),
        context(),
    )
    assert subject == "[#42] VPN <down> Bcc: x@evil.example"
    assert "\n" not in subject


def test_a_syntax_error_names_the_template_and_line() -> None:
    with pytest.raises(InvalidInput, match=r"template 'probe' \(body, line 2\): template syntax"):
        render_message(template("fine\n{% if ticket.id %}never closed"), context())


def test_context_refuses_objects_that_are_not_plain_values() -> None:
    with pytest.raises(TypeError, match=r"ticket\.title"):
        context(
            ticket={
                "id": 1,
                "title": object(),
                "status": "new",
                "priority": "low",
                "level": "L1",
                "category": "",
            }
        )


def test_next_update_is_parsed_and_written_for_people() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 6, 3, 13, 30, tzinfo=UTC)
    assert format_when(parse_next_update("+2h", now)) == "Tuesday 3 June, 15:30 UTC"
    assert parse_next_update("90m", now) == datetime(2025, 6, 3, 15, 0, tzinfo=UTC)
    assert parse_next_update("2025-06-04T09:00", now) == datetime(2025, 6, 4, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="not a time"):
        parse_next_update("soonish", now)
