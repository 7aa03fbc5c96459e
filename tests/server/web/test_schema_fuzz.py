"""Schemathesis fuzzes every operation in the API's OpenAPI schema, in-process over ASGI, against
a seeded registry with a few ratings: no request may be answered with a 5xx (or crash the app).

The dashboard is a mounted WSGI app and the web login pages are left out of the schema, so
neither is fuzzed here; every operation the schema lists is."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.ingest.store import Incoming, store_batch
from tests.server.factories import RATINGS_TOPIC, RULES, rating_payload
from tests.server.web.test_api import api_app, login, seed

ROOT = Path(__file__).resolve().parents[3]
# Reproducible, and bounded (examples per role below) to about 25 s for both roles on two cores.
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _seed_ratings(engine: Engine) -> None:
    """A few ratings through the real ingest path, so reports have rows to compute."""
    now = datetime.now(UTC)
    payloads = [
        rating_payload(seq=seq, score=score, pressed_at=(now - timedelta(days=seq)).isoformat())
        for seq, score in enumerate([1, 2, 3, 4, 4, 3], start=1)
    ]
    with Session(engine) as session:
        store_batch(session, [Incoming(RATINGS_TOPIC, p) for p in payloads], now, RULES)
        session.commit()


def _seeded_app(tmp_path: Path) -> tuple[FastAPI, dict[str, Any]]:
    """The app with a registry, a device and ratings; and the ids its path parameters can take."""
    app = api_app(tmp_path)
    with TestClient(app) as client:
        auth = login(client, "admin")
        seed(client, auth)
        r = client.post(
            "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
        )
        assert r.status_code == 201, r.text
        (assignment,) = client.get("/api/v1/assignments", headers=auth).json()
        _seed_ratings(app.state.engine)
    known = {
        "unit_id": "DH",
        "officer_id": "CB-0042",
        "assignment_id": assignment["id"],
        "device_id": "dev-dh-q1",
    }
    return app, known


def _strategies(
    operation: schemathesis.APIOperation, known: dict[str, Any]
) -> st.SearchStrategy[Any]:
    """Valid and invalid requests, and the schema's own examples (e.g. a report's period), which
    random text seldom hits; where a path parameter can name a seeded record, half of the
    generated requests and all example ones aim at it, to reach the code past the lookup."""
    modes = list(schemathesis.GenerationMode)
    names = {p.name for p in operation.path_parameters}
    pinned = {name: known[name] for name in names & known.keys()}
    options = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if pinned:
        options += [
            operation.as_strategy(generation_mode=mode, path_parameters=pinned) for mode in modes
        ]
    options += operation.get_strategies_from_examples(path_parameters=pinned or None)
    return st.one_of(options)


def _crash(case: schemathesis.Case, auth: dict[str, str], exc: Exception) -> tuple[str, str]:
    """The cause (exception and the deepest line of ours it passed) and its report: the
    request and our frames of the traceback, the library frames left out."""
    ours = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if Path(frame.filename).is_relative_to(ROOT)
        and Path(frame.filename).relative_to(ROOT).parts[0] not in (".venv", "tests")
    ]
    where = f" at {Path(ours[-1].filename).relative_to(ROOT)}:{ours[-1].lineno}" if ours else ""
    frames = "".join(traceback.format_list(ours))
    report = f"{case.as_curl_command(headers=auth)}\n{frames}{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}{where}", report


def _fuzz(
    operation: schemathesis.APIOperation,
    auth: dict[str, str],
    known: dict[str, Any],
    examples: int,
) -> dict[str, str]:
    """Failures of one operation, one per distinct cause, each with its reproduction."""
    found: dict[str, str] = {}

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=_strategies(operation, known))
    def run(case: schemathesis.Case) -> None:
        try:
            response = case.call(headers=auth)
        except Exception as exc:  # the app raised: the in-process client re-raises it
            cause, report = _crash(case, auth, exc)
            found.setdefault(cause, report)
            return
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=auth)
        except FailureGroup:
            cause = f"HTTP {response.status_code}"
            found.setdefault(cause, f"{case.as_curl_command(headers=auth)}\n{response.text[:500]}")

    run()
    return found


# admin reaches every route; hr is refused most writes, and a refusal must not be a 5xx either.
@pytest.mark.parametrize(("role", "examples"), [("admin", 30), ("hr", 10)])
def test_no_operation_answers_a_server_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str, examples: int
) -> None:
    # The app writes its chain key under the data folder: in tmp_path, not the working tree.
    monkeypatch.setenv("HAILONG_DATA_DIR", str(tmp_path))
    app, known = _seeded_app(tmp_path)
    with TestClient(app) as client:
        auth = login(client, role)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = [
        f"{operation.label}: {cause}\n{report}"
        for methods in schema.values()
        for operation in methods.values()
        for cause, report in _fuzz(operation, auth, known, examples).items()
    ]
    if failures:
        pytest.fail(
            f"{len(failures)} server errors as {role}:\n\n" + "\n\n".join(failures), pytrace=False
        )
