"""The server process of `franchise serve`: uvicorn serving the app, and nothing else.

`franchise serve` migrates the database, then replaces itself (exec: same process id, same
standard streams and signals) with `python -m franchise.server`. The command line's own
modules (Typer, Rich, every command's module) would otherwise stay resident for the
server's whole life: about 6 MB of its idle memory.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping


def command_line(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "franchise.server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def replace_process(host: str, port: int, workers: int) -> None:
    """Become the server (never returns); served in this process when there is no
    interpreter to start (an embedded Python)."""
    if not sys.executable:
        run(host, port, workers)
        return
    # What the command printed must not be lost with this process's buffers.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command_line(host, port, workers))  # noqa: S606 - this interpreter, arguments built here


def serving_at(environ: MutableMapping[str, str], host: str, port: int) -> None:
    """The app reads its settings from the environment (each worker process too): the links
    it writes (webhook URLs, buttons in notifications) start with the address actually
    served, not the default port, unless FRANCHISE_PUBLIC_URL names the public one."""
    environ["FRANCHISE_HOST"] = host
    environ["FRANCHISE_PORT"] = str(port)


def run(host: str, port: int, workers: int) -> None:
    import uvicorn

    from franchise.ops.logs import log_config
    from franchise.settings import Settings

    serving_at(os.environ, host, port)
    settings = Settings()
    uvicorn.run(
        "franchise.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=log_config(settings.log_format),
        # X-Forwarded-For / -Proto are believed only from these addresses (the proxy):
        # then request.url.scheme is https behind TLS and cookies are marked Secure.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m franchise.server",
        description="Serve the app on a migrated database (run by `franchise serve`).",
    )
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    run(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
