"""An upload of paper forms read and checked row by row before anything is written: the file
(the `phieu` sheet of an XLSX workbook, or a CSV file with the same columns, read by the
registry import's readers), each cell, the ids it names against the registry, the date, and the
form number (twice in the file, or entered before). An error in one row does not stop the
others being checked, so one upload lists everything to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.channels import paper_sheet
from server.channels.paper_sheet import PHIEU, SHEET_ID
from server.registry.importing.cells import CellError
from server.registry.importing.reading import (
    MAX_BYTES,
    csv_rows,
    is_workbook,
    is_zip,
    open_zip,
    sheet_rows,
    too_large,
    workbook_rows,
)
from server.registry.importing.report import RowError, UnreadableFile
from server.storage.channels import PaperBatch, PaperForm
from server.storage.models import Counter, Officer, ServiceField, Unit
from server.timeutil import VN_TZ, vn_day

NOON = time(12)
_LOOKUP_CHUNK = 500  # form numbers per query, under every database's parameter limit


@dataclass(frozen=True)
class Form:
    """One valid row: a form as it will be stored."""

    row: int
    form_no: str
    unit_id: str
    counter_id: str | None
    field_id: str | None
    officer_id: str | None
    day: date
    level: int
    reasons: tuple[str, ...]
    comment: str | None

    @property
    def rated_at(self) -> datetime:
        """Noon of the form's Vietnam day. A form has a date and no time: noon sits inside
        every unit's office hours and well inside the same Vietnam day read in UTC, so the
        rating falls on the form's day in every report and in the hours that count."""
        return datetime.combine(self.day, NOON, VN_TZ)


@dataclass
class Checked:
    forms: list[Form]
    errors: list[RowError]

    def refused_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors if e.row})


def _error(row: int, column: str, vi: str, en: str) -> RowError:
    return RowError(sheet=SHEET_ID, row=row, column=column, message_vi=vi, message_en=en)


def _unreadable() -> UnreadableFile:
    return UnreadableFile(
        "tệp không đọc được: hãy tải lên tệp XLSX theo mẫu (sheet phieu) hoặc tệp CSV UTF-8 có "
        "cùng các cột",
        "the file cannot be read: upload an XLSX workbook like the template (sheet phieu) or a "
        "UTF-8 CSV file with the same columns",
    )


def read_rows(content: bytes) -> tuple[list[tuple[int, Sequence[Any]]], list[RowError]]:
    """The `phieu` rows of a workbook, or a CSV file's records; raises `UnreadableFile` (or
    `FileTooLarge`) for a file that is neither."""
    if len(content) > MAX_BYTES:
        raise too_large(len(content))
    if is_zip(content):
        archive = open_zip(content)
        found = workbook_rows(content) if archive is not None and is_workbook(archive) else None
        if found is None:
            raise _unreadable()
        sheet = next(
            (rows for name, rows in found.items() if name.strip().lower() == SHEET_ID), None
        )
        if sheet is None:
            return [], [
                RowError(
                    sheet="",
                    row=0,
                    column="",
                    message_vi="tệp không có sheet phieu: điền phiếu vào sheet phieu của tệp mẫu",
                    message_en="the workbook has no phieu sheet: enter the forms in the "
                    "template's phieu sheet",
                )
            ]
        return sheet, []
    try:
        body = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(
            "tệp CSV không phải UTF-8: lưu lại dưới dạng CSV UTF-8",
            "the CSV file is not UTF-8: save it again as CSV UTF-8",
        ) from None
    if "\x00" in body:
        raise _unreadable()
    return csv_rows(body), []


@dataclass(frozen=True)
class Registry:
    """What a form may name: units, counters (their unit), fields, officers (their unit)."""

    units: frozenset[str]
    counters: dict[str, str]
    fields: frozenset[str]
    officers: dict[str, str]

    @classmethod
    def load(cls, session: Session) -> Registry:
        return cls(
            frozenset(session.exec(select(Unit.id)).all()),
            dict(session.exec(select(Counter.id, Counter.unit_id)).all()),
            frozenset(session.exec(select(ServiceField.id)).all()),
            dict(session.exec(select(Officer.id, Officer.unit_id)).all()),
        )


def entered_before(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], PaperBatch]:
    """(unit, form number) already entered → the batch that entered it."""
    wanted = set(keys)
    numbers = sorted({form_no for _, form_no in wanted})
    found: dict[tuple[str, str], PaperBatch] = {}
    for start in range(0, len(numbers), _LOOKUP_CHUNK):
        chunk = numbers[start : start + _LOOKUP_CHUNK]
        rows = session.exec(
            select(PaperForm, PaperBatch)
            .join(PaperBatch, col(PaperBatch.id) == PaperForm.batch_id)
            .where(col(PaperForm.form_no).in_(chunk))
        ).all()
        for form, batch in rows:
            if (form.unit_id, form.form_no) in wanted:
                found[(form.unit_id, form.form_no)] = batch
    return found


