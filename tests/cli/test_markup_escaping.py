"""Text people write prints literally: Rich must never read it as console markup.

Without escaping, "[/]" crashes the command (MarkupError) and "[bold red]...[/bold red]"
is swallowed as a style instead of printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from franchise.runbooks.service import STARTER
from tests.support import CliInvoker

TEXT = "a [/] b [bold red]styled[/bold red] c"


def assert_literal(result: Result, *expected: str) -> str:
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    out = result.stdout
    assert "[/]" in out
    assert "[bold red]styled[/bold red]" in out
    for text in expected:
        assert text in out
    return out


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Table cells must not wrap inside the text under test."""
    from franchise.cli.context import console

    monkeypatch.setattr(console, "_width", 250)


@pytest.fixture
def ready(cli: CliInvoker) -> CliInvoker:
    result = cli("init", "--json")
    assert result.exit_code == 0, result.output
    return cli


@pytest.fixture
def ticket_id(ready: CliInvoker) -> int:
    result = ready("ticket", "new", TEXT, "--body", f"body {TEXT}", "--json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["id"])


@pytest.fixture
def bracket_runbook(ready: CliInvoker, tmp_path: Path) -> str:
    """A runbook whose title, step text and keywords hold brackets, imported from YAML."""
    source = (STARTER / "vpn-auth-failure.yaml").read_text()
    edited = (
        source.replace("key: vpn-auth-failure", "key: vpn-brackets")
        .replace("title: VPN won't connect (authentication failure)", f'title: "VPN {TEXT}"')
        .replace("keywords: [vpn, ", 'keywords: ["[bold red]styled[/bold red]", "a [/] b", vpn, ')
        .replace(
            "      Look at the firewall VPN log",
            f"      Step {TEXT}. Look at the firewall VPN log",
            1,
        )
    )
    assert edited.count(TEXT) == 2 and "vpn-brackets" in edited
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "vpn-brackets.yaml").write_text(edited, encoding="utf-8")
    result = ready("runbook", "import", str(folder))
    assert result.exit_code == 0, result.output
    return "vpn-brackets"


def test_ticket_new_prints_the_title_literally(ready: CliInvoker) -> None:
    assert_literal(ready("ticket", "new", TEXT), "Opened ticket #", f": {TEXT}")


def test_ticket_show_prints_title_and_body_literally(ready: CliInvoker, ticket_id: int) -> None:
    assert_literal(ready("ticket", "show", str(ticket_id)), f"#{ticket_id} {TEXT}", f"body {TEXT}")


def test_ticket_list_prints_the_title_literally(ready: CliInvoker, ticket_id: int) -> None:
    assert_literal(ready("ticket", "list"), TEXT)


def test_lesson_text_prints_literally(ready: CliInvoker, ticket_id: int) -> None:
    added = ready("lesson", "add", TEXT, "--ticket", str(ticket_id), "--runbook", "vpn")
    assert added.exit_code == 0, f"{added.output}\n{added.exception!r}"
    assert_literal(ready("lesson", "list"), TEXT)


def test_staff_name_prints_literally(ready: CliInvoker) -> None:
    added = ready(
        "user",
        "add",
        TEXT,
        "--email",
        "brackets@example.com",
        "--password",
        "x-long-enough-passphrase",
    )
    assert_literal(added, f"Added {TEXT} <brackets@example.com>")
    assert_literal(ready("user", "list"), TEXT)


def test_runbook_show_and_list_print_brackets_literally(
    ready: CliInvoker, bracket_runbook: str
) -> None:
    shown = assert_literal(
        ready("runbook", "show", bracket_runbook), f"VPN {TEXT}", f"Step {TEXT}."
    )
    # The step kind is printed in brackets too, not taken for a style.
    assert "[check]" in shown
    assert_literal(ready("runbook", "list"), f"VPN {TEXT}")


def test_suggest_prints_matched_keywords_literally(ready: CliInvoker, bracket_runbook: str) -> None:
    out = assert_literal(ready("suggest", f"VPN fails: {TEXT}"), bracket_runbook)
    assert "keywords: [bold red]styled[/bold red], a [/] b" in out
