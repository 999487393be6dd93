"""Schemathesis fuzzes every operation in /openapi.json with an owner's token: no response
is a server error, and every response matches the schema the app publishes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.db import Database
from franchise.flows.opening import open_ticket
from franchise.settings import Settings
from tests.reliability.conftest import TALLY, fill

# Valid inputs find crashes behind the validation; invalid ones test the validation itself.
EXAMPLES = {
    schemathesis.GenerationMode.POSITIVE: 25,
    schemathesis.GenerationMode.NEGATIVE: 15,
}
# Per example, generous: the first suggestion request fits the TF-IDF model.
DEADLINE_MS = 5000
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@dataclass
class Tally:
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    # A distinct failure -> a curl command that reproduces it.
    failures: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def fuzz_target(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A fresh SQLite file with the starter library, a few tickets and an owner's token:
    fuzzing commits, so it never touches the shared test database."""
    url = f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
    fill(url, demo=False)
    db = Database.from_url(url)
    with db.unit_of_work() as session:
        owner = add_staff(
            session, name="Fuzz Owner", email="owner@fuzz.example", role="owner", level="owner"
        )
        token = create_token(session, staff=owner, name="fuzz")[1]
        for title in ("VPN down for one user", "Printer offline", "Disk space low on FS01"):
            open_ticket(session, title=title, body="", source="api", actor=owner)
    app = create_app(Settings(home=tmp_path, database_url=url), db=db)
    yield app, token
    db.dispose()


def test_no_operation_answers_5xx_or_off_schema(
    fuzz_target: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, token = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    tally = Tally()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has a broken operation: {result}"
        operations.append(result.ok())
    started = time.monotonic()
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            _fuzz(operation, mode, examples, headers, tally)
    TALLY["fuzz requests"] += tally.requests
    with capsys.disabled():
        print(
            f"\nfuzzed {len(operations)} operations with {tally.requests} requests in "
            f"{time.monotonic() - started:.0f} s; statuses {dict(sorted(tally.statuses.items()))}"
        )
    assert len(operations) >= 40
    assert tally.requests >= len(operations) * 20
    report = "\n".join(f"{what}\n    {curl[:300]}" for what, curl in tally.failures.items())
    assert tally.failures == {}, report


def _fuzz(
    operation: Any,
    mode: schemathesis.GenerationMode,
    examples: int,
    headers: dict[str, str],
    tally: Tally,
) -> None:
    name = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=DEADLINE_MS,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case[Any]) -> None:
        tally.requests += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:
            # The test client re-raises what the app left unhandled: in production, a 500.
            problem = f"{name}: 500, unhandled {type(exc).__name__}: {exc}"
            tally.failures.setdefault(problem, case.as_curl_command(headers))
            return
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:
            first = " / ".join(str(exc).strip().splitlines()[:3])
            tally.failures.setdefault(f"{name}: {first}", case.as_curl_command(headers))

    # Unsatisfiable: nothing to make invalid (no parameters, no body).
    with contextlib.suppress(Unsatisfiable):
        run()
