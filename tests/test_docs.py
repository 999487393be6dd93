"""The README documents every command and every setting."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from franchise.cli import app
from franchise.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_paths(group: object, prefix: str = "franchise") -> list[str]:
    paths = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_in_the_readme() -> None:
    paths = command_paths(get_command(app))
    assert len(paths) > 10
    missing = [p for p in paths if f"`{p}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme() -> None:
    names = [f"FRANCHISE_{name.upper()}" for name in Settings.model_fields]
    missing = [
        n for n in names if n not in README and n.replace("FRANCHISE_SMTP_", "_") not in README
    ]
    assert missing == []
