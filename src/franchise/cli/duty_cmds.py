"""franchise duty set|show|remove|clear: who takes escalations at each level, and when."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("set")
def set_(
    ctx: typer.Context,
    level: Annotated[str, typer.Option(help="L2, or owner for the owner's backup.")],
    who: Annotated[str, typer.Option(help="Staff e-mail or name.")],
    days: Annotated[str, typer.Option(help="mon-fri, sat,sun, daily ...")] = "mon-fri",
    hours: Annotated[
        str, typer.Option(help="08:00-18:00 in the organisation's time zone; 00:00-00:00 all day.")
    ] = "08:00-18:00",
) -> None:
    """Add a duty shift (shifts add up; remove or clear to change them)."""
    from franchise.accounts.service import get_staff
    from franchise.duty.service import set_shift

    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, who)
        shift = set_shift(session, level=level, staff=staff, days=days, hours=hours)
        shift_id, name = shift.id, staff.name
    console.print(f"Shift {shift_id}: {escape(name)} on duty at {escape(level)}.")


@app.command("show")
def show(ctx: typer.Context, json_out: Json = False) -> None:
    """The roster, and who is on duty at each level now."""
    from franchise.duty.service import on_duty, roster

    with get_context(ctx).database().unit_of_work() as session:
        rows = roster(session)
        now = {}
        for level in ("L1", "L2", "owner"):
            person = on_duty(session, level)
            now[level] = person.name if person else None
    if json_out:
        print_json({"shifts": rows, "on_duty_now": now})
        return
    table = Table("id", "level", "who", "when", title="Duty roster")
    for r in rows:
        table.add_row(str(r["id"]), str(r["level"]), escape(str(r["staff"])), str(r["when"]))
    console.print(table)
    for level, name in now.items():
        console.print(f"On duty now at {level}: {escape(name) if name else 'nobody'}")


@app.command("remove")
def remove(
    ctx: typer.Context, shift_id: Annotated[int, typer.Argument(help="Shift id (duty show).")]
) -> None:
    """Remove one shift."""
    from franchise.duty.service import remove_shift

    with get_context(ctx).database().unit_of_work() as session:
        remove_shift(session, shift_id)
    console.print(f"Shift {shift_id} removed.")
