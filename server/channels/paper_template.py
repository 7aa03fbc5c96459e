"""The workbook staff type paper forms into (GET /api/v1/paper/template): the `phieu` sheet
with the Vietnamese headers in row 1 and the column ids in row 2 (what the upload reads), empty
from row 3; an example on `vi_du` (not read, so nothing has to be deleted before an upload);
`huong_dan` explaining each column in Vietnamese and English; and the ids the server knows
(units, counters, fields, officers, reasons, levels), one sheet each, to copy from.

Names come from the database: each is written as text, since openpyxl would write a string
beginning with `=` as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, SQLModel, select

from server.channels.paper_sheet import PHIEU, REASON_SEPARATOR, SCALE
from server.registry.importing.sheets import CODE, TEXT
from server.registry.importing.template import lay_out, write_header
from server.storage.models import Counter, Officer, ServiceField, Unit
from server.storage.reasons import REASONS

_BOLD = Font(bold=True)
_TEXT_KINDS = {"form_no", CODE, TEXT, "reasons"}
_USAGE = (
    (
        "Mỗi phiếu khảo sát một hàng của sheet phieu, từ hàng 3; hàng 1 là tiêu đề, hàng 2 là mã "
        "cột mà hệ thống đọc (không sửa hàng 2). Có lỗi ở bất kỳ hàng nào thì không nhập phiếu "
        "nào: sửa rồi tải lên lại. Một số phiếu đã nhập thì không nhập lại.",
        "One survey form per row of the phieu sheet, from row 3; row 1 holds the headers, row 2 "
        "the column ids the upload reads (do not change row 2). With an error in any row no form "
        "is entered: fix it and upload again. A form number entered once is not entered again.",
    ),
    (
        f"Thang đo của phiếu: 3 mức ({SCALE.code}). Có thể lưu sheet phieu thành tệp CSV UTF-8 "
        "có cùng các cột. Các sheet khác (vi_du, huong_dan, danh mục) không được nhập.",
        f"The form's scale: three levels ({SCALE.code}). The phieu sheet may also be saved as a "
        "UTF-8 CSV file with the same columns. The other sheets (vi_du, huong_dan, the lists) "
        "are not read.",
    ),
)


def template_workbook(session: Session) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = PHIEU.id
    lay_out(ws, PHIEU, _TEXT_KINDS)
    example = book.create_sheet("vi_du")
    write_header(example, PHIEU, 1)
    _row(example, 3, [c.example for c in PHIEU.columns])
    _help(book.create_sheet("huong_dan"))
    _lists(book, session)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(ws: Worksheet, row: int, values: Iterable[Any]) -> None:
    for index, value in enumerate(values, 1):
        cell = ws.cell(row, index, value)
        if isinstance(value, str):
            cell.data_type = "s"


def _table(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    for index, title in enumerate(headers, 1):
        ws.cell(1, index, title).font = _BOLD
        ws.column_dimensions[get_column_letter(index)].width = 28
    for number, values in enumerate(rows, 2):
        _row(ws, number, values)
    ws.freeze_panes = "A2"


def _help(ws: Worksheet) -> None:
    for row, (vi, en) in enumerate(_USAGE, 1):
        _row(ws, row, [vi, None, None, None, en])
    start = len(_USAGE) + 2
    headers = ("Mã cột / column", "Tiêu đề", "Bắt buộc / required", "Giải thích", "Explanation")
    for index, title in enumerate((*headers, "Ví dụ / example"), 1):
        ws.cell(start, index, title).font = _BOLD
    for row, column in enumerate(PHIEU.columns, start + 1):
        required = "có / yes" if column.required else "không / no"
        _row(
            ws,
            row,
            [column.id, column.header_vi, required, column.help_vi, column.help_en, column.example],
        )
    for index, width in enumerate((16, 24, 14, 60, 60, 20), 1):
        ws.column_dimensions[get_column_letter(index)].width = width


# The registry's lists, one sheet each: (sheet, headers, table, its columns in that order).
_REGISTRY_LISTS: tuple[tuple[str, tuple[str, ...], type[SQLModel], tuple[str, ...]], ...] = (
    ("don_vi", ("unit_id", "Tên đơn vị / name"), Unit, ("id", "name")),
    ("quay", ("counter_id", "Tên quầy / name", "unit_id"), Counter, ("id", "name", "unit_id")),
    ("linh_vuc", ("field_id", "Tên lĩnh vực / name"), ServiceField, ("id", "name")),
    ("can_bo", ("officer_id", "Họ tên / name", "unit_id"), Officer, ("id", "name", "unit_id")),
)


def _lists(book: Workbook, session: Session) -> None:
    """The registry's ids, for staff to copy: every unit's, as hr and admins enter any unit's."""
    for name, headers, table, columns in _REGISTRY_LISTS:
        rows = [tuple(getattr(r, c) for c in columns) for r in session.exec(select(table)).all()]
        _table(book.create_sheet(name), headers, sorted(rows))
    reasons = book.create_sheet("ly_do")
    _table(
        reasons,
        ("Mã / code", "Tên / label", "In English"),
        [(r.code, r.label_vi, r.label_en) for r in REASONS],
    )
    reasons.cell(len(REASONS) + 3, 1, f"Nhiều lý do: cách nhau bằng {REASON_SEPARATOR}")
    _table(
        book.create_sheet("muc"),
        ("level", "Mức / level", "In English"),
        [
            (i, vi, en)
            for i, (vi, en) in enumerate(zip(SCALE.labels_vi, SCALE.labels_en, strict=True), 1)
        ],
    )
