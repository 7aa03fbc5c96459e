"""Counts per flag: kept with the ratings like every rollup, carried by every report row whatever
the policy makes of the flag, recounted by `rollups check|rebuild`, and filled by the migration
for the ratings stored before they existed; on SQLite and PostgreSQL.

The ratings are stored through `ingest.store_rows` with their flags already set, as the ingest's
rules set them (tests/server/ingest/test_ingest_rules.py tests the rules themselves).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.ingest.store import store_rows
from server.policy import load_policy
from server.reporting import monthly as monthly_report
from server.reporting import reading, recount, report_json, reports, tally
from server.reporting.periods import parse_period
from server.storage import flags, rollups
from server.storage.db import alembic_config, make_engine, migrate
from server.storage.rows import RatingRow
from server.timeutil import VN_TZ
from tests.server.factories import RULES, stored_in, stored_row
from tests.server.reporting.test_monthly_report import cells

POLICY = load_policy(None)
COUNTED = POLICY.misuse.count
OCTOBER_6 = datetime(2026, 10, 6, 9, 0, tzinfo=VN_TZ)
SEPTEMBER_15 = datetime(2026, 9, 15, 9, 0, tzinfo=VN_TZ)

# (pressed at, flags, officer): CB-0042's October is 2 plain ratings, 3 whose clock the server
# corrected (counted), and 5 left out: 2 out of order, 1 with a reused seq, 1 for another
# officer than the one assigned (the "invisible" flag of issue 10), 1 late and clock-corrected.
# September adds one of each of the two commonest. One rating while nobody was assigned.
RATINGS: list[tuple[datetime, str, str | None]] = [
    *[(OCTOBER_6, "", "CB-0042")] * 2,
    *[(OCTOBER_6, "clock_corrected", "CB-0042")] * 3,
    *[(OCTOBER_6, "out_of_order", "CB-0042")] * 2,
    (OCTOBER_6, "seq_reused,out_of_order", "CB-0042"),
    (OCTOBER_6, "officer_mismatch", "CB-0042"),
    (OCTOBER_6, "late_while_online,clock_corrected", "CB-0042"),
    (SEPTEMBER_15, "clock_corrected", "CB-0042"),
    (SEPTEMBER_15, "out_of_order", "CB-0042"),
    (OCTOBER_6, "no_officer", None),
]
OCTOBER_FLAGS = {
    "officer_mismatch": 1,
    "clock_corrected": 4,
    "seq_reused": 1,
    "out_of_order": 3,
    "late_while_online": 1,
}


def _rows() -> list[RatingRow]:
    return [
        stored_row(at + timedelta(minutes=i), marks, seq=i + 1, officer_id=officer)
        for i, (at, marks, officer) in enumerate(RATINGS)
    ]


def _seeded(database_url: str) -> Engine:
    return stored_in(database_url, _rows(), OCTOBER_6)


def _report(engine: Engine, scope: report_json.Scope, period: str) -> dict[str, Any]:
    with Session(engine) as session:
        query = reports.Query(scope, parse_period(period))
        return reports.report(session, query, POLICY).as_dict()


# pure ----------------------------------------------------------------------------------------


def test_tally_flags_counts_each_flag_of_a_rating_once_whatever_the_policy() -> None:
    day = date(2026, 10, 6)
    base = {"day": day, "counter_id": "Q1", "unit_id": "U", "officer_id": "A"}
    columns = [
        {**base, "flags": "seq_reused,out_of_order"},
        {**base, "flags": "out_of_order"},
        {**base, "flags": "clock_corrected"},
        {**base, "flags": ""},
        {**base, "officer_id": None, "flags": "no_officer"},
    ]
    rows = [stored_row(OCTOBER_6, **c) for c in columns]
    assert tally.tally_flags(rows) == {
        (day, "Q1", "A", "seq_reused", "U"): (1,),
        (day, "Q1", "A", "out_of_order", "U"): (2,),
        (day, "Q1", "A", "clock_corrected", "U"): (1,),
        (day, "Q1", "", "no_officer", "U"): (1,),
    }


def test_a_rows_flag_counts_come_in_the_order_of_server_flags() -> None:
    counts = reports.Counts(flags={"out_of_order": 2, "cooldown": 1, "clock_corrected": 0})
    counts.add(reports.Counts(flags={"officer_mismatch": 1, "out_of_order": 1}))
    assert list(counts.flag_counts().items()) == [
        ("cooldown", 1),
        ("officer_mismatch", 1),
        ("out_of_order", 3),
    ]


# on a database -------------------------------------------------------------------------------


def test_every_report_row_counts_its_flags_and_leaves_out_what_the_policy_says(
    database_url: str,
) -> None:
    engine = _seeded(database_url)
    try:
        (officer,) = _report(engine, "officer", "2026-10")["officers"]
        # the officer_mismatch rating no longer counts; the clock-corrected ones do
        assert (officer["ratings"], officer["flagged"]) == (5, 5)
        assert officer["flags"] == OCTOBER_FLAGS
        assert list(officer["flags"]) == [f for f in flags.NAMES if f in OCTOBER_FLAGS]

        # the unit's and the counter's rows have the rating nobody was assigned to as well
        unit = _report(engine, "unit", "2026-10")
        (unit_row,) = unit["rows"]
        assert unit_row["flags"] == {"no_officer": 1, **OCTOBER_FLAGS}
        assert unit["total"]["flags"] == unit_row["flags"]
        (counter,) = _report(engine, "counter", "2026-10")["rows"]
        assert counter["flags"] == unit_row["flags"]
        (field,) = _report(engine, "field", "2026-10")["rows"]
        assert field["flags"] == unit_row["flags"]

        # a year (year rollups), two months and a ragged range (days) add September's
        for period in ("2026", "2026-09-01..2026-10-31", "2026-09-15..2026-10-06"):
            (row,) = _report(engine, "officer", period)["officers"]
            assert row["flags"] == {
                **OCTOBER_FLAGS,
                "clock_corrected": 5,
                "out_of_order": 4,
            }, period
            assert row["ratings"] == 6, period
        (previous,) = _report(engine, "officer", "2026-10-07")["officers"]
        assert previous["flags"] == {} and previous["flagged"] == 0
    finally:
        engine.dispose()


def test_the_monthly_page_shows_each_flag_and_what_the_policy_made_of_it(
    database_url: str,
) -> None:
    engine = _seeded(database_url)
    try:
        with Session(engine) as session:
            month = monthly_report.monthly(session, "DH", parse_period("2026-10"), POLICY)
        run = monthly_report.Run(7, OCTOBER_6, "hr", "0" * 64)
        page = monthly_report.render(month, run)
    finally:
        engine.dispose()
    assert cells(page, "flags") == [
        ["Không có cán bộ No officer on duty", "1", "không tính điểm left out"],
        ["Sai cán bộ Officer differs", "1", "không tính điểm left out"],
        ["Đã chỉnh giờ Clock corrected", "4", "vẫn tính điểm counted"],
        ["Số thứ tự dùng lại Sequence number reused", "1", "không tính điểm left out"],
        ["Sai thứ tự Out of order", "3", "không tính điểm left out"],
        ["Đến muộn khi đang trực tuyến Late while online", "1", "không tính điểm left out"],
    ]
    (officer,) = cells(page, "officers")
    assert officer[2] == "5"  # counted ratings
    assert officer[7] == (
        "5 Sai cán bộ: 1 Đã chỉnh giờ: 4 Số thứ tự dùng lại: 1 Sai thứ tự: 3 "
        "Đến muộn khi đang trực tuyến: 1"
    )


def test_rollups_check_and_rebuild_cover_the_flag_counts(database_url: str) -> None:
    engine = _seeded(database_url)
    try:
        assert recount.check(engine, COUNTED) == []
        with engine.begin() as conn:
            conn.execute(text("UPDATE rollup_flag_month SET n = n + 1 WHERE flag = 'seq_reused'"))
            conn.execute(text("DELETE FROM rollup_flag_day WHERE flag = 'clock_corrected'"))
        found = {(m.table, m.key[-2], m.raw, m.stored) for m in recount.check(engine, COUNTED)}
        assert found == {
            ("rollup_flag_month", "seq_reused", (1,), (2,)),
            ("rollup_flag_year", "seq_reused", (2,), (1,)),  # checked against its months
            ("rollup_flag_day", "clock_corrected", (4,), (0,)),
            ("rollup_flag_day", "clock_corrected", (1,), (0,)),  # September's
        }
        assert recount.rebuild(engine, COUNTED) == len(RATINGS)
        assert recount.check(engine, COUNTED) == []
        (officer,) = _report(engine, "officer", "2026")["officers"]
        assert officer["flags"]["seq_reused"] == 1
    finally:
        engine.dispose()


def test_upgrading_counts_the_flags_of_the_ratings_already_stored(database_url: str) -> None:
    """Ratings stored before the flag rollups (and before the shipped policy left out
    officer_mismatch): the migration counts their flags and recounts what is left out."""
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        for i, (at, marks, officer) in enumerate(RATINGS):
            pressed = at + timedelta(minutes=i)
            conn.execute(
                text(
                    "INSERT INTO rating (id, device_id, seq, pressed_at, device_pressed_at, "
                    "received_at, day, scale, score, officer_id, counter_id, unit_id, reasons, "
                    "input, clock_synced, flags, ticket) VALUES (:id, 'd', :seq, :at, '', :at, "
                    ":day, 'vn4', :score, :officer, 'DH-Q1', 'DH', :reasons, 'button', true, "
                    ":flags, :ticket)"
                ),
                {
                    "id": f"r{i}",
                    "seq": i + 1,
                    "at": pressed,
                    "day": pressed.date(),
                    "score": 1 if marks == "officer_mismatch" else 4,
                    "officer": officer,
                    "reasons": "wait_time" if marks == "officer_mismatch" else "",
                    "flags": marks,
                    "ticket": "T-1" if marks == "officer_mismatch" else None,
                },
            )
    migrate(engine)
    try:
        assert recount.check(engine, COUNTED) == []
        with Session(engine) as session:
            october = reading.tallies(
                session, rollups.FLAGS, date(2026, 10, 1), date(2026, 10, 31), ["officer_id"]
            )
            assert dict((flag, n) for _, flag, n in october) == OCTOBER_FLAGS
            year = reading.tallies(session, rollups.FLAGS, date(2026, 1, 1), date(2026, 12, 31), [])
            assert dict(year) == {**OCTOBER_FLAGS, "clock_corrected": 5, "out_of_order": 4,
                                  "no_officer": 1}  # fmt: skip
            # the officer_mismatch rating (level 1, a reason, a ticket) is left out everywhere
            levels = reading.tallies(
                session, rollups.RATINGS, date(2026, 10, 1), date(2026, 10, 31), ["officer_id"]
            )
            assert ("CB-0042", "vn4", 1, 1, 1, 0) in levels
            reasons = reading.tallies(
                session, rollups.REASONS, date(2026, 1, 1), date(2026, 12, 31), []
            )
            assert reasons == [("wait_time", 1, 1)]
    finally:
        engine.dispose()


def test_a_backdated_month_leaves_the_officers_figures_where_they_were(
    database_url: str,
) -> None:
    """Issue 10's attack, as the order rules flag it: 150 ratings of score 4 for last month
    sent in a second with the unit's password. The month's figures do not move; the report
    says how many were left out and why."""
    engine = _seeded(database_url)
    try:
        before = _report(engine, "officer", "2026-09")["officers"][0]
        sent = datetime.combine(date(2026, 10, 20), time(10), VN_TZ)
        attack = [
            stored_row(
                SEPTEMBER_15 + timedelta(minutes=7 * i),
                "out_of_order" if i % 10 else "seq_reused,out_of_order",
                received_at=sent,
                seq=1000 + i,
            )
            for i in range(150)
        ]
        with Session(engine) as session:
            store_rows(session, attack, RULES, sent)
            session.commit()
        after = _report(engine, "officer", "2026-09")["officers"][0]
        same = ("ratings", "satisfied_pct", "wilson_low", "happy_index", "counts")
        assert {k: after[k] for k in same} == {k: before[k] for k in same}
        assert after["flagged"] == before["flagged"] + 150
        assert after["flags"]["out_of_order"] == before["flags"]["out_of_order"] + 150
        assert after["flags"]["seq_reused"] == 15
    finally:
        engine.dispose()
