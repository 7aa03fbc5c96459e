"""The paper forms service on each database backend: forms stored once, a second upload of
the same forms refused by row, and two uploads racing between check and store cannot double a
form (the rating id comes from the unit and the form number)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from devtools.paper_screenshot import paper_workbook
from server.access.roles import Access, Forbidden
from server.channels import paper
from server.channels.paper_check import check
from server.storage.channels import PaperBatch
from server.storage.models import Rating
from tests.server.factories import RULES

NOW = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)
HR = Access("hr", "phongnoivu")
FORMS = paper_workbook(
    [
        ["0153", "DH", "DH-Q1", None, "CB-0042", "2026-10-14", 3, None, None],
        ["0154", "DH", None, "tu-phap", None, "2026-10-14", 1, "late_result", None],
    ]
)


def enter(session: Session, access: Access = HR) -> paper.PaperReport:
    return paper.enter_forms(session, RULES, FORMS, "phieu.xlsx", access=access, now=NOW)


def paper_count(session: Session) -> int:
    return session.exec(select(func.count()).where(Rating.input == "paper")).one()


def test_forms_are_entered_once(session: Session) -> None:
    first = enter(session)
    assert (first.created, first.written, first.errors) == (2, True, [])
    stored = session.exec(select(Rating).where(Rating.input == "paper")).all()
    assert {r.id for r in stored} == {paper.rating_id("DH", "0153"), paper.rating_id("DH", "0154")}
    assert {(r.counter_id, r.officer_id, r.reasons) for r in stored} == {
        ("DH-Q1", "CB-0042", ""),
        (None, None, "late_result"),
    }
    again = enter(session)
    assert (again.created, again.written, again.refused_rows) == (0, False, [3, 4])
    assert paper_count(session) == 2


def test_two_uploads_racing_cannot_double_a_form(session: Session) -> None:
    engine = session.get_bind()
    with Session(engine) as late:
        checked = check(late, FORMS, NOW, timedelta(days=400))
        late.rollback()
        assert len(checked.forms) == 2 and checked.errors == []
        assert enter(session).created == 2  # the other upload stores first
        with pytest.raises(IntegrityError):
            paper.store_forms(late, RULES, checked.forms, "phieu.xlsx", HR, NOW, None)
        late.rollback()
    assert paper_count(session) == 2
    assert session.exec(select(func.count()).select_from(PaperBatch)).one() == 1


def test_a_unit_head_may_not_enter_forms(session: Session) -> None:
    with pytest.raises(Forbidden):
        enter(session, Access("unit_head", "head", unit_id="DH"))
    assert paper_count(session) == 0
