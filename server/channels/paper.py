"""Paper survey forms entered by staff: one service for the API (POST /api/v1/paper) and the
dashboard's page. An upload is checked whole (server/channels/paper_check.py) and stored all
or nothing: with any error nothing is written; a dry run checks and writes nothing.

Each form becomes one rating with input `paper` on the form's three-level scale, stored by
`store_channel_ratings` like a unit's, attributed to the officer the citizen wrote and to
nobody when none is written: a form is never guessed onto whoever was on duty that day, since
the citizen may have been served by someone else. A form that names only a field counts for
its unit alone. A rating's id is derived from the unit and the form number, so the same form
can never be stored twice, even by two uploads at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.access import audit
from server.access.roles import ENTER_PAPER, Access
from server.channels.paper_check import Form, already_entered, check, entered_before
from server.channels.paper_sheet import SCALE
from server.channels.ratings import ChannelRating, store_channel_ratings
from server.ingest.store import IngestRules
from server.registry.importing.report import RowError
from server.storage.channels import PaperBatch, PaperForm

AUDIT_ACTION = "paper.import"
# The rating ids of forms: uuid5 of "<unit>/<form number>" in this namespace.
FORM_NAMESPACE = uuid.UUID("5f0c1e6a-8b1d-4f52-9a0e-7d3c2b6a4e91")
FILE_NAME_MAX = 200


class PaperReport(BaseModel):
    """What an upload did. `forms`: the valid forms (those a dry run would enter); `created`:
    the ratings stored; `refused_rows`: the rows with an error (row 1 is the headers, 2 the
    column ids, forms from 3); with any error nothing is stored."""

    file_name: str
    dry_run: bool
    written: bool = False
    batch_id: int | None = None
    forms: int = 0
    created: int = 0
    refused_rows: list[int] = Field(default_factory=list)
    errors: list[RowError] = Field(default_factory=list)


def rating_id(unit_id: str, form_no: str) -> str:
    return str(uuid.uuid5(FORM_NAMESPACE, f"{unit_id}/{form_no}"))


def _rating(form: Form) -> ChannelRating:
    return ChannelRating(
        id=rating_id(form.unit_id, form.form_no),
        input="paper",
        unit_id=form.unit_id,
        counter_id=form.counter_id,
        rated_at=form.rated_at,
        scale=SCALE.code,
        score=form.level,
        officer_id=form.officer_id,
        reported_officer_id=form.officer_id,
        reasons=form.reasons,
        comment=form.comment,
    )


def enter_forms(
    session: Session,
    rules: IngestRules,
    content: bytes,
    file_name: str,
    *,
    access: Access,
    now: datetime,
    dry_run: bool = False,
    client: str | None = None,
) -> PaperReport:
    """Raises `UnreadableFile` (`FileTooLarge`) for a file that is neither a workbook nor a
    CSV file, `Forbidden` for a role that may not enter forms; everything else wrong is in the
    report. A written upload is one `PaperBatch`, a `PaperForm` per form and one audit event."""
    access.require(ENTER_PAPER)
    file_name = file_name[:FILE_NAME_MAX]
    report = PaperReport(file_name=file_name, dry_run=dry_run)
    checked = check(session, content, now, rules.max_age)
    session.rollback()  # the check only read
    report.forms = len(checked.forms)
    if checked.errors or dry_run or not checked.forms:
        report.errors = checked.errors
        report.refused_rows = checked.refused_rows()
        return report
    try:
        batch_id, created = store_forms(
            session, rules, checked.forms, file_name, access, now, client
        )
    except IntegrityError:
        # Another upload entered some of these forms between the check and the commit.
        session.rollback()
        return _entered_meanwhile(session, report, checked.forms)
    except BaseException:
        session.rollback()
        raise
    report.written, report.batch_id, report.created = True, batch_id, created
    return report


def store_forms(
    session: Session,
    rules: IngestRules,
    forms: list[Form],
    file_name: str,
    access: Access,
    now: datetime,
    client: str | None,
) -> tuple[int, int]:
    """Store checked forms as one batch and commit; the batch id and how many were stored.
    Raises IntegrityError when any of them was stored since it was checked (the caller rolls
    back): its rating id or its form number is taken."""
    batch = PaperBatch(entered_by=access.username, entered_at=now, filename=file_name, forms=0)
    session.add(batch)
    session.flush()
    assert batch.id is not None
    ratings = [_rating(form) for form in forms]
    inserted = store_channel_ratings(session, rules, ratings, now)
    if len(inserted) != len(ratings):
        raise IntegrityError("a form's rating is stored already", None, ValueError())
    batch.forms = len(inserted)
    session.add(batch)
    for form, rating in zip(forms, ratings, strict=True):
        session.add(
            PaperForm(
                unit_id=form.unit_id, form_no=form.form_no, batch_id=batch.id, rating_id=rating.id
            )
        )
    detail = {"batch": batch.id, "forms": len(inserted), "file": file_name}
    audit.record_access(
        session, access, AUDIT_ACTION, target=str(batch.id), client=client, detail=detail
    )
    session.commit()
    return batch.id, len(inserted)


def _entered_meanwhile(session: Session, report: PaperReport, forms: list[Form]) -> PaperReport:
    entered = entered_before(session, [(f.unit_id, f.form_no) for f in forms])
    report.errors = [
        already_entered(f, entered[(f.unit_id, f.form_no)])
        for f in forms
        if (f.unit_id, f.form_no) in entered
    ]
    if not report.errors:
        report.errors = [
            RowError(
                sheet="",
                row=0,
                column="",
                message_vi="một lần tải lên khác vừa nhập cùng lúc: tải lên lại để kiểm tra",
                message_en="another upload was entered at the same moment: upload again to check",
            )
        ]
    report.refused_rows = sorted({e.row for e in report.errors if e.row})
    return report


def last_batches(session: Session, access: Access, limit: int = 20) -> list[PaperBatch]:
    """The latest uploads, newest first: who entered them, when, from which file, how many."""
    access.require(ENTER_PAPER)
    return list(
        session.exec(select(PaperBatch).order_by(col(PaperBatch.id).desc()).limit(limit)).all()
    )
