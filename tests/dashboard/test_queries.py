"""dashboard.queries against a real migrated SQLite database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine

from dashboard import queries
from server import reports
from server.db import session_scope
from server.reports import figures
from tests.dashboard import rows

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        rows.add_unit(session, "U-B", "Phường Bến Nghé")
        rows.add_unit(session, "U-A", "UBND Quận 1")
        rows.add_officer(session, "CB-1", "Nguyễn Thị Hương", "U-A")
        rows.add_officer(session, "CB-2", "Trần Văn Minh", "U-B")
        rows.add_ratings(session, "CB-1", "U-A", D1, [4, 4, 3])
        rows.add_ratings(session, "CB-1", "U-A", D3, [1])
        rows.add_ratings(session, "CB-2", "U-B", D2, [2, 3], scale="vn3")
        session.commit()


def test_unit_names_in_name_order(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        assert list(queries.unit_names(session).items()) == [
            ("U-B", "Phường Bến Nghé"),
            ("U-A", "UBND Quận 1"),
        ]


def test_period_report_count_both_ends_of_the_period_and_mix_scales(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        period = reports.period_report(session, D1, D3)
        expected = figures(
            {("vn4", 4): 2, ("vn4", 3): 1, ("vn4", 1): 1, ("vn3", 2): 1, ("vn3", 3): 1}
        )
        assert period == expected
        assert period.ratings == 6
        assert period.satisfied_pct == 83.33  # vn3 level 2 is "Hài lòng"


def test_period_report_of_one_unit_and_of_a_day_without_ratings(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        assert reports.period_report(session, D1, D3, "U-B").ratings == 2
        assert reports.period_report(session, D2, D2, "U-A") == figures({})


def test_device_rows_name_the_counter_and_unit(engine: Engine) -> None:
    seen = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        rows.add_unit(session, "U-A", "UBND Quận 1")
        rows.add_counter(session, "Q-2", "Quầy số 2", "U-A")
        rows.add_counter(session, "Q-1", "Quầy số 1", "U-A")
        rows.add_device(session, "HL-2", "Q-2", state="offline", outbox=5, last_seen_at=seen)
        rows.add_device(session, "HL-1", "Q-1", state="online", firmware="1.2.0")
        session.commit()

    with session_scope(engine) as session:
        first, second = queries.device_rows(session)

    assert (first.id, first.counter_name, first.unit_name) == ("HL-1", "Quầy số 1", "UBND Quận 1")
    assert (first.state, first.firmware, first.revoked_at) == ("online", "1.2.0", None)
    assert (second.id, second.state, second.outbox, second.last_seen_at) == (
        "HL-2",
        "offline",
        5,
        seen,
    )
