"""The demo fleet's history is what a real unit would send, its officers look like a real
commune's, under today's names, and the shipped policy classifies them mildly."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from devtools.browser import serve
from server.policy import classify, load_policy
from server.reporting.scoring import Figures, LevelTally, figures
from server.storage.models import Officer, ServiceField, Unit, User
from server.timeutil import vn_day
from system.demo import FIELDS, TITLES, UNITS, DemoFleet, day_presses, plan
from tests.server.web.test_api import api_app

if TYPE_CHECKING:
    from system.up import Stack


def test_a_counters_day_is_pressed_in_time_order_within_working_hours() -> None:
    """A unit numbers presses as they come; history pressed out of time order was flagged
    out_of_order by the server (two ratings in three of the demo's history)."""
    rng = random.Random(5)
    for n in range(200):
        day = date(2026, 10, 1 + n % 28)
        presses = day_presses(rng, 0.8, day, 8)
        moments = [at for at, _ in presses]
        assert moments == sorted(moments)
        assert 4 <= len(presses) <= 12
        assert all(vn_day(at) == day and 7 <= at.hour < 17 for at in moments)
        assert all(1 <= score <= 4 for _, score in presses)


def _demo_month(seed: int) -> dict[str, Figures]:
    """Each demo officer's figures for one month of the fleet's history, pressed as the fleet
    presses (day_presses, closed on Sundays)."""
    rng = random.Random(seed)
    months: dict[str, Figures] = {}
    for c in plan():
        tally: Counter[int] = Counter()
        for day in range(1, 31):
            if date(2026, 11, day).weekday() != 6:
                tally.update(
                    score for _, score in day_presses(rng, c.quality, date(2026, 11, day), 8)
                )
        months[c.officer_id] = figures({("vn4", s): LevelTally(n) for s, n in tally.items()})
    return months


@pytest.mark.parametrize("seed", range(5))
def test_the_shipped_policy_gives_most_demo_officers_completion_or_better(seed: int) -> None:
    """The issue's November: 8 of 20 demo officers (40 %) got the harshest class, one at 66 %
    by a lower bound of 59.4 against 60. Now most are satisfied 80-95 % and the harshest class
    goes to at most one officer, only with 100 ratings and the whole interval under 60 %."""
    policy = load_policy(None)
    months = _demo_month(seed)
    classes = {officer: classify(fig, policy) for officer, fig in months.items()}
    codes = Counter(c.code if c else "not_enough" for c in classes.values())
    harshest = [o for o, c in classes.items() if c is not None and c.code == "not_completed"]

    assert len(months) == 20 and codes["not_enough"] == 0  # ~200 ratings each
    assert codes["excellent"] + codes["good"] >= 14
    assert len(harshest) <= 1
    for officer in harshest:
        fig = months[officer]
        assert fig.ratings >= 100 and fig.wilson_high is not None and fig.wilson_high <= 60
    satisfied = sorted(f.satisfied_pct or 0 for f in months.values())
    assert satisfied[2] >= 75  # two weaker officers, the rest about 80-95 %


def test_the_demo_has_two_weaker_officers_and_the_rest_between_80_and_95() -> None:
    qualities = sorted(c.quality for c in plan())
    assert qualities[:2] == [0.55, 0.70]
    assert all(0.80 <= q <= 0.95 for q in qualities[2:])


def test_the_demo_uses_todays_names() -> None:
    """Two-level local government since 1 July 2025: no districts, no district-level towns, the
    merged provinces, and no Lao động – Thương binh và Xã hội (merged into Nội vụ)."""
    names = " ".join(n for _, n, *_ in UNITS) + " ".join(f for *_, f in FIELDS) + " ".join(TITLES)
    provinces = {p for *_, p in UNITS}
    for dated in ("TP ", "TX ", "Thị xã", "Quận", "Huyện", "Thương binh", "Bắc Kạn", "Quảng Bình"):
        assert dated not in names and dated not in provinces
    assert provinces <= {"Gia Lai", "Thái Nguyên", "An Giang", "Quảng Trị"}
    assert "Nội vụ" in names


def test_the_demo_registers_its_units_and_people_through_the_api(tmp_path: Path) -> None:
    """The registry as `hailong demo` makes it, over a real HTTP server: today's names, and the
    logins of the issue's reviewers with their full names and the admin's password."""
    app = api_app(tmp_path)
    with serve(app) as base:
        stack = SimpleNamespace(
            base_url=base,
            secrets=SimpleNamespace(admin_password="admin-password"),
            settings=SimpleNamespace(data_dir=tmp_path / "demo"),
        )
        passwords = DemoFleet()._seed_registry(cast("Stack", stack), plan())
    assert len(passwords) == 20
    with Session(app.state.engine) as session:
        units = {u.id: (u.name, u.province) for u in session.exec(select(Unit))}
        users = {u.username: u for u in session.exec(select(User))}
        fields = {f.name for f in session.exec(select(ServiceField))}
        names = {o.id: o.name for o in session.exec(select(Officer))}
    assert units["DHOI"] == ("Phường Đồng Hới", "Quảng Trị")
    assert units["DX"] == ("Phường Đức Xuân", "Thái Nguyên")
    assert fields == {"Tư pháp – Hộ tịch", "Đất đai – Xây dựng", "Nội vụ", "Văn hóa – Xã hội"}
    assert (users["phongnoivu"].role, users["phongnoivu"].full_name) == ("hr", "Trần Thị Thu Hà")
    head = users["truong-dhoi"]
    assert (head.role, head.unit_id) == ("unit_head", "DHOI") and head.full_name
    officer = users["cb-dhoi-tp"]
    assert (officer.role, officer.officer_id) == ("officer", "CB-DHOI-TP")
    assert officer.full_name == names["CB-DHOI-TP"]
    assert all(u.full_name for u in users.values() if u.username not in ("admin", "hr", "viewer"))
    client = TestClient(app)
    token = client.post(
        "/api/v1/auth/token", data={"username": "phongnoivu", "password": "admin-password"}
    )
    assert token.status_code == 200, token.text
