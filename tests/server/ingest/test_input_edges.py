"""Inputs at the edges of what the database and the calendar hold get a 422 that says what was
wrong, never a 500: each case here is one a schema fuzz run once found answering 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.server.web.test_api import api_app, login, seed

HUGE = 7590657061006613939758191863660544
EDGE_MOMENTS = ("0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-23:59")


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, dict[str, str]]:
    app = api_app(tmp_path_factory.mktemp("edges"))
    client = TestClient(app)
    client.__enter__()
    auth = login(client, "admin")
    seed(client, auth)
    return client, auth


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("POST", "/api/v1/services", {"services": []}, "at least 1"),
        ("GET", f"/api/v1/audit?before_id={HUGE}", None, "less than or equal"),
        ("PATCH", f"/api/v1/assignments/{HUGE}", {"end": "2026-01-01T00:00:00Z"}, "less than"),
        ("GET", "/api/v1/reports/officers?period=0001", None, "1970 to 2999"),
        ("GET", "/api/v1/reports/officers?period=9999-Q4", None, "1970 to 2999"),
        ("GET", "/api/v1/reports/units?start=0251-02-06&end=0576-02-07", None, "1970 to 2999"),
        ("GET", "/api/v1/reports/units/DH/monthly?month=0001-01", None, "1970 to 2999"),
        ("GET", "/api/v1/reports/units/DH/monthly?month=9999-12", None, "1970 to 2999"),
        (
            "POST",
            "/api/v1/officers",
            {"id": "CB-1", "name": "A\u0000B", "unit_id": "DH"},
            "control",
        ),
    ],
)
def test_edge_inputs_are_refused_with_a_reason(
    admin: tuple[TestClient, dict[str, str]], method: str, path: str, body: object, says: str
) -> None:
    client, auth = admin
    r = client.request(method, path, json=body, headers=auth)
    assert r.status_code == 422, r.text
    assert says in r.text


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
def test_moments_at_the_ends_of_the_calendar_are_refused(
    admin: tuple[TestClient, dict[str, str]], moment: str
) -> None:
    client, auth = admin
    service = {"counter_id": "DH-Q1", "ticket": "A-1", "served_at": moment}
    shift = {"officer_id": "CB-0042", "counter_id": "DH-Q1", "start": moment}
    for method, path, body in [
        ("POST", "/api/v1/assignments", shift),
        ("PATCH", "/api/v1/assignments/1", {"end": moment}),
        ("POST", "/api/v1/services", {"services": [service]}),
        ("GET", f"/api/v1/assignments?at={moment.replace('+', '%2B')}", None),
        ("GET", f"/api/v1/alerts?since={moment.replace('+', '%2B')}", None),
        ("GET", f"/api/v1/audit?since={moment.replace('+', '%2B')}", None),
    ]:
        r = client.request(method, path, json=body, headers=auth)
        assert r.status_code == 422, (method, path, r.text)
        assert "between the years 1970 and 2999" in r.text, r.text
