"""The workbook an administrator fills in: one sheet per import sheet with the Vietnamese
headers in row 1 and the column ids in row 2 (what the import reads), empty from row 3; the
example rows are on their own sheet, `vi_du`, so nothing has to be deleted before an import;
and `huong_dan` explains each column in Vietnamese and English. All of it comes from
`sheets.SHEETS`, the table the import itself reads by."""

from __future__ import annotations

import io
from collections.abc import Collection

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from server.registry.importing import sheets

TEXT_ROWS = 500  # rows whose id and name cells are formatted as text, so 001 stays 001
_BOLD = Font(bold=True)
_ID_FONT = Font(italic=True, color="555555")
_ID_FILL = PatternFill("solid", fgColor="EEEEEE")
_TEXT_KINDS = (sheets.CODE, sheets.TEXT, sheets.CODES)
_USAGE = (
    (
        "Điền mỗi sheet từ hàng 3; hàng 1 là tiêu đề, hàng 2 là mã cột mà hệ thống đọc (không sửa "
        "hàng 2). Sheet nào không cần thì để trống hoặc xóa. Mỗi hàng được nhận ra theo mã: có rồi "
        "thì cập nhật, chưa có thì tạo mới, giống hệt thì không đổi. Có lỗi thì không ghi gì.",
        "Fill each sheet from row 3; row 1 holds the headers, row 2 the column ids the import "
        "reads (do not change row 2). Leave out or delete sheets you do not need. Rows are found "
        "by their id: an existing one is updated, a new one created, an identical one left as it "
        "is. With any error nothing is written.",
    ),
    (
        "Sheet vi_du có các hàng ví dụ; sheet này và huong_dan không được nhập.",
        "The vi_du sheet holds example rows; it and huong_dan are not imported.",
    ),
)


def template_workbook() -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for sheet in sheets.SHEETS.values():
        lay_out(book.create_sheet(sheet.id), sheet, _TEXT_KINDS)
    _examples(book.create_sheet(sheets.EXAMPLE_SHEET))
    _help(book.create_sheet(sheets.HELP_SHEET))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def lay_out(ws: Worksheet, sheet: sheets.Sheet, text_kinds: Collection[str]) -> None:
    """A sheet to fill in: the headers, and the cells of columns of `text_kinds` formatted as
    text (so 001 stays 001) from row 3."""
    write_header(ws, sheet, 1)
    for index, column in enumerate(sheet.columns, 1):
        if column.kind in text_kinds:
            for row in range(3, TEXT_ROWS + 3):
                ws.cell(row, index).number_format = "@"
    ws.freeze_panes = "A3"


def write_header(ws: Worksheet, sheet: sheets.Sheet, row: int) -> None:
    for index, column in enumerate(sheet.columns, 1):
        title = ws.cell(row, index, column.header_vi + (" *" if column.required else ""))
        title.font = _BOLD
        code = ws.cell(row + 1, index, column.id)
        code.font, code.fill = _ID_FONT, _ID_FILL
        ws.column_dimensions[get_column_letter(index)].width = max(16, len(column.header_vi) + 4)


def _examples(ws: Worksheet) -> None:
    """Each sheet's example row under its own headers; the rota shows two officers taking a
    counter on alternate days."""
    row = 1
    for sheet in sheets.SHEETS.values():
        ws.cell(row, 1, f"{sheet.id} — {sheet.title_vi} / {sheet.title_en}").font = _BOLD
        write_header(ws, sheet, row + 1)
        examples = [[c.example for c in sheet.columns]]
        if sheet.id == "rota":
            second = dict(zip(sheet.column_ids, examples[0], strict=True))
            second.update({"officer_id": "CB-0043", "from": "2026-12-02"})
            examples.append([second[c] for c in sheet.column_ids])
        for offset, values in enumerate(examples, 3):
            for index, value in enumerate(values, 1):
                ws.cell(row + offset, index, value).data_type = "s"
        row += len(examples) + 4


def _help(ws: Worksheet) -> None:
    for row, (vi, en) in enumerate(_USAGE, 1):
        ws.cell(row, 1, vi)
        ws.cell(row, 5, en)
    headers = ("Sheet", "Mã cột / column", "Tiêu đề", "Bắt buộc / required", "Giải thích")
    start = len(_USAGE) + 2
    for index, title in enumerate((*headers, "Explanation", "Ví dụ / example"), 1):
        ws.cell(start, index, title).font = _BOLD
    row = start + 1
    for sheet in sheets.SHEETS.values():
        for column in sheet.columns:
            values = (
                f"{sheet.id} ({sheet.title_vi})",
                column.id,
                column.header_vi,
                "có / yes" if column.required else "không / no",
                column.help_vi,
                column.help_en,
                column.example,
            )
            for index, value in enumerate(values, 1):
                ws.cell(row, index, value).data_type = "s"
            row += 1
    for index, width in enumerate((22, 16, 20, 14, 60, 60, 20), 1):
        ws.column_dimensions[get_column_letter(index)].width = width
