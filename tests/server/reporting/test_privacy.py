"""Viewers see no group drawn from fewer than N officers: rows, totals, the daily trend, the API
and its exports, and on the demo's month no nameless officer row matches a named counter row.

tests/server/report_data.py: DH has counters DH-Q1 (CB-A) and DH-Q2 (CB-B), XA has XA-Q1 (CB-C);
field tu-phap is served by DH-Q1 and DH-Q2, dat-dai by DH-Q2 and XA-Q1."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from devtools.dashboard_demo import seed_demo
from server.access.roles import Access
from server.policy import Policy, PolicyError, load_policy, parse_policy
from server.policy.file import DEFAULT_FILE
from server.reporting import access_reports, exports, privacy, reports
from server.reporting.periods import parse_period
from server.storage.db import make_engine, migrate, session_scope
from tests.dashboard.rows import NOW
from tests.server import report_data
from tests.server.factories import RULES

HR = Access("hr", "hr")
VIEWER = Access("viewer", "viewer")
OCTOBER = parse_period("2026-10")
OCTOBER_DAYS = OCTOBER.start, OCTOBER.end
POLICY = load_policy(None)


def at_least(n: int) -> Policy:
    return replace(POLICY, viewer_min_officers=n)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'db.sqlite'}")
    migrate(engine)
    report_data.seed(engine)
    yield engine
    engine.dispose()


def content(
    engine: Engine,
    access: Access,
    scope: Any,
    policy: Policy = POLICY,
    period: str = "2026-10",
    **query: Any,
) -> dict[str, Any]:
    with Session(engine) as session:
        q = reports.Query(scope, parse_period(period), **query)
        return access_reports.run(session, access, q, policy).content


def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["officers" if body["scope"] == "officer" else "rows"]


def test_hidden_rows_and_the_complement_pure() -> None:
    a, b, c = frozenset({"A"}), frozenset({"B"}), frozenset({"C"})
    assert privacy.hidden([a | b | c, a, b], [True] * 3, 3) == {1, 2, 0}  # {A, B} < 3
    assert privacy.hidden([a | b | c, a, b | c], [True] * 3, 2) == {1, 2}  # {A,B,C}: enough
    assert privacy.hidden([a | b, c], [True, True], 2) == {0, 1}  # XA alone would be DH − total
    assert privacy.hidden([a | b, frozenset()], [True, False], 2) == set()  # no ratings: nothing
    assert privacy.hidden([a, b], [True, True], 1) == set()


def test_a_viewers_counters_of_one_officer_each_are_hidden_hrs_are_not(engine: Engine) -> None:
    viewer, hr = content(engine, VIEWER, "counter"), content(engine, HR, "counter")

    assert [(r["counter_id"], r["suppressed"]) for r in rows(viewer)] == [
        ("DH-Q1", True),
        ("DH-Q2", True),
        ("XA-Q1", True),
    ]
    q1 = rows(viewer)[0]
    assert q1["name"] == "Quầy 1" and q1["suppressed_vi"] == "Ẩn: ít hơn 3 cán bộ"
    assert q1["ratings"] is q1["satisfied_pct"] is q1["previous_satisfied_pct"] is None
    assert q1["counts"] == q1["reasons"] == {} and q1["rank"] is None and not q1["ranked"]
    assert q1["channels"] == {} and rows(hr)[0]["channels"]["button"] > 0  # its ratings by input
    assert viewer["total"]["channels"] == hr["total"]["channels"]
    assert viewer["total"]["ratings"] == hr["total"]["ratings"] == 30 + 29 + 40  # 3 officers
    assert viewer["total"]["suppressed"] is False
    assert viewer["privacy"] == {"viewer_min_officers": 3, "suppressed_rows": 3}
    assert all(r["ratings"] for r in rows(hr)) and "suppressed" not in rows(hr)[0]


def test_a_small_units_total_is_hidden_and_a_lone_row_pulls_another(engine: Engine) -> None:
    xa = content(engine, VIEWER, "counter", unit_id="XA")
    assert xa["total"]["suppressed"] and xa["total"]["ratings"] is None

    two = at_least(2)
    units = content(engine, VIEWER, "unit", two)
    # DH has 2 officers, XA 1: XA is hidden, and DH with it, or total − DH would be XA.
    assert [(r["unit_id"], r["suppressed"]) for r in rows(units)] == [("DH", True), ("XA", True)]
    fields = content(engine, VIEWER, "field", two)
    assert [r["suppressed"] for r in rows(fields)] == [False, False]  # {B, C} and {A, B}
    one_field = content(engine, VIEWER, "counter", two, unit_id="DH", field_id="tu-phap")
    assert [r["suppressed"] for r in rows(one_field)] == [True, True]
    assert one_field["total"]["suppressed"] is False


def test_a_viewers_officer_rows_are_all_hidden_without_names(engine: Engine) -> None:
    officers = rows(content(engine, VIEWER, "officer"))
    assert {r["suppressed"] for r in officers} == {True}
    assert all("officer_id" not in r and "name" not in r for r in officers)
    assert sorted(r["unit_id"] for r in officers) == ["DH", "DH", "XA"]
    assert {r["ratings"] for r in rows(content(engine, VIEWER, "officer", at_least(1)))} == {
        30,
        29,
        40,
    }


def test_the_previous_period_is_held_to_the_same_rule(engine: Engine) -> None:
    # November: no one; October (the previous period) had A, B and C.
    body = content(engine, VIEWER, "unit", at_least(1), period="2026-11")
    assert [r["previous_ratings"] for r in rows(body)] == [59, 40]
    body = content(engine, VIEWER, "unit", at_least(2), period="2026-11")
    assert [r["previous_ratings"] for r in rows(body)] == [None, None]
    assert body["total"]["previous_ratings"] == 99


def test_a_viewers_daily_trend_leaves_out_days_of_too_few_officers(engine: Engine) -> None:
    def days(access: Access, unit: str | None, n: int = 3) -> list[date]:
        with Session(engine) as session:
            found = access_reports.days(session, access, OCTOBER, unit, policy=at_least(n))
        return [d.day for d in found]

    assert days(HR, "XA") == [date(2026, 10, 7)]
    assert days(VIEWER, "XA") == []
    assert days(VIEWER, None) == []  # each day has one officer
    assert days(VIEWER, None, 1) == days(HR, None)


def test_the_privacy_table_of_the_policy_file() -> None:
    shipped = load_policy(None)
    assert shipped.viewer_min_officers == 3
    text = (Path(__file__).parents[3] / "server/policy" / DEFAULT_FILE).read_text()
    assert (
        parse_policy(text + "\n[privacy]\nviewer_min_officers = 5\n", "p.toml").viewer_min_officers
        == 5
    )
    for bad, says in [
        ("viewer_min_officers = 0", "must be from 1 to 100 officers, not 0"),
        ('viewer_min_officers = "3"', "must be a whole number of officers from 1 to 100"),
        ("viewer_min_officers = 3.0", "not 3.0"),
        ("viewer_min_officers = true", "not True"),
        ("min_officers = 3", "[privacy] min_officers is not a setting here"),
    ]:
        with pytest.raises(PolicyError, match=f"p.toml: .*{re.escape(says)}"):
            parse_policy(f"{text}\n[privacy]\n{bad}\n", "p.toml")
    with pytest.raises(PolicyError, match="must be a table"):
        parse_policy("privacy = 3\n" + text, "p.toml")


def test_the_api_and_its_exports_hide_the_same_rows(tmp_path: Path) -> None:
    app = report_data.report_app(tmp_path)
    with TestClient(app) as client:
        viewer, hr = report_data.login(client, "viewer"), report_data.login(client, "hr")
        q = "/api/v1/reports/counters?period=2026-10"
        body = client.get(q, headers=viewer).json()
        assert [r["suppressed"] for r in body["rows"]] == [True, True, True]
        assert body["total"]["ratings"] == 99
        assert {r.get("suppressed") for r in client.get(q, headers=hr).json()["rows"]} == {None}

        text = client.get(f"{q}&format=csv", headers=viewer).content.decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        header, lines = table[0], table[2:]
        ratings, rank = header.index("Số đánh giá"), header.index(exports.RANK_VI)
        assert [(line[0], line[ratings], line[rank]) for line in lines[:-1]] == [
            ("DH-Q1", "", "Ẩn: ít hơn 3 cán bộ"),
            ("DH-Q2", "", "Ẩn: ít hơn 3 cán bộ"),
            ("XA-Q1", "", "Ẩn: ít hơn 3 cán bộ"),
        ]
        assert lines[-1][ratings] == "99"
        level = next(i for i, h in enumerate(header) if "mức 4" in h)
        assert lines[0][level] == ""  # no count, not a zero

        xlsx = client.get(f"{q}&format=xlsx", headers=viewer).content
        sheet = load_workbook(io.BytesIO(xlsx))["Báo cáo"]
        cells = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
        assert [r[ratings] for r in cells] == [None, None, None, 99]
        assert cells[0][rank] == "Ẩn: ít hơn 3 cán bộ"

        officers = client.get("/api/v1/reports/officers?period=2026-10", headers=viewer).json()
        assert {r["suppressed"] for r in officers["officers"]} == {True}


def figures_of(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["ratings"], row["satisfied"], row["flagged"], str(row["counts"]))


@pytest.mark.parametrize(("n", "matched"), [(3, False), (1, True)])
def test_on_the_demo_month_no_viewer_officer_row_matches_a_named_counter_row(
    tmp_path: Path, n: int, matched: bool
) -> None:
    """One officer per counter in the demo: with the rule off (N = 1) the nameless rows match
    the counters one to one, which is what the rule is there to stop."""
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        seed_demo(session, NOW, RULES)
    period = f"{NOW:%Y-%m}"
    named = {figures_of(r) for r in rows(content(engine, HR, "counter", period=period))}
    nameless = rows(content(engine, VIEWER, "officer", at_least(n), period=period))
    found = [r for r in nameless if r["ratings"] and figures_of(r) in named]
    assert bool(found) is matched
    assert len(found) == (len(nameless) if matched else 0)
    counters = rows(content(engine, VIEWER, "counter", at_least(n), period=period))
    assert not matched or not any(r["suppressed"] for r in counters)
    assert matched or all(r["suppressed"] or not r["ratings"] for r in counters)
    engine.dispose()


def test_both_databases_count_the_same_officers(database_url: str) -> None:
    """The officers' reads (a union of rollup levels, grouped with HAVING) on each backend."""
    engine = make_engine(database_url)
    migrate(engine)
    report_data.seed(engine)
    september_to_october = date(2026, 9, 15), date(2026, 10, 31)  # days and a month
    with Session(engine) as session:
        by_unit = privacy.officers_by(session, *september_to_october, "unit_id")
        by_counter = privacy.officers_by(session, *september_to_october, "counter_id", unit_id="DH")
        days = privacy.shown_days(session, *OCTOBER_DAYS, 1, unit_id=None, include_flagged=False)
        none = privacy.shown_days(session, *OCTOBER_DAYS, 2, unit_id="DH", include_flagged=False)
    engine.dispose()
    assert by_unit == {"DH": {"CB-A", "CB-B"}, "XA": {"CB-C"}}
    assert by_counter == {"DH-Q1": {"CB-A"}, "DH-Q2": {"CB-B"}}
    assert days is None  # every day has its one officer
    assert none == set()  # each of DH's days has one officer: none is shown
