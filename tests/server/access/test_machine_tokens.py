"""A machine token opens its scope's routes and nothing else: every route of the served app
(API, login pages, documentation, the dashboard) answers a `services` token 403 but
POST /api/v1/services; an unknown or revoked token gets 401; and `hailong token`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import Mount

from server.access.tokens import SCOPE_ROUTES, add_token, revoke_token
from server.settings import Settings
from system.cli import main
from system.web import create_app

ALLOWED = set(SCOPE_ROUTES["services"])
DASHBOARD_REQUESTS = [
    ("GET", "/dashboard/"),
    ("GET", "/dashboard/_dash-layout"),
    ("POST", "/dashboard/_dash-update-component"),
]


def every_route(routes: Iterable[Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, walking included routers (FastAPI keeps each whole)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from every_route(inner.routes)
        elif isinstance(route, Mount):
            continue  # the dashboard: requested by DASHBOARD_REQUESTS
        else:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    yield method, route.path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The app as `hailong server` serves it (dashboard mounted) and a services token."""
    data = tmp_path_factory.mktemp("machine")
    settings = Settings(
        database_url=f"sqlite:///{data / 'db.sqlite'}", secret_key="k" * 40, data_dir=data
    )
    app = create_app(settings, ingest=False)
    with Session(app.state.engine) as session:
        _, token = add_token(
            session, "queue", "services", None, created_by="test", now=datetime.now(UTC)
        )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, token


def test_a_services_token_gets_403_on_every_other_route(served: tuple[TestClient, str]) -> None:
    client, token = served
    app: FastAPI = client.app  # type: ignore[assignment]
    routes = set(every_route(app.routes))
    assert routes >= ALLOWED and ("GET", "/api/v1/reports/{scope}") in routes
    assert len(routes) > 40, "the walk found the included routers' routes"
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in sorted(routes - ALLOWED) + DASHBOARD_REQUESTS:
        url = re.sub(r"\{(\w+)\}", "x", path)
        r = client.request(method, url, headers=headers)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
        assert r.json()["detail"] == (
            "mã truy cập này chỉ dùng cho POST /api/v1/services / "
            "this token is only for POST /api/v1/services"
        )
    client.cookies.set("hailong_token", token)
    assert client.get("/dashboard/").status_code == 403, "the same token in the login cookie"
    client.cookies.clear()
    allowed = client.post("/api/v1/services", json={"events": []}, headers=headers)
    assert allowed.status_code == 422, "let through to the route, which checks the body"


def test_an_unknown_or_revoked_token_gets_401(served: tuple[TestClient, str]) -> None:
    client, _ = served
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        _, token = add_token(
            session, "old", "services", None, created_by="t", now=datetime.now(UTC)
        )
        for path in ("/api/v1/services", "/api/v1/units"):
            assert client.post(path, headers={"Authorization": f"Bearer {token}"}).status_code in (
                422,
                403,
            )
        revoke_token(session, "old", revoked_by="t", now=datetime.now(UTC))
    for method, path in [("POST", "/api/v1/services"), ("GET", "/api/v1/units"), ("GET", "/")]:
        r = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, (path, r.text)
    r = client.get("/api/v1/units", headers={"Authorization": "Bearer hlt_nothing"})
    assert r.status_code == 401 and "ask an administrator" in r.json()["detail"]


def test_hailong_token_add_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["token", "add", "queue-dh", "--scope", "services", *data]) == 0
    printed = capsys.readouterr().out
    [token] = re.findall(r"^hlt_\S+$", printed, re.MULTILINE)
    assert "Authorization: Bearer" in printed and "POST /api/v1/services" in printed
    assert main(["token", "add", "queue-dh", "--scope", "services", *data]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["token", "add", "q2", "--scope", "services", "--unit", "NOPE", *data]) == 2
    assert "unknown unit 'NOPE'" in capsys.readouterr().err
    assert main(["token", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert "queue-dh\tservices\tall units\tactive\tlast used never" in listed
    assert token not in listed
    assert main(["token", "revoke", "queue-dh", *data]) == 0
    assert main(["token", "list", *data]) == 0
    assert "\trevoked " in capsys.readouterr().out