def check(session: Session, content: bytes, now: datetime, max_age: timedelta) -> Checked:
    """Every row of the upload checked; `max_age`: how old a form may be (the ingest's limit
    for a unit's rating, so both channels keep to the same history)."""
    rows, errors = read_rows(content)
    if errors:
        return Checked([], errors)
    read = sheet_rows(PHIEU, rows, errors)
    if read is None:
        return Checked([], errors)
    registry = Registry.load(session)
    today = vn_day(now)
    oldest = vn_day(now - max_age)
    forms: list[Form] = []
    seen: dict[tuple[str, str], int] = {}
    for row in read.rows:
        before = len(errors)
        values: dict[str, Any] = {}
        for column_id, raw in row.values.items():
            column = PHIEU.column(column_id)
            assert column is not None  # the reader keeps only the sheet's columns
            try:
                values[column_id] = paper_sheet.READERS[column.kind](raw)
            except CellError as exc:
                errors.append(_error(row.number, column_id, exc.message_vi, exc.message_en))
                continue
            if column.required and values[column_id] is None:
                errors.append(
                    _error(
                        row.number,
                        column_id,
                        f"ô bắt buộc ({column.header_vi}) đang trống",
                        f"required ({column_id}): the cell is empty",
                    )
                )
        if len(errors) > before:
            continue
        form = Form(
            row=row.number,
            form_no=values["form_no"],
            unit_id=values["unit_id"],
            counter_id=values.get("counter_id"),
            field_id=values.get("field_id"),
            officer_id=values.get("officer_id"),
            day=values["date"],
            level=values["level"],
            reasons=values.get("reasons") or (),
            comment=values.get("comment"),
        )
        key = (form.unit_id, form.form_no)
        if key in seen:
            errors.append(
                _error(
                    row.number,
                    "form_no",
                    f"phiếu số {form.form_no!r} của đơn vị {form.unit_id!r} trùng với hàng "
                    f"{seen[key]}: mỗi phiếu chỉ ghi một hàng",
                    f"form {form.form_no!r} of unit {form.unit_id!r} is also on row {seen[key]}: "
                    "give each form one row",
                )
            )
            continue
        seen[key] = row.number
        row_errors = _refer(form, registry) + _dated(form, today, oldest)
        if row_errors:
            errors.extend(row_errors)
        else:
            forms.append(form)
    entered = entered_before(session, [(f.unit_id, f.form_no) for f in forms])
    errors.extend(
        already_entered(f, entered[(f.unit_id, f.form_no)])
        for f in forms
        if (f.unit_id, f.form_no) in entered
    )
    forms = [f for f in forms if (f.unit_id, f.form_no) not in entered]
    return Checked(forms, sorted(errors, key=_order))


def _order(error: RowError) -> tuple[int, int]:
    ids = PHIEU.column_ids
    return error.row, ids.index(error.column) if error.column in ids else -1


def already_entered(form: Form, batch: PaperBatch) -> RowError:
    when = batch.entered_at.astimezone(VN_TZ).strftime("%d/%m/%Y")
    return _error(
        form.row,
        "form_no",
        f"phiếu số {form.form_no!r} của đơn vị {form.unit_id!r} đã được nhập ở đợt {batch.id} "
        f"ngày {when} ({batch.entered_by}): không nhập lại",
        f"form {form.form_no!r} of unit {form.unit_id!r} was entered in batch {batch.id} on "
        f"{when} ({batch.entered_by}): it is not entered again",
    )


def _refer(form: Form, registry: Registry) -> list[RowError]:
    n = form.row
    if form.unit_id not in registry.units:
        return [_unknown(n, "unit_id", ("đơn vị", "unit"), form.unit_id, "don_vi")]
    errors: list[RowError] = []
    if form.counter_id is None and form.field_id is None:
        errors.append(
            _error(
                n,
                "counter_id",
                "phiếu phải ghi quầy hoặc lĩnh vực: điền counter_id hoặc field_id",
                "a form names a counter or a field: fill counter_id or field_id",
            )
        )
    if form.field_id is not None and form.field_id not in registry.fields:
        errors.append(_unknown(n, "field_id", ("lĩnh vực", "field"), form.field_id, "linh_vuc"))
    for column, what, found, units, sheet in (
        ("counter_id", ("quầy", "counter"), form.counter_id, registry.counters, "quay"),
        ("officer_id", ("cán bộ", "officer"), form.officer_id, registry.officers, "can_bo"),
    ):
        if found is None:
            continue
        unit = units.get(found)
        if unit is None:
            errors.append(_unknown(n, column, what, found, sheet))
        elif unit != form.unit_id:
            errors.append(
                _error(
                    n,
                    column,
                    f"{what[0]} {found!r} thuộc đơn vị {unit!r}, không phải {form.unit_id!r}",
                    f"{what[1]} {found!r} belongs to unit {unit!r}, not {form.unit_id!r}",
                )
            )
    return errors


def _unknown(row: int, column: str, what: tuple[str, str], found: str, sheet: str) -> RowError:
    return _error(
        row,
        column,
        f"không có {what[0]} {found!r}: dùng mã trong sheet {sheet} của tệp mẫu",
        f"unknown {what[1]} {found!r}: use an id of the template's {sheet} sheet",
    )


def _dated(form: Form, today: date, oldest: date) -> list[RowError]:
    shown = form.day.strftime("%d/%m/%Y")
    if form.day > today:
        return [
            _error(
                form.row,
                "date",
                f"ngày {shown} chưa đến (hôm nay {today:%d/%m/%Y}): sửa ngày trên phiếu",
                f"{form.day.isoformat()} is in the future (today is {today.isoformat()}): "
                "correct the date",
            )
        ]
    if form.day < oldest:
        return [
            _error(
                form.row,
                "date",
                f"ngày {shown} cũ hơn {oldest:%d/%m/%Y}, giới hạn lưu đánh giá của hệ thống",
                f"{form.day.isoformat()} is older than {oldest.isoformat()}, the oldest rating the "
                "system takes",
            )
        ]
    return []
