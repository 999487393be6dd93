"""Real processes for the production tests: `franchise serve`, `franchise worker`, nginx
and Prometheus, each on a free loopback port, each stopped at the end. Every wait has a
deadline."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.reliability.faults_support import ROOT, free_port, server_env, wait_for

DEPLOY = ROOT / "deploy"


class Process:
    """A subprocess whose output goes to a log file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, args: Sequence[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if not self.running():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


def franchise(url: str, home: Path, log: Path, *args: str, **env: str) -> Process:
    return Process([sys.executable, "-m", "franchise", *args], log, server_env(url, home, **env))


class Serve(Process):
    """`franchise serve --port N`, the command the systemd unit runs."""

    def __init__(self, url: str, home: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [
                sys.executable,
                "-m",
                "franchise",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            log,
            server_env(url, home, **env),
        )

    def start(self, timeout: float = 120) -> Serve:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> Serve:
        super().start()
        return self

    def wait_ready(self, timeout: float = 120) -> Serve:
        try:
            wait_for(self._ready, timeout, f"franchise serve on {self.base}")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if not self.running():
            raise AssertionError(f"franchise serve exited:\n{self.logs()}")
        try:
            return httpx.get(self.base + "/api/v1/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=franchise.example.com",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:franchise.example.com",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class Nginx(Process):
    """Debian's nginx running the shipped site (deploy/nginx/franchise.conf) with only the
    host-specific parts replaced: ports, certificate, upstream servers. It connects to the
    servers from 127.0.0.2, the one address they trust for X-Forwarded-*."""

    PROXY_ADDRESS = "127.0.0.2"

    def __init__(self, folder: Path, upstreams: Sequence[int]) -> None:
        binary = nginx_binary()
        assert binary is not None
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.http_port, self.https_port = free_port(), free_port()
        self.base = f"https://127.0.0.1:{self.https_port}"
        cert, key = self_signed(folder)
        # Clients check the proxy's certificate against the throwaway one, as a browser would.
        self.tls = ssl.create_default_context(cafile=str(cert))
        site = (DEPLOY / "nginx" / "franchise.conf").read_text()
        servers = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstreams
        )
        replacements = {
            "    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n"
            "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;": servers,
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/letsencrypt/live/franchise.example.com/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/franchise.example.com/privkey.pem": str(key),
            "proxy_pass http://franchise_servers;": (
                f"proxy_pass http://franchise_servers;\n        proxy_bind {self.PROXY_ADDRESS};"
            ),
        }
        for old, new in replacements.items():
            assert old in site, f"the shipped nginx site no longer has {old!r}"
            site = site.replace(old, new)
        (folder / "franchise.conf").write_text(site)
        (folder / "nginx.conf").write_text(
            f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/franchise.conf;
}}
"""
        )
        super().__init__(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            folder / "nginx.log",
        )

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.args[:5], "-t"], capture_output=True, text=True, timeout=30, check=False
        )

    def start(self, timeout: float = 30) -> Nginx:
        super().start()

        def up() -> bool:
            if not self.running():
                raise AssertionError(f"nginx exited:\n{self.logs()}")
            try:
                httpx.get(self.base + "/api/v1/health", verify=self.tls, timeout=2)
                return True
            except httpx.HTTPError:
                return False

        try:
            wait_for(up, timeout, "nginx to answer")
        except BaseException:
            self.stop()
            raise
        return self
