"""Rotas, absences and one-offs in the database: the write rules, the roster, the Config."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from hailong.errors import NotFound, RegistryError
from server.ingest.store import store_rows
from server.registry import officers
from server.registry import writes as registry
from server.registry.device_config import config_for, next_assignment_change
from server.registry.duty import officer_at
from server.registry.roster import resolved_shifts
from server.registry.rota_writes import add_absence, list_rota, put_rota
from server.reporting.reports import officer_report
from server.storage.db import make_engine, migrate
from server.storage.models import (
    AssignmentCreate,
    AssignmentUpdate,
    Counter,
    Device,
    Officer,
    OfficerUpdate,
    Unit,
)
from server.storage.schedule import AbsenceCreate, RotaCreate
from server.timeutil import VN_TZ
from tests.server.factories import RULES, stored_row


def vn(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=VN_TZ)


def row(officer: str, counter: str, **fields: Any) -> RotaCreate:
    return RotaCreate.model_validate(
        {"counter_id": counter, "officer_id": officer, "from": "2026-12-01", **fields}
    )


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'roster.db'}")
    migrate(engine)
    with Session(engine) as s:
        s.add(Unit(id="DH", name="Phường Diên Hồng", kind="ward", province="Gia Lai"))
        s.add(Unit(id="XX", name="Xã Khác", kind="commune", province="Gia Lai"))
        s.commit()
        for counter_id, unit in (("Q-01", "DH"), ("Q-02", "DH"), ("X-01", "XX")):
            s.add(Counter(id=counter_id, name=counter_id, unit_id=unit))
        for officer_id, unit in (("CB-01", "DH"), ("CB-02", "DH"), ("CB-03", "DH")):
            s.add(Officer(id=officer_id, name=f"Cán bộ {officer_id}", unit_id=unit))
        s.add(Officer(id="CB-X", name="Người xã khác", unit_id="XX"))
        s.commit()
        yield s
    engine.dispose()


def on_duty(session: Session, counter: str, moment: datetime) -> str | None:

    return officer_at(resolved_shifts(session, [counter], moment, moment).get(counter, []), moment)


def test_put_rota_creates_then_finds_the_same_row_again(session: Session) -> None:
    made, outcome = put_rota(session, row("CB-01", "Q-01", every=2))
    assert outcome == "created" and made.id is not None
    again, outcome = put_rota(session, row("CB-01", "Q-01", every=2))
    assert (again.id, outcome) == (made.id, "unchanged")
    changed, outcome = put_rota(session, row("CB-01", "Q-01", every=2, to="2026-12-31"))
    assert (changed.id, outcome, changed.last_day) == (made.id, "updated", date(2026, 12, 31))
    assert len(list_rota(session, unit_id="DH")) == 1
    assert list_rota(session, unit_id="XX") == []


def test_alternating_days_put_one_officer_at_the_counter_each_day(session: Session) -> None:
    put_rota(session, row("CB-01", "Q-01", every=2))
    put_rota(session, row("CB-02", "Q-01", every=2, **{"from": "2026-12-02"}))
    assert [on_duty(session, "Q-01", vn(d, 10)) for d in (1, 2, 3, 30, 31)] == [
        "CB-01",
        "CB-02",
        "CB-01",
        "CB-02",
        "CB-01",
    ]


def test_a_rota_needs_a_known_active_officer_of_the_counters_unit(session: Session) -> None:
    with pytest.raises(NotFound, match="counter_id"):
        put_rota(session, row("CB-01", "Q-99"))
    with pytest.raises(RegistryError, match="belongs to unit XX"):
        put_rota(session, row("CB-X", "Q-01"))
    officers.update_officer(session, "CB-03", OfficerUpdate(active=False))
    with pytest.raises(RegistryError, match="inactive"):
        put_rota(session, row("CB-03", "Q-01"))


def test_an_officer_cannot_be_at_two_counters_at_once(session: Session) -> None:
    put_rota(session, row("CB-01", "Q-02", start="07:30", end="11:30", **{"from": "2026-12-02"}))
    put_rota(session, row("CB-01", "Q-01", start="13:00", end="17:00"))  # the afternoons: fine
    with pytest.raises(RegistryError) as refused:
        put_rota(session, row("CB-01", "Q-01", start="08:00", end="12:00"))
    assert str(refused.value).startswith(
        "cán bộ CB-01 đã ở quầy Q-02 từ 07:30 đến 11:30 ngày 02/12/2026 (giờ Việt Nam); "
        "officer CB-01 is already at counter Q-02 from 07:30 to 11:30 on 02/12/2026"
    )


def test_a_clash_weeks_away_is_found_within_the_common_period(session: Session) -> None:
    # Every 2 days from the 1st at Q-01 (1, 3, 5, ...), every 3 days from the 2nd at Q-02
    # (2, 5, ...): both on the 5th.
    put_rota(session, row("CB-01", "Q-01", every=2))
    with pytest.raises(RegistryError, match="quầy Q-01 từ 00:00 đến 24:00 ngày 05/12/2026"):
        put_rota(session, row("CB-01", "Q-02", every=3, **{"from": "2026-12-02"}))
    # Every 2 weeks on Mondays from two different weeks never meet.
    put_rota(session, row("CB-02", "Q-01", days="T2", every=2, **{"from": "2026-11-30"}))
    put_rota(session, row("CB-02", "Q-02", days="T2", every=2, **{"from": "2026-12-07"}))


def test_a_counter_cannot_have_two_officers_at_once_from_rotas(session: Session) -> None:
    put_rota(session, row("CB-01", "Q-01", days="T2 T3 T4 T5 T6"))
    with pytest.raises(RegistryError, match="quầy Q-01 đã có cán bộ CB-01 theo lịch trực"):
        put_rota(session, row("CB-02", "Q-01", days="T6 T7", **{"from": "2026-12-03"}))
    put_rota(session, row("CB-02", "Q-01", days="T7 CN"))


def test_one_offs_count_as_shifts_and_leave_frees_the_officer(session: Session) -> None:
    registry.create_assignment(
        session,
        AssignmentCreate(officer_id="CB-01", counter_id="Q-02", start=vn(10, 8), end=vn(10, 10)),
    )
    with pytest.raises(RegistryError, match="quầy Q-02 từ 08:00 đến 10:00 ngày 10/12/2026"):
        put_rota(session, row("CB-01", "Q-01"))
    put_rota(session, row("CB-01", "Q-01", to="2026-12-09"))
    with pytest.raises(
        RegistryError, match="cán bộ CB-01 đã ở quầy Q-01 từ 00:00 đến 24:00 ngày 09/12"
    ):
        registry.create_assignment(
            session,
            AssignmentCreate(officer_id="CB-01", counter_id="Q-02", start=vn(9, 8), end=vn(9, 9)),
        )
    add_absence(session, AbsenceCreate(officer_id="CB-01", start=vn(9), end=vn(9, 12)))
    made = registry.create_assignment(
        session,
        AssignmentCreate(officer_id="CB-01", counter_id="Q-02", start=vn(9, 8), end=vn(9, 9)),
    )
    # Extending the substitute's shift past the leave would put them at two counters again.
    with pytest.raises(RegistryError, match="quầy Q-01 từ 12:00 đến 24:00 ngày 09/12/2026"):
        registry.end_assignment(session, made.id or 0, AssignmentUpdate(end=vn(9, 13)))
    registry.end_assignment(session, made.id or 0, AssignmentUpdate(end=vn(9, 12)))


def test_a_one_off_wins_over_the_rota_at_its_counter(session: Session) -> None:
    put_rota(session, row("CB-01", "Q-01", start="07:00", end="17:00"))
    registry.create_assignment(
        session,
        AssignmentCreate(officer_id="CB-02", counter_id="Q-01", start=vn(4, 10), end=vn(4, 12)),
    )
    shifts = resolved_shifts(session, ["Q-01"], vn(4, 8), vn(4, 16))["Q-01"]
    assert [(s.officer_id, s.source, s.start, s.end) for s in shifts] == [
        ("CB-01", "rota", vn(4, 7), vn(4, 10)),
        ("CB-02", "assignment", vn(4, 10), vn(4, 12)),
        ("CB-01", "rota", vn(4, 12), vn(4, 17)),
    ]
    add_absence(session, AbsenceCreate(unit_id="DH", start=vn(5), end=vn(6)))
    assert resolved_shifts(session, ["Q-01"], vn(5), vn(5, 23)) == {}


def test_resolved_shifts_read_many_counters_in_a_few_queries(session: Session) -> None:
    counters = [f"C-{i:04d}" for i in range(1200)]
    session.add_all(Counter(id=c, name=c, unit_id="DH") for c in counters)
    session.commit()
    put_rota(session, row("CB-01", "C-0007"))
    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        found = resolved_shifts(session, counters, vn(3, 9), vn(3, 10))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert list(found) == ["C-0007"]
    # three chunks of three, the absences and the rota officer's sign-ins (one chunk)
    assert len(statements) <= 3 * 3 + 2


def test_the_config_shows_the_rota_officer_and_changes_at_the_shift_boundary(
    session: Session,
) -> None:
    session.add(Device(id="dev-q1", counter_id="Q-01", created_at=datetime.now(UTC)))
    session.commit()
    put_rota(session, row("CB-01", "Q-01", days="T2 T3 T4 T5 T6", start="07:30", end="11:30"))
    device = session.get(Device, "dev-q1")
    assert device is not None
    morning = config_for(session, device, vn(3, 9))
    assert morning.officer is not None and morning.officer.id == "CB-01"
    assert config_for(session, device, vn(3, 12)).officer is None
    assert next_assignment_change(session, vn(3, 9)) == vn(3, 11, 30)
    # Friday after the shift: the next boundary is Monday 07:30, further than the look-ahead,
    # so the refresh is told to look again at the end of it.
    later = next_assignment_change(session, vn(4, 12))
    assert later is not None and vn(4, 12) < later < vn(7, 7, 30)
    assert next_assignment_change(session, vn(6, 20)) == vn(7, 7, 30)
    assert timedelta(0) < later - vn(4, 12) <= timedelta(hours=12)


def test_an_officer_who_leaves_keeps_their_past_shifts_and_has_no_more(session: Session) -> None:
    put_rota(session, row("CB-01", "Q-01", to="2026-12-19", start="07:30", end="17:00"))
    put_rota(session, row("CB-01", "Q-02", **{"from": "2026-12-20"}))
    put_rota(session, row("CB-02", "Q-02", to="2026-12-19", start="07:30", end="17:00"))
    ended: list[list[str]] = []
    update = OfficerUpdate(active=False)
    officers.update_officer(session, "CB-01", update, ended.append, now=vn(10, 9))
    assert [text.split(" ", 3)[3:] for text in ended[0]] == [
        ["Q-01 ends 2026-12-10"],
        ["Q-02 removed (not begun)"],
    ]
    assert on_duty(session, "Q-01", vn(10, 8)) == "CB-01"  # before they left: history stays
    assert on_duty(session, "Q-01", vn(10, 10)) is None  # the rest of the day: nobody
    assert on_duty(session, "Q-01", vn(9, 10)) == "CB-01"
    assert on_duty(session, "Q-02", vn(21, 10)) is None
    # Before today's shift began, the rota simply stops after yesterday.
    officers.update_officer(session, "CB-02", update, ended.append, now=vn(10, 6))
    assert ended[1][0].endswith("ends 2026-12-09")
    assert on_duty(session, "Q-02", vn(10, 8)) is None


def test_an_officer_moves_to_another_unit_only_once_their_shifts_there_are_over(
    session: Session,
) -> None:
    put_rota(session, row("CB-02", "Q-01", to="2026-12-05"))
    move = OfficerUpdate(unit_id="XX")
    with pytest.raises(RegistryError, match=r"still has shifts at unit DH: rota \d+ at Q-01"):
        officers.update_officer(session, "CB-02", move, now=vn(4, 9))
    with pytest.raises(NotFound, match="unknown unit 'YY'"):
        officers.update_officer(session, "CB-02", OfficerUpdate(unit_id="YY"), now=vn(6))
    session.add(Device(id="dev-q1", counter_id="Q-01", created_at=datetime.now(UTC)))
    session.commit()
    rated = stored_row(vn(3, 9), officer_id="CB-02", counter_id="Q-01", device_id="dev-q1")
    store_rows(session, [rated], RULES, vn(3, 9))
    session.commit()
    moved = officers.update_officer(session, "CB-02", move, now=vn(6))
    assert moved.unit_id == "XX"
    assert on_duty(session, "Q-01", vn(3, 9)) == "CB-02"  # their past shifts stay theirs
    # The unit's report still counts the rating they got there; the new unit's does not.
    december = (date(2026, 12, 1), date(2026, 12, 31))
    rows = {r.id: r.figures.ratings for r in officer_report(session, *december, "DH")}
    assert rows == {"CB-01": 0, "CB-02": 1, "CB-03": 0}
    assert {r.id: r.figures.ratings for r in officer_report(session, *december, "XX")} == {
        "CB-02": 0,
        "CB-X": 0,
    }


def test_an_import_checks_its_rows_against_each_other_before_committing(session: Session) -> None:
    put_rota(session, row("CB-01", "Q-01", every=2), commit=False)
    with pytest.raises(RegistryError, match="cán bộ CB-01 đã ở quầy Q-01"):
        put_rota(session, row("CB-01", "Q-02", every=2, **{"from": "2026-12-03"}), commit=False)
    session.rollback()
    assert list_rota(session) == []
