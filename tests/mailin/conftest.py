"""A real IMAP server for the mail tests: Dovecot on loopback, started and stopped here.

Dovecot must be installed (`apt-get install -y dovecot-imapd`); without it the tests fail
rather than skip, so CI cannot pass while silently not testing e-mail in.
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from franchise.db import Database
from franchise.mailin.config import MailboxConfig
from tests.psa.support import ensure_tables

USER = "helpdesk"
PASSWORD = "dovecot-test-password"
_folders = itertools.count(1)


@dataclass
class Dovecot:
    port: int
    log: Path

    def config(self, folder: str, **overrides: object) -> MailboxConfig:
        values: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": USER,
            "password": PASSWORD,
            "folder": folder,
            "tls": "none",
        }
        values.update(overrides)
        return MailboxConfig(**values)  # type: ignore[arg-type]

    def imap(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client


def _binary() -> str:
    found = shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )
    if found is None:
        pytest.fail("Dovecot is not installed: run `apt-get install -y dovecot-imapd`")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accounts(home: Path) -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid).

    As an ordinary user everything runs as that user. As root (CI containers) Dovecot
    refuses root for its login and mail processes, so it uses the accounts the Debian
    package creates and mail is owned by nobody.
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid()).pw_name
        return me, grp.getgrgid(os.getgid()).gr_name, me, os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    shutil.chown(home, nobody.pw_uid, nobody.pw_gid)
    return "dovecot", "dovecot", "dovenull", nobody.pw_uid, nobody.pw_gid


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = _binary()
    # Not pytest's tmp_path: as root it is mode 0700, and the mail user must reach its home.
    root = Path(tempfile.mkdtemp(prefix="franchise-dovecot-"))
    root.chmod(0o755)
    home = root / "mail" / USER
    home.mkdir(parents=True)
    internal, group, login, uid, gid = _accounts(home)
    (root / "state").mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}\n")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        CONFIG.format(root=root, internal=internal, group=group, login=login, port=port)
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Dovecot(port=port, log=root / "dovecot.log")
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_ready(server: Dovecot, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            log = server.log.read_text() if server.log.exists() else ""
            pytest.fail(f"Dovecot exited with {process.returncode}:\n{output}\n{log}")
        try:
            server.imap().logout()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    log = server.log.read_text() if server.log.exists() else ""
    pytest.fail(f"Dovecot did not accept a login within 15 s:\n{log}")


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    """A fresh folder per test, so tests never see each other's mail."""
    name = f"Support-{os.getpid()}-{next(_folders)}"
    client = dovecot.imap()
    try:
        status, data = client.create(name)
        assert status == "OK", data
    finally:
        client.logout()
    return name


@pytest.fixture
def integrated(db: Database) -> bool:
    return ensure_tables(db)
