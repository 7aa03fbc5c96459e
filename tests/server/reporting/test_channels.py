"""Ratings by channel on every report row, and the policy's `[channels] officer_excluded`: an
unverified web rating (a counter's printed card) counts for its counter, field and unit but for
no officer, in the ingest's rollups, the recount and `hailong rollups rebuild`, every report row
and an officer's hours; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from server.ingest.services import ServiceIn, record_services
from server.policy import load_policy
from server.reporting import channel_labels, exports, heatmap, recount, report_json, reports, tally
from server.reporting import monthly as monthly_report
from server.reporting.counts import Counts
from server.reporting.periods import parse_period
from server.storage.models import Rating
from server.storage.rollups import FAMILIES
from server.storage.rows import RatingRow
from server.timeutil import VN_TZ
from tests.server.factories import stored_in, stored_row
from tests.server.reporting.test_monthly_report import cells

POLICY = load_policy(None)
COUNTED = POLICY.misuse.count
APART = POLICY.channels.officer_excluded
OCTOBER_6 = datetime(2026, 10, 6, 9, 0, tzinfo=VN_TZ)
AFTER = date(2027, 1, 1)

# (input, flags, ticket, score): CB-0042 is on duty at DH-Q1 for all of them.
RATINGS: list[tuple[str, str, str | None, int]] = [
    ("button", "", "A-0001", 4),
    ("button", "", None, 4),
    ("button", "cooldown", None, 1),  # misuse: out of every figure
    ("touch", "", None, 3),
    ("web", "", "A-0002", 4),  # a ticket's link: the officer's
    ("web", "web_unverified", None, 1),  # a counter's card: the counter's, not the officer's
    ("paper", "", None, 4),
]
EVERY_INPUT = ("button", "touch", "keyboard", "web", "paper")


def _rows() -> list[RatingRow]:
    return [
        stored_row(
            OCTOBER_6 + timedelta(minutes=10 * i),
            marks,
            seq=i + 1,
            input=given,
            ticket=ticket,
            score=score,
        )
        for i, (given, marks, ticket, score) in enumerate(RATINGS)
    ]


def _seeded(database_url: str) -> Engine:
    engine = stored_in(database_url, _rows(), OCTOBER_6)
    with Session(engine) as session:
        served = [
            ServiceIn(counter_id="DH-Q1", ticket=f"A-000{n}", served_at=OCTOBER_6)
            for n in range(1, 5)
        ]
        record_services(session, served, OCTOBER_6)
        session.commit()
    return engine


def _report(engine: Engine, scope: report_json.Scope, period: str = "2026-10") -> dict[str, Any]:
    with Session(engine) as session:
        query = reports.Query(scope, parse_period(period), today=AFTER)
        return reports.report(session, query, POLICY).as_dict()


def _everything(engine: Engine) -> dict[str, Any]:
    return {scope: _report(engine, scope) for scope in report_json.SCOPES}


# pure ----------------------------------------------------------------------------------------


def test_an_excluded_flag_moves_the_rating_to_no_officer_in_every_tally() -> None:
    day = date(2026, 10, 6)
    card = stored_row(OCTOBER_6, "web_unverified", input="web", reasons="attitude")
    plain = stored_row(OCTOBER_6, "", input="web", reasons="attitude")
    assert tally.officer_of(card, APART) == "" and tally.officer_of(plain, APART) == "CB-0042"
    assert tally.officer_of(card, ()) == "CB-0042"  # a policy that counts them for officers
    rows = [card, plain]
    assert tally.tally(rows, COUNTED, APART) == {
        (day, "DH-Q1", "", "vn4", 4, "DH"): (1, 0, 0),  # not misuse: not flagged
        (day, "DH-Q1", "CB-0042", "vn4", 4, "DH"): (1, 0, 0),
    }
    assert tally.tally_reasons(rows, COUNTED, APART) == {
        (day, "DH-Q1", "", "attitude", "DH"): (1, 0),
        (day, "DH-Q1", "CB-0042", "attitude", "DH"): (1, 0),
    }
    # the flag is counted where the rating now is; no `no_officer` flag is made up for it
    assert tally.tally_flags(rows, APART) == {(day, "DH-Q1", "", "web_unverified", "DH"): (1,)}
    assert tally.tally_channels(rows, COUNTED, APART) == {
        (day, "DH-Q1", "", "web", "DH"): (1, 0),
        (day, "DH-Q1", "CB-0042", "web", "DH"): (1, 0),
    }


def test_channel_counts_name_every_input_and_follow_include_flagged() -> None:
    counts = Counts(channels={"button": (5, 1), "paper": (2, 0)})
    counts.add(Counts(channels={"button": (1, 0), "web": (3, 3)}))
    assert counts.channel_counts(False) == {
        "button": 5,
        "touch": 0,
        "keyboard": 0,
        "web": 0,
        "paper": 2,
    }
    assert list(counts.channel_counts(True).values()) == [6, 0, 0, 3, 2]
    assert Counts().channel_counts(False) == dict.fromkeys(EVERY_INPUT, 0)


# on a database -------------------------------------------------------------------------------


def test_every_row_has_its_channels_and_the_card_rating_is_not_the_officers(
    database_url: str,
) -> None:
    engine = _seeded(database_url)
    try:
        whole = {"button": 2, "touch": 1, "keyboard": 0, "web": 2, "paper": 1}
        theirs = {**whole, "web": 1}
        (officer,) = _report(engine, "officer")["officers"]
        assert (officer["ratings"], officer["channels"]) == (5, theirs)
        assert list(officer["channels"]) == list(EVERY_INPUT)
        assert officer["flags"] == {"cooldown": 1}
        for scope in ("counter", "field", "unit"):
            made = _report(engine, scope)
            (row,) = made["rows"]
            assert (row["ratings"], row["channels"]) == (6, whole), scope
            assert row["flags"] == {"cooldown": 1, "web_unverified": 1}, scope
            assert made["total"]["channels"] == whole, scope
            # 2 of the 4 tickets served were rated (the button's and the link's)
            assert (row["rated_services"], row["response_rate"]) == (2, 50.0), scope
        assert officer["response_rate"] == 50.0
        with Session(engine) as session:
            # the stored rating keeps who was on duty: only the counts move
            card = session.exec(select(Rating).where(Rating.flags == "web_unverified")).one()
            assert card.officer_id == "CB-0042"
            hours = heatmap.hour_weekday(
                session,
                date(2026, 10, 1),
                date(2026, 10, 31),
                counted=COUNTED,
                officer_excluded=APART,
                officer_id="CB-0042",
            )
            unit_hours = heatmap.hour_weekday(
                session, date(2026, 10, 1), date(2026, 10, 31), counted=COUNTED, unit_id="DH"
            )
        assert (hours.total, unit_hours.total) == (5, 6)
        # no service known in September: the rate is "—", not 0
        (before,) = _report(engine, "counter", "2026-09")["rows"]
        assert before["response_rate"] is None
        assert before["channels"] == dict.fromkeys(EVERY_INPUT, 0)
        flagged = reports.Query("counter", parse_period("2026-10"), include_flagged=True)
        with Session(engine) as session:
            (row,) = reports.report(session, flagged, POLICY).rows
        assert row.channels == {**whole, "button": 3}
    finally:
        engine.dispose()


def test_the_recount_and_a_rebuild_agree_with_the_ingest(database_url: str) -> None:
    engine = _seeded(database_url)
    try:
        before = _everything(engine)
        assert recount.check(engine, COUNTED, officer_excluded=APART) == []
        # a recount that gave the card rating to the officer would differ: the check can fail
        wrong = recount.check(engine, COUNTED, officer_excluded=())
        assert {m.key[2] for m in wrong if m.table == "rollup_channel_day"} == {"", "CB-0042"}
        assert recount.rebuild(engine, COUNTED, officer_excluded=APART) == len(RATINGS)
        assert recount.check(engine, COUNTED, officer_excluded=APART) == []
        assert _everything(engine) == before
    finally:
        engine.dispose()


def test_hailong_rollups_rebuild_keeps_the_card_rating_from_the_officer(tmp_path: Path) -> None:
    engine = _seeded(f"sqlite:///{tmp_path / 'hailong.db'}")
    tables = [f.tables["day"].name for f in FAMILIES]
    try:
        with engine.connect() as conn:
            counted = {t: sorted(conn.execute(text(f"SELECT * FROM {t}")).all()) for t in tables}
            before = _everything(engine)
            conn.execute(text("DELETE FROM rollup_channel_day"))
            conn.commit()
        done = subprocess.run(
            [sys.executable, "-m", "system.cli", "rollups", "rebuild", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr
        assert f"rebuilt from {len(RATINGS)} ratings" in done.stdout
        with engine.connect() as conn:
            again = {t: sorted(conn.execute(text(f"SELECT * FROM {t}")).all()) for t in tables}
        assert again == counted
        assert _everything(engine) == before
    finally:
        engine.dispose()


def test_the_exports_have_a_column_per_channel_after_the_ratings(tmp_path: Path) -> None:
    engine = _seeded(f"sqlite:///{tmp_path / 'hailong.db'}")
    try:
        body = _report(engine, "counter")
    finally:
        engine.dispose()
    vi, en, row, total = list(csv.reader(io.StringIO(exports.csv_bytes(body).decode("utf-8-sig"))))
    at = en.index("Ratings") + 1
    assert en[at : at + 5] == [
        "Ratings by channel: Buttons at the counter (button)",
        "Ratings by channel: Touchscreen at the counter (touch)",
        "Ratings by channel: Keypad at the counter (keyboard)",
        "Ratings by channel: Phone (QR link) (web)",
        "Ratings by channel: Paper survey form (paper)",
    ]
    assert vi[at : at + 5] == [
        "Số đánh giá qua: Nút bấm tại quầy",
        "Số đánh giá qua: Màn hình cảm ứng tại quầy",
        "Số đánh giá qua: Bàn phím tại quầy",
        "Số đánh giá qua: Điện thoại (mã QR)",
        "Số đánh giá qua: Phiếu khảo sát giấy",
    ]
    assert row[at : at + 5] == total[at : at + 5] == ["2", "1", "0", "2", "1"]
    run = {"generated_at": "2027-01-01T00:00:00+00:00", "generated_by": "hr", "run_id": 1}
    book = exports.xlsx_bytes({**body, **run, "sha256": "0" * 64})
    sheet = load_workbook(io.BytesIO(book))["Báo cáo"]
    cells = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert cells[0][at : at + 5] == [2, 1, 0, 2, 1]  # numbers, as the JSON has them
    # a row hidden from a viewer (channels {}) or a body made before channels: empty cells
    hidden = {**body["rows"][0], "channels": {}}
    older = {k: v for k, v in body["total"].items() if k != "channels"}
    made = exports.csv_bytes({**body, "rows": [hidden], "total": older})
    _, _, row, total = list(csv.reader(io.StringIO(made.decode("utf-8-sig"))))
    assert row[at : at + 5] == total[at : at + 5] == [""] * 5


def test_a_channel_summary_names_the_channels_used() -> None:
    used = {"button": 1200, "touch": 0, "keyboard": 0, "web": 8, "paper": 3}
    assert channel_labels.summary(used) == "Nút 1.200 · Web 8 · Giấy 3"
    assert channel_labels.summary(dict.fromkeys(EVERY_INPUT, 0)) == "—"
    assert channel_labels.summary({}) == channel_labels.summary(None) == "—"
    assert tuple(channel_labels.BY_INPUT) == EVERY_INPUT


def test_the_monthly_page_counts_the_channels_and_says_what_the_card_flag_does(
    tmp_path: Path,
) -> None:
    engine = _seeded(f"sqlite:///{tmp_path / 'hailong.db'}")
    try:
        with Session(engine) as session:
            month = monthly_report.monthly(session, "DH", parse_period("2026-10"), POLICY)
    finally:
        engine.dispose()
    page = monthly_report.render(month, monthly_report.Run(7, OCTOBER_6, "hr", "0" * 64))
    assert cells(page, "channels") == [["2", "1", "0", "2", "1"]]
    assert '<th>Điện thoại (mã QR) <span class="en">Phone (QR link)</span></th>' in page
    assert cells(page, "flags")[-1] == [
        "Qua mã QR tại quầy (chưa xác minh) Counter QR card (unverified)",
        "1",
        "tính cho quầy và đơn vị, không tính cho cán bộ counted for the counter and unit, not "
        "the officer",
    ]
