"""Templates lint: every problem located by line, so an editor can go straight to it."""

from __future__ import annotations

from pathlib import Path

from franchise.messages.definition import STAGES, VARIABLES
from franchise.messages.lint import LintContext, lint_templates
from franchise.messages.service import STARTER

# Line numbers in the expectations below are counted from this text (line 1 = "templates:").
BROKEN = """\
templates:
  - key: hello
    stage: acknowledged
    colour: blue
    subject: "[#{{ ticket.id }}] Hi {{ contact.nmae }}"
    body: |
      Hello {{ contact.name }},

      We will call you at {{ phone }}.
  - key: hello
    stage: urgent
    subject: "[#{{ ticket.id }}] again"
    body: "{{ ticket.__class__ }}"
  - key: vpn-done
    stage: resolved
    runbook: vpn-nope
    subject: ok
    body: |
      Fixed.
      {% if ticket.priority == "high" %}
      Sorry for the wait.
  - key: update
    stage: update
    subject: "[#{{ ticket.id }}]"
    body: "{{ next_update }}"
"""


def codes_by_line(text: str, context: LintContext | None = None) -> list[tuple[int, str]]:
    _, problems = lint_templates(text, "t.yaml", context)
    return [(p.line, p.code) for p in problems]


def test_every_problem_is_reported_on_its_line() -> None:
    found = codes_by_line(BROKEN, LintContext(runbooks=["vpn-auth-failure"]))
    assert found == [
        *[(1, "missing-stage")] * 4,
        (4, "unknown-field"),
        (5, "unknown-variable"),
        (9, "unknown-variable"),
        (10, "duplicate-key"),
        (11, "unknown-stage"),
        (13, "unsafe-attribute"),
        (14, "unknown-runbook"),
        (20, "template-syntax"),
        (22, "key-is-stage"),
    ]


def test_messages_say_what_is_wrong() -> None:
    _, problems = lint_templates(BROKEN, "t.yaml", LintContext(runbooks=["vpn-auth-failure"]))
    by_code = {p.code: p.format() for p in problems}
    assert "t.yaml:4:" in by_code["unknown-field"]
    assert "'colour'" in by_code["unknown-field"]
    assert "contact' has no field 'nmae'" in "\n".join(p.message for p in problems if p.line == 5)
    assert "unknown variable 'phone'" in "\n".join(p.message for p in problems if p.line == 9)
    assert "unknown stage 'urgent'" in by_code["unknown-stage"]
    assert "already defined at line 2" in by_code["duplicate-key"]
    assert "'vpn-nope'" in by_code["unknown-runbook"]
    missing = {p.message.split("'")[1] for p in problems if p.code == "missing-stage"}
    assert missing == {"waiting-on-client", "escalated", "resolved", "outage"}
    assert "'if'" in by_code["template-syntax"]


def test_runbook_overrides_are_not_checked_without_a_runbook_list() -> None:
    assert (14, "unknown-runbook") not in codes_by_line(BROKEN)


def test_a_yaml_syntax_error_is_reported_with_its_line() -> None:
    assert codes_by_line("templates:\n  - key: a\n    stage: [update\n") == [(3, "yaml-syntax")]


def test_a_document_without_a_templates_list_is_refused() -> None:
    assert codes_by_line("- key: a\n") == [(1, "schema")]


def test_a_syntax_error_inside_a_folded_body_points_into_the_file() -> None:
    text = (
        "templates:\n"
        "  - key: a\n"
        "    stage: update\n"
        "    subject: s\n"
        "    body: |\n"
        "      one\n"
        "      two {{ ticket.id }\n"
    )
    assert (7, "template-syntax") in codes_by_line(text)


def test_set_variables_and_jinja_builtins_are_not_unknown() -> None:
    text = (
        "templates:\n"
        "  - key: a\n"
        "    stage: update\n"
        "    subject: s\n"
        "    body: |\n"
        "      {% set who = contact.name %}{{ who }}\n"
        "      {% for n in range(2) %}{{ n }}{% endfor %}\n"
    )
    assert [code for _, code in codes_by_line(text) if code != "missing-stage"] == []


def test_the_starter_templates_lint_clean_and_cover_every_stage() -> None:
    runbooks = [p.stem for p in (STARTER.parent / "runbooks").glob("*.yaml")]
    parsed, problems = lint_templates(
        STARTER.read_text(encoding="utf-8"), str(STARTER), LintContext(runbooks=runbooks)
    )
    assert problems == []
    assert parsed is not None
    generic = {t.stage: t for t in parsed.templates if t.runbook is None}
    assert set(generic) == set(STAGES)
    for t in parsed.templates:
        assert t.subject.startswith("[#{{ ticket.id }}]"), t.key
    vpn = parsed.for_stage("resolved", "vpn-auth-failure")
    assert vpn is not None
    assert vpn.key == "vpn-reconnect-resolved"


def test_documented_variables_match_the_starter_header() -> None:
    header = Path(STARTER).read_text(encoding="utf-8").split("templates:", 1)[0]
    for name, fields in VARIABLES.items():
        for f in fields or ("",):
            assert (f"{name}.{f}" if f else name) in header
