"""`franchise demo` on an empty database. Kept out of tests/demo/test_demo.py, whose demo
stays loaded in an open transaction for the whole module (on SQLite that holds the write lock
this command needs)."""

from __future__ import annotations

from typing import Any


def test_franchise_demo_command_prints_the_summary(cli: Any) -> None:
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "Demo MSP loaded: 20 clients, 120 endpoints, 5 staff" in result.output
    assert "demo-owner-pass" in result.output
    # Each login stays on one line whatever the terminal's width, so it can be copied.
    assert "priya.natarajan@northwind.example  password: demo-manager-pass" in result.output
    again = cli("demo")
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
