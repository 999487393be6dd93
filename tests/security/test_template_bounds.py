"""Finding 12: widths and repeats are refused inside the sandbox, before the memory is taken."""

from __future__ import annotations

import tracemalloc

import pytest

from franchise.errors import InvalidInput
from franchise.messages.render import render_message
from tests.messages.test_render import context, template

# Each would build 30 MB or more; refused, none may take more than a few hundred KB.
HUGE = [
    "{{ '%30000000d' % 1 }}",
    "{{ '%-30000000s' % 'x' }}",
    "{{ '%.30000000f' % 1.5 }}",
    "{{ '%*d' % (30000000, 1) }}",
    "{{ 'x'.center(30000000) }}",
    "{{ 'x'.ljust(30000000) }}",
    "{{ 'x'.rjust(width=30000000) }}",
    "{{ '7'.zfill(30000000) }}",
    "{{ 'a\tb'.expandtabs(30000000) }}",
    "{{ 'x'|center(30000000) }}",
    "{{ 'x\ny'|indent(30000000) }}",
    "{{ '%30000000d'|format(1) }}",
    "{{ '{:30000000}'.format(1) }}",
    "{{ '{:{w}}'.format(1, w=30000000) }}",
    "{{ 'a' * 10**8 }}",
    "{% for i in range(1000) %}{{ 'x' * 90000 }}{% endfor %}",
]


@pytest.mark.parametrize("body", HUGE)
def test_huge_widths_are_refused_before_allocation(body: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="refused by the template sandbox"):
            render_message(template(body), context())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"{body}: {peak} bytes"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{{ '%5.2f' % 3.14159 }}", " 3.14"),
        ("{{ '%d tickets' % 3 }}", "3 tickets"),
        ("[{{ 'ab'.center(6) }}]", "[  ab  ]"),
        ("{{ '{:>4}'.format(7) }}", "   7"),
        ("{{ '{0:,}'.format(1234567) }}", "1,234,567"),
        ("{{ '%s'|format('ok') }}", "ok"),
    ],
)
def test_ordinary_formatting_still_works(body: str, expected: str) -> None:
    _subject, text = render_message(template(body), context())
    # The body is stripped and ends with one newline, as every e-mail body does.
    assert text == expected.strip() + "\n"
