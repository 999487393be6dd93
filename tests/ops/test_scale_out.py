"""Two `franchise serve` processes and one `franchise worker` on one PostgreSQL database,
behind Debian's nginx running the shipped site on loopback (TLS with a throwaway
certificate). The servers are shared by the whole module; the storm that kills one of
them runs last."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import pytest
from sqlalchemy import select

from franchise.db import Database
from franchise.tickets.models import Ticket
from tests.ops.support import Nginx, Process, Serve, franchise, nginx_binary
from tests.reliability.faults_support import (
    PG_URL,
    Outcome,
    Storm,
    Tenant,
    assert_alerts_processed_once,
    inbox_states,
    observer,
    post_alert,
    provision,
    scratch_database,
    wait_for,
    wait_for_drain,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not PG_URL,
        reason="several franchise serve processes need PostgreSQL: set FRANCHISE_TEST_DATABASE_URL",
    ),
    pytest.mark.skipif(
        nginx_binary() is None, reason="nginx is not installed: run scripts/install_test_peers.sh"
    ),
]

PASSWORD = "correct horse battery staple"
EMAIL = "tess@scale.example"
METRICS_TOKEN = "scale-out-metrics-token"


@dataclass
class Cluster:
    tenant: Tenant
    a: Serve
    b: Serve
    worker: Process
    nginx: Nginx
    db: Database


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from franchise.accounts.service import add_staff

    home = tmp_path_factory.mktemp("scale")
    with scratch_database("postgresql", home) as url:
        tenant = provision(url, home)
        db = observer(url)
        with db.unit_of_work() as session:
            add_staff(
                session,
                name="Tess Tech",
                email=EMAIL,
                role="technician",
                level="L1",
                password=PASSWORD,
            )
        env = {
            "FRANCHISE_FORWARDED_ALLOW_IPS": Nginx.PROXY_ADDRESS,
            "FRANCHISE_METRICS_TOKEN": METRICS_TOKEN,
            "FRANCHISE_INPROCESS_WORKER": "auto",
        }
        worker = franchise(url, home, home / "worker.log", "worker", "--poll", "0.2", **env)
        a = Serve(url, home, home / "a.log", **env)
        b = Serve(url, home, home / "b.log", **env)
        nginx: Nginx | None = None
        try:
            worker.start()
            a.launch(), b.launch()
            wait_for(lambda: _workers_alive(db) == 1, 120, "the worker's heartbeat")
            a.wait_ready(), b.wait_ready()
            nginx = Nginx(home / "nginx", [a.port, b.port]).start()
            yield Cluster(tenant, a, b, worker, nginx, db)
        finally:
            for process in (nginx, a, b, worker):
                if process is not None:
                    process.stop()
            db.dispose()


def _workers_alive(db: Database) -> int:
    from franchise.ops.heartbeat import WORKER, alive

    with db.unit_of_work() as session:
        return alive(session, kind=WORKER)


def _sign_in(client: httpx.Client) -> httpx.Response:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text[:500]
    return client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    )


def _page_csrf(page: httpx.Response) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def test_a_user_signs_in_through_one_server_and_continues_through_the_other(
    cluster: Cluster,
) -> None:
    with httpx.Client(base_url=cluster.a.base, timeout=20) as on_a:
        assert _sign_in(on_a).status_code == 303
        cookies = dict(on_a.cookies)
    with httpx.Client(base_url=cluster.b.base, timeout=20, cookies=cookies) as on_b:
        home = on_b.get("/queue")
        assert home.status_code == 200
        assert "Tess Tech" in home.text
        # The CSRF token B puts in its page is the session's, so B accepts the form B served.
        signed_out = on_b.post("/logout", data={"csrf_token": _page_csrf(home)})
        assert signed_out.status_code == 303
    with httpx.Client(base_url=cluster.a.base, timeout=20, cookies=cookies) as back_on_a:
        # Signed out on B means signed out on A: the session was one row, now gone.
        again = back_on_a.get("/queue")
        assert again.status_code == 303
        assert again.headers["location"].startswith("/login")


def test_failed_sign_ins_count_the_same_on_every_server(cluster: Cluster) -> None:
    target = "nobody-five@scale.example"
    # Five failures are free; the sixth, seventh and eighth make the account wait 1, 2 and
    # then 4 seconds: long enough to ask both servers right after.
    for attempt in range(8):
        server = cluster.a if attempt % 2 == 0 else cluster.b
        with httpx.Client(base_url=server.base, timeout=20) as client:
            form = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            wrong = client.post(
                "/login",
                data={"email": target, "password": "guess", "csrf_token": token.group(1)},
            )
            if wrong.status_code == 429:
                # A wait from the last failure still running: sit it out, then try again.
                time.sleep(float(wrong.headers.get("Retry-After", "1")))
                wrong = client.post(
                    "/login",
                    data={"email": target, "password": "guess", "csrf_token": token.group(1)},
                )
            assert wrong.status_code == 400, f"try {attempt + 1} on {server.base}"
    for server in (cluster.a, cluster.b):
        with httpx.Client(base_url=server.base, timeout=20) as client:
            form = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            locked = client.post(
                "/login",
                data={"email": target, "password": "guess", "csrf_token": token.group(1)},
            )
            assert locked.status_code == 429


def test_cookies_are_secure_through_the_tls_proxy_and_forwarded_headers_are_believed_only_from_it(
    cluster: Cluster,
) -> None:
    with httpx.Client(base_url=cluster.nginx.base, verify=cluster.nginx.tls, timeout=20) as tls:
        assert _sign_in(tls).status_code == 303
        session_cookie = next(c for c in tls.cookies.jar if c.name == "franchise_session")
        assert session_cookie.secure
        # The servers read the client's address from X-Forwarded-For set by nginx.
        assert tls.get("/queue").status_code == 200
    # Straight to a server, not from the proxy's address: the same headers are ignored.
    with httpx.Client(base_url=cluster.a.base, timeout=20) as direct:
        form = direct.get("/login", headers={"X-Forwarded-Proto": "https"})
        set_cookie = form.headers["set-cookie"]
        assert "franchise_login_csrf" in set_cookie
        assert "secure" not in set_cookie.lower()


def test_the_in_process_workers_stand_aside_while_the_worker_runs(cluster: Cluster) -> None:
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    def standing_aside() -> bool:
        # A server that started before the worker's first heartbeat drained until its next
        # look at the roll call (every 5 s), then signed off.
        text = httpx.get(cluster.a.base + "/metrics", headers=headers, timeout=20).text
        return 'franchise_inbox_processors_alive{kind="serve-auto"} 0' in text

    wait_for(standing_aside, 15, "the in-process workers to stand aside")
    for server in (cluster.a, cluster.b):
        text = httpx.get(server.base + "/metrics", headers=headers, timeout=20).text
        assert 'franchise_inbox_processors_alive{kind="worker"} 1' in text
        assert 'franchise_inbox_processors_alive{kind="serve-auto"} 0' in text


class TlsStorm(Storm):
    """The reliability storm, through the TLS proxy (its certificate is self-signed)."""

    def __init__(
        self, nginx: Nginx, token: str, *, first: int, total: int, pause_at: int | None = None
    ) -> None:
        super().__init__(nginx.base, token, first=first, total=total, pause_at=pause_at)
        self.tls = nginx.tls

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=20, verify=self.tls) as client:
            while (index := self._take()) is not None:
                self.recorder.add(post_alert(client, self.token, index))


def _as_sent(outcomes: list[Outcome]) -> list[Outcome]:
    # 502/504 come from nginx when the server it had passed a request to died: like a cut
    # connection, the body may or may not have been stored. The sender would retry it.
    return [replace(o, status=None) if o.status in (502, 504) else o for o in outcomes]


def test_a_storm_spread_over_both_servers_with_one_killed_becomes_exactly_the_right_tickets(
    cluster: Cluster,
) -> None:
    started = time.monotonic()
    # The last 500 wait until a second after the kill: however fast both servers answer,
    # part of the storm comes after it.
    storm = TlsStorm(
        cluster.nginx, cluster.tenant.hook_token, first=0, total=1500, pause_at=1000
    ).start()
    wait_for(lambda: len(storm.recorder) >= 500, 120, "500 webhooks answered")
    # Both servers are taking webhooks (nginx spreads them): their own request counts say so.
    taken = {server.port: _hooks_answered(server) for server in (cluster.a, cluster.b)}
    cluster.b.kill()
    killed_at = time.monotonic()
    time.sleep(1.2)
    storm.resume.set()
    outcomes = _as_sent(storm.join(timeout=180))
    wait_for_drain(cluster.db, 120)
    drained = time.monotonic()
    report = assert_alerts_processed_once(cluster.db, outcomes)
    after_kill = [o for o in outcomes if o.started > killed_at + 1]
    print(
        f"\nstorm: {report}; killed {killed_at - started:.1f}s in, drained "
        f"{drained - started:.1f}s after the start; states {inbox_states(cluster.db)}"
    )
    assert min(taken.values()) >= 50, taken
    # ... and after it every webhook went to the survivor and was accepted.
    assert after_kill, "the storm ended before the kill"
    assert {o.status for o in after_kill} == {202}
    assert report["refused"] == 0
    assert report["accepted"] >= 1400
    assert {o.status for o in outcomes} <= {202, None}
    with cluster.db.unit_of_work() as session:
        tickets = session.scalars(select(Ticket).where(Ticket.source == "alert")).all()
    assert len(tickets) == 12  # STORM_KEYS: one ticket per alert key, no more, no fewer


def _hooks_answered(server: Serve) -> int:
    text = httpx.get(
        server.base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=20
    ).text
    pattern = r'franchise_http_request_duration_seconds_count\{method="POST",route="/api/v1/hooks/\{kind\}/\{token\}",status="2xx"\} (\d+)'
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0
