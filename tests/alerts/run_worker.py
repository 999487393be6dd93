"""`franchise worker` for the subprocess tests (the same command franchise.cli registers)."""

import typer

from franchise.cli import FranchiseGroup, alert_cmds

if __name__ == "__main__":
    app = typer.Typer(cls=FranchiseGroup, pretty_exceptions_enable=False)
    alert_cmds.register(app)
    app(prog_name="franchise")
