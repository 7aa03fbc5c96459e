"""Report figures against the hand-computed data of tests/server/report_data.py, on SQLite and
PostgreSQL, and the report API: its periods, its access rules and its audit record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.policy import load_policy
from server.reporting import report_json, reports
from server.reporting.periods import parse_period
from server.reporting.reports import Counts, Entity, Query
from server.reporting.scoring import LevelTally
from server.storage.db import make_engine, migrate
from server.storage.models import AuditEvent
from server.web.api.deps import now
from tests.server.report_data import login, report_app, seed

POLICY = load_policy(None)  # min_ratings 30; "completed" from a Wilson lower bound of 60 %

# Wilson 95 % interval, z = 1.959964, z² = 3.841459, by hand:
#   centre = (p + z²/2n) / (1 + z²/n),  half = z / (1 + z²/n) · √(p(1 − p)/n + z²/4n²)
# 27 of 30, p = 0.9: 1 + z²/n = 1.128049; centre = 0.964024 / 1.128049 = 0.854594;
#   half = 1.737481 · √(0.003 + 0.001067) = 0.110806 → 74.38 % – 96.54 %
# 36 of 40, p = 0.9: 1 + z²/n = 1.096036; centre = 0.948018 / 1.096036 = 0.864952;
#   half = 1.788228 · √(0.00225 + 0.000600) = 0.095469 → 76.95 % – 96.04 %
# 29 of 29, p = 1: 1 + z²/n = 1.132464; centre = 1.066232 / 1.132464 = 0.941515;
#   half = 1.730706 · √(0.001142) = 0.058485 → 88.30 % – 100.00 %
A_OCTOBER = {
    "officer_id": "CB-A",
    "name": "Nguyễn Thị An",
    "unit_id": "DH",
    "ratings": 30,  # the press a second after another is flagged and left out
    "flagged": 1,
    "flags": {"cooldown": 1},  # which flag, whether the policy left it out or not
    # the counted ratings by channel, every channel named: all 30 by the unit's buttons
    "channels": {"button": 30, "touch": 0, "keyboard": 0, "web": 0, "paper": 0},
    "counts": {"vn4": {"1": 1, "2": 2, "3": 7, "4": 20}},
    "satisfied": 27,
    "satisfied_pct": 90.0,  # 27 / 30
    "wilson_low": 74.38,
    "wilson_high": 96.54,
    "unsatisfied_pct": 3.33,  # 1 / 30
    "happy_index": 84.44,  # (20·100 + 7·200/3 + 2·100/3 + 1·0) / 30 = 2533.33 / 30
    "mean_score": 3.53,  # (20·4 + 7·3 + 2·2 + 1) / 30 = 106 / 30
    "rated_services": 10,  # the first ten carry a ticket; the flagged one's does not count
    "announced": 12,
    "response_rate": 83.33,  # 10 / 12
    "reasons": {"wait_time": 75.0, "attitude": 25.0, "paperwork": 0.0},  # 3, 1 of 4 mentions
    "previous_ratings": 10,
    "previous_satisfied_pct": 80.0,  # September: 6 × 4, 2 × 3, 2 × 1 → 8 / 10
    "previous_happy_index": 73.33,  # (600 + 2·200/3) / 10
    "change_satisfied_pct": 10.0,  # 90.00 − 80.00
    "change_happy_index": 11.11,  # 84.44 − 73.33
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The seeded data on SQLite, shared by the tests that only read it."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reports') / 'reports.db'}")
    migrate(engine)
    seed(engine)
    yield engine
    engine.dispose()


AFTER = date(2027, 1, 1)  # a day after every period read here: each is over, compared in full


def run(engine: Engine, scope: report_json.Scope, period: str, **filters: Any) -> dict[str, Any]:
    with Session(engine) as session:
        query = Query(scope, parse_period(period), **filters, today=AFTER)
        return reports.report(session, query, POLICY).as_dict()


def by_id(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


def officers(engine: Engine, period: str, **filters: Any) -> dict[str, dict[str, Any]]:
    return by_id(run(engine, "officer", period, **filters)["officers"], "officer_id")


# --- pure ------------------------------------------------------------------------------------


def test_start_and_end_are_read_as_the_calendar_period_they_are() -> None:
    kinds = {
        (date(2026, 10, 5), date(2026, 10, 5)): "day",
        (date(2026, 10, 1), date(2026, 10, 31)): "month",
        (date(2026, 10, 1), date(2026, 12, 31)): "quarter",
        (date(2026, 1, 1), date(2026, 12, 31)): "year",
        (date(2026, 10, 2), date(2026, 10, 31)): "range",
        (date(2026, 10, 1), date(2026, 10, 30)): "range",
    }
    for (start, end), kind in kinds.items():
        period = reports.period_between(start, end)
        assert (period.start, period.end, period.kind) == (start, end, kind)
    october = reports.period_between(date(2026, 10, 1), date(2026, 10, 31))
    assert october.previous().text == "2026-09"


def _counts(satisfied: int, of: int) -> Counts:
    levels = {("vn4", 4): LevelTally(satisfied), ("vn4", 1): LevelTally(of - satisfied)}
    return Counts(levels=levels)


def test_rows_are_ranked_by_wilson_lower_bound_and_need_the_minimum_of_ratings() -> None:
    entities = [Entity(i, i, "U", None, (i,)) for i in ("few", "small", "large", "equal")]
    current = {
        "few": _counts(29, 29),  # 100 % but 29 < 30 ratings
        "small": _counts(27, 30),  # 90 %, lower bound 74.38
        "large": _counts(36, 40),  # 90 %, lower bound 76.95
        "equal": _counts(36, 40),
    }
    rows = reports.build_rows(
        entities, current, {}, include_flagged=False, policy=POLICY, classified=True
    )
    got = {r.id: (r.ranked, r.rank, r.figures.wilson_low) for r in rows}
    assert got == {
        "few": (False, None, 88.3),
        "small": (True, 3, 74.38),
        "large": (True, 1, 76.95),
        "equal": (True, 1, 76.95),
    }
    few = next(r for r in rows if r.id == "few")
    assert few.classification is None
    assert [r.classification.code for r in rows[1:] if r.classification] == ["completed"] * 3


def test_a_total_counts_each_group_once_and_a_field_counts_a_shared_counter_in_full() -> None:
    shared = _counts(9, 10)
    entities = [
        Entity("f1", "Field 1", "", None, ("q1", "shared")),
        Entity("f2", "Field 2", "", None, ("shared",)),
    ]
    built = reports.build_report(
        Query("field", parse_period("2026-10")),
        parse_period("2026-09"),
        entities,
        {"q1": _counts(1, 2), "shared": shared},
        {},
        POLICY,
    )
    assert [r.figures.ratings for r in built.rows] == [12, 10]
    assert built.total.figures.ratings == 12 and built.total.figures.satisfied == 10


# --- on the database -------------------------------------------------------------------------


def test_officers_for_a_month_match_the_hand_computed_figures(engine: Engine) -> None:
    body = run(engine, "officer", "2026-10")
    assert body["period"]["label_vi"] == "Tháng 10/2026"
    assert body["previous"]["text"] == "2026-09"
    assert (body["policy_version"], body["min_ratings"]) == ("2026-12-vi-du-3", 30)
    rows = by_id(body["officers"], "officer_id")
    a = rows["CB-A"]
    assert {k: a[k] for k in A_OCTOBER} == A_OCTOBER
    assert (a["ranked"], a["rank"]) == (True, 2)  # behind CB-C: 90 % of 40 is surer
    assert a["classification"]["code"] == "good"  # 90 % satisfied, 3,33 % dissatisfied
    assert a["classification"]["rule"] == (
        "Hoàn thành tốt nhiệm vụ: tỷ lệ hài lòng từ 78 % trở lên và tỷ lệ “Không hài lòng” "
        "không quá 5 % (chính sách 2026-12-vi-du-3)"
    )
    b = rows["CB-B"]
    assert (b["ratings"], b["satisfied_pct"], b["wilson_low"], b["wilson_high"]) == (
        29,
        100.0,
        88.3,
        100.0,
    )
    assert (b["ranked"], b["rank"], b["classification"]) == (False, None, None)
    c = rows["CB-C"]
    assert (c["ratings"], c["satisfied_pct"], c["wilson_low"], c["wilson_high"]) == (
        40,
        90.0,
        76.95,
        96.04,
    )
    assert (c["rank"], c["unsatisfied_pct"], c["happy_index"]) == (1, 10.0, 90.0)
    assert body["total"]["ratings"] == 99 and body["total"]["satisfied"] == 92


def test_a_unit_ranks_its_own_officers_only(engine: Engine) -> None:
    rows = run(engine, "officer", "2026-10", unit_id="DH")["officers"]
    assert [(r["officer_id"], r["ranked"], r["rank"]) for r in rows] == [
        ("CB-A", True, 1),
        ("CB-B", False, None),
    ]


def test_one_officers_report_ranks_them_among_their_units_officers(engine: Engine) -> None:
    policy = replace(POLICY, min_ratings=29)  # so CB-B (29 ratings, all satisfied) is ranked
    with Session(engine) as session:
        query = Query("officer", parse_period("2026-10"), officer_id="CB-A")
        (own,) = reports.report(session, query, policy).rows
    # Alone CB-A would be first; in Diên Hồng CB-B's lower bound 88.3 is above CB-A's 74.38.
    assert (own.id, own.figures.ratings, own.ranked, own.rank) == ("CB-A", 30, True, 2)


def test_a_running_month_compares_with_the_same_days_of_the_month_before(
    engine: Engine,
) -> None:
    """On 15 October CB-A's October so far (30 ratings, 27 satisfied) is compared with 1-15
    September (15/9: 7 of 9 satisfied), not with all of September (8 of 10)."""
    query = Query("officer", parse_period("2026-10"), today=date(2026, 10, 15))
    with Session(engine) as session:
        made = reports.report(session, query, POLICY)
    assert made.previous == parse_period("2026-09-01..2026-09-15")
    (row,) = [r for r in made.rows if r.id == "CB-A"]
    assert row.previous is not None
    assert (row.previous.ratings, row.previous.satisfied_pct) == (9, 77.78)
    assert row.change_satisfied_pct == 12.22  # 90.00 − 77.78
    over = reports.report(session, replace(query, today=date(2026, 11, 1)), POLICY)
    assert over.previous == parse_period("2026-09")


def test_flagged_ratings_are_left_out_unless_asked_for(engine: Engine) -> None:
    got = officers(engine, "2026-10", include_flagged=True)["CB-A"]
    assert (got["ratings"], got["flagged"], got["counts"]["vn4"]["1"]) == (31, 1, 2)
    assert got["satisfied_pct"] == 87.1  # 27 / 31 = 87.096…
    assert got["rated_services"] == 10  # a flagged rating is never a rated service
    # wait_time 3, attitude 1, paperwork 1 (the flagged one's) of 5 mentions
    assert got["reasons"] == {"wait_time": 60.0, "attitude": 20.0, "paperwork": 20.0}


def test_a_press_at_17_00_utc_is_the_next_vietnam_day_and_month(engine: Engine) -> None:
    # 2026-09-30T16:59:59Z is 23:59:59 on 30/9 in Vietnam; 2026-09-30T17:00:00Z is 00:00 on 1/10.
    sept_30, oct_1 = officers(engine, "2026-09-30"), officers(engine, "2026-10-01")
    assert (sept_30["CB-A"]["ratings"], sept_30["CB-B"]["ratings"]) == (1, 0)
    assert (oct_1["CB-A"]["ratings"], oct_1["CB-B"]["ratings"]) == (0, 1)
    september = officers(engine, "2026-09")
    assert (september["CB-A"]["ratings"], september["CB-B"]["ratings"]) == (10, 0)
    assert officers(engine, "2026-10")["CB-B"]["ratings"] == 29
    both = run(engine, "unit", "2026-09-30..2026-10-01", unit_id="DH")["rows"]
    assert [(r["unit_id"], r["ratings"]) for r in both] == [("DH", 2)]
    with Session(engine) as session:
        days = reports.daily_report(session, date(2026, 9, 30), date(2026, 10, 1), "DH")
    assert [(d.day, d.figures.ratings) for d in days] == [
        (date(2026, 9, 30), 1),
        (date(2026, 10, 1), 1),
    ]


def test_quarter_and_year_compare_with_the_one_before(engine: Engine) -> None:
    q4 = run(engine, "officer", "2026-Q4", officer_id="CB-A")
    assert q4["previous"]["text"] == "2026-Q3"
    (a,) = q4["officers"]
    assert (a["ratings"], a["previous_ratings"], a["change_satisfied_pct"]) == (30, 10, 10.0)
    (year,) = run(engine, "officer", "2026", officer_id="CB-A")["officers"]
    assert (year["ratings"], year["satisfied"], year["satisfied_pct"]) == (40, 35, 87.5)
    assert year["previous_ratings"] == 0 and year["change_satisfied_pct"] is None


def test_counters_fields_and_units(engine: Engine) -> None:
    counters = by_id(run(engine, "counter", "2026-10")["rows"], "counter_id")
    assert {k: (r["ratings"], r["unit_id"]) for k, r in counters.items()} == {
        "DH-Q1": (30, "DH"),
        "DH-Q2": (29, "DH"),
        "XA-Q1": (40, "XA"),
    }
    assert counters["DH-Q1"]["response_rate"] == 83.33
    fields = run(engine, "field", "2026-10")
    got = by_id(fields["rows"], "field_id")
    # tu-phap: DH-Q1 and DH-Q2, 27 + 29 of 30 + 29; dat-dai: DH-Q2 and XA-Q1, 29 + 36 of 69
    assert (got["tu-phap"]["ratings"], got["tu-phap"]["satisfied_pct"]) == (59, 94.92)
    assert (got["dat-dai"]["ratings"], got["dat-dai"]["satisfied_pct"]) == (69, 94.2)
    assert fields["total"]["ratings"] == 99  # DH-Q2 once
    dh_fields = by_id(run(engine, "field", "2026-10", unit_id="DH")["rows"], "field_id")
    assert (dh_fields["tu-phap"]["ratings"], dh_fields["dat-dai"]["ratings"]) == (59, 29)
    one_field = run(engine, "counter", "2026-10", field_id="dat-dai")["rows"]
    assert [r["counter_id"] for r in one_field] == ["DH-Q2", "XA-Q1"]
    units = by_id(run(engine, "unit", "2026-10")["rows"], "unit_id")
    assert (units["DH"]["ratings"], units["DH"]["satisfied_pct"]) == (59, 94.92)  # 56 / 59
    assert (units["DH"]["rank"], units["XA"]["rank"]) == (1, 2)
    assert "classification" not in units["DH"]


def test_dashboard_entry_points_give_the_same_figures(engine: Engine) -> None:
    with Session(engine) as session:
        rows = reports.officer_report(session, date(2026, 10, 1), date(2026, 10, 31), "DH")
        assert report_json.row_dict(rows[0], "officer")["wilson_low"] == 74.38
        assert rows[0].change_satisfied_pct == 10.0  # 1–31 October is compared with September
        whole = reports.period_report(session, date(2026, 10, 1), date(2026, 10, 31), "DH")
        assert (whole.ratings, whole.satisfied_pct, whole.response_rate) == (59, 94.92, 83.33)
        mine = reports.officer_figures(session, "CB-A", date(2026, 10, 1), date(2026, 10, 31))
        assert mine == rows[0].figures


SUMMARY = {
    "officer": {"CB-A": (30, 90.0, 74.38, 2), "CB-B": (29, 100.0, 88.3, None),
                "CB-C": (40, 90.0, 76.95, 1)},
    "counter": {"DH-Q1": (30, 90.0, 74.38, 2), "DH-Q2": (29, 100.0, 88.3, None),
                "XA-Q1": (40, 90.0, 76.95, 1)},
    "field": {"dat-dai": (69, 94.2, 86.02, 2), "tu-phap": (59, 94.92, 86.08, 1)},
    "unit": {"DH": (59, 94.92, 86.08, 1), "XA": (40, 90.0, 76.95, 2)},
}  # fmt: skip


def test_every_scope_on_both_databases(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    seed(engine)
    try:
        for scope, expected in SUMMARY.items():
            body = run(engine, scope, "2026-10")  # type: ignore[arg-type]
            key = report_json.ID_KEYS[scope]  # type: ignore[index]
            got = {
                r[key]: (r["ratings"], r["satisfied_pct"], r["wilson_low"], r["rank"])
                for r in body[report_json.rows_key(scope)]  # type: ignore[arg-type]
            }
            assert got == expected, scope
        a = officers(engine, "2026-10")["CB-A"]
        assert {k: a[k] for k in A_OCTOBER} == A_OCTOBER
        assert officers(engine, "2026-09-30")["CB-A"]["ratings"] == 1
    finally:
        engine.dispose()


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(report_app(tmp_path_factory.mktemp("api"))) as c:
        yield c


def test_the_api_answers_the_same_figures_and_records_the_run(client: TestClient) -> None:
    r = client.get("/api/v1/reports/officers?period=2026-10", headers=login(client, "hr"))
    assert r.status_code == 200, r.text
    body = r.json()
    a = by_id(body["officers"], "officer_id")["CB-A"]
    assert {k: a[k] for k in A_OCTOBER} == A_OCTOBER
    assert (body["include_flagged"], body["generated_by"]) == (False, "hr")
    content = {
        k: v
        for k, v in body.items()
        if k not in ("run_id", "generated_at", "generated_by", "sha256")
    }
    assert report_json.digest(content) == body["sha256"]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        event = session.get(AuditEvent, body["run_id"])
    assert event is not None
    assert (event.actor, event.role, event.action) == ("hr", "hr", "report.officer")
    assert event.client == "testclient"
    detail = json.loads(event.detail)
    assert detail["policy_version"] == "2026-12-vi-du-3"
    assert detail["sha256"] == body["sha256"]
    assert detail["query"]["period"] == "2026-10"


def test_the_api_compares_a_running_month_with_as_many_days_before(client: TestClient) -> None:
    """The API's clock (the `now` dependency) says 15 October, 10:00 in Vietnam: as the
    dashboard shows it, October so far is compared with 1-15 September."""
    app = client.app
    app.dependency_overrides[now] = lambda: datetime(2026, 10, 15, 3, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    try:
        r = client.get("/api/v1/reports/officers?period=2026-10", headers=login(client, "hr"))
    finally:
        app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    assert r.json()["previous"]["text"] == "2026-09-01..2026-09-15"
    a = by_id(r.json()["officers"], "officer_id")["CB-A"]
    assert (a["previous_ratings"], a["change_satisfied_pct"]) == (9, 12.22)


def test_period_or_start_and_end(client: TestClient) -> None:
    hr = login(client, "hr")
    old = client.get("/api/v1/reports/officers?start=2026-10-01&end=2026-10-31", headers=hr)
    assert old.status_code == 200
    assert old.json()["period"]["text"] == "2026-10"
    new = client.get("/api/v1/reports/officers?period=2026-10", headers=hr).json()
    assert old.json()["officers"] == new["officers"]
    for query, says in [
        ("", "period"),
        ("?period=2026-10&start=2026-10-01", "not both"),
        ("?start=2026-10-01", "start and end"),
        ("?start=2026-10-31&end=2026-10-01", "end"),
        ("?period=october", "not a report period"),
    ]:
        bad = client.get(f"/api/v1/reports/officers{query}", headers=hr)
        assert bad.status_code == 422 and says in bad.text, (query, bad.text)
    assert client.get("/api/v1/reports/desks?period=2026-10", headers=hr).status_code == 422


def test_each_role_sees_what_it_may(client: TestClient) -> None:
    q = "/api/v1/reports/officers?period=2026-10"
    head = login(client, "head-dh")
    rows = client.get(q, headers=head).json()["officers"]
    assert [r["officer_id"] for r in rows] == ["CB-A", "CB-B"]
    assert client.get(f"{q}&unit_id=XA", headers=head).status_code == 403
    (unit,) = client.get("/api/v1/reports/units?period=2026-10", headers=head).json()["rows"]
    assert unit["unit_id"] == "DH"

    officer = login(client, "officer-a")
    (own,) = client.get(q, headers=officer).json()["officers"]
    assert own["officer_id"] == "CB-A" and own["ratings"] == 30
    assert client.get(f"{q}&officer_id=CB-B", headers=officer).status_code == 403
    assert client.get("/api/v1/reports/units?period=2026-10", headers=officer).status_code == 403

    viewer = login(client, "viewer")
    shown = client.get(q, headers=viewer).json()["officers"]
    assert len(shown) == 3
    assert all("officer_id" not in r and "name" not in r for r in shown)
    # One officer per row: fewer than the policy's 3, so no figures (test_privacy.py).
    assert [(r["suppressed"], r["ratings"]) for r in shown] == [(True, None)] * 3
    assert client.get(f"{q}&officer_id=CB-A", headers=viewer).status_code == 403
    units = client.get("/api/v1/reports/units?period=2026-10", headers=viewer)
    assert units.status_code == 200 and len(units.json()["rows"]) == 2

    assert client.get(q).status_code == 401


def test_unknown_units_give_empty_reports_not_other_units(client: TestClient) -> None:
    r = client.get(
        "/api/v1/reports/counters?period=2026-10&unit_id=NOPE", headers=login(client, "admin")
    )
    assert r.status_code == 200 and r.json()["rows"] == [] and r.json()["total"]["ratings"] == 0
