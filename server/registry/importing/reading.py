"""An upload as rows per sheet: an XLSX workbook whose sheets are named by the sheet ids, or a
zip of `units.csv`, `counters.csv` … (UTF-8, with or without a BOM).

A sheet's columns are found by their ids, in row 2 under the Vietnamese headers of row 1 (as the
template has them) or in row 1 alone, so their order does not matter and extra columns of
notes without an id are left alone. Rows with nothing in them are skipped.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook

from server.registry.importing import sheets
from server.registry.importing.cells import text
from server.registry.importing.report import FileTooLarge, RowError, UnreadableFile

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024  # what the zip (an XLSX is one too) may unpack to
_ZIP_MAGIC = b"PK\x03\x04"
# What zipfile raises for a damaged, encrypted or oddly compressed archive or member.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


@dataclass
class Row:
    number: int  # the spreadsheet's row (the CSV file's record) number, from 1
    values: dict[str, Any]  # by column id; only the columns the sheet has


@dataclass
class SheetRows:
    sheet: sheets.Sheet
    id_row: int
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


@dataclass
class Upload:
    sheets: dict[str, SheetRows]
    errors: list[RowError]

    def row_count(self) -> int:
        return sum(len(s.rows) for s in self.sheets.values())


def too_large(size: int) -> FileTooLarge:
    mb = MAX_BYTES // (1024 * 1024)
    return FileTooLarge(
        f"tệp quá lớn ({size} byte); tối đa {mb} MB: chia thành nhiều tệp",
        f"the file is too large ({size} bytes); at most {mb} MB: split it into several files",
    )


def _not_readable(why_vi: str, why_en: str) -> UnreadableFile:
    return UnreadableFile(
        f"{why_vi}; hãy tải lên tệp XLSX theo mẫu hoặc tệp zip gồm units.csv, counters.csv …",
        f"{why_en}; upload an XLSX workbook like the template or a zip of units.csv, "
        "counters.csv …",
    )


def read_upload(content: bytes) -> Upload:
    """Raises `UnreadableFile` (or `FileTooLarge`) for a file that is not an import at all;
    what is wrong inside a readable file is in `Upload.errors`."""
    if len(content) > MAX_BYTES:
        raise too_large(len(content))
    if not content.startswith(_ZIP_MAGIC):
        raise _not_readable("tệp không phải XLSX hay zip", "the file is neither XLSX nor zip")
    archive = open_zip(content)
    if archive is None:
        raise _not_readable("tệp zip bị hỏng", "the zip file is damaged")
    if is_workbook(archive):
        found = workbook_rows(content)
        if found is None:
            raise _not_readable("không mở được tệp XLSX", "the XLSX workbook cannot be opened")
        return _upload(found)
    return _read_csv_zip(archive)


def is_zip(content: bytes) -> bool:
    return content.startswith(_ZIP_MAGIC)


def open_zip(content: bytes) -> zipfile.ZipFile | None:
    """The archive (an XLSX is one too), None when damaged; raises `FileTooLarge` when it
    would unpack to more than MAX_UNPACKED."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except _DAMAGED:
        return None
    if unpacked > MAX_UNPACKED:
        raise too_large(unpacked)
    return archive


def is_workbook(archive: zipfile.ZipFile) -> bool:
    return "xl/workbook.xml" in archive.namelist()


def workbook_rows(content: bytes) -> dict[str, list[tuple[int, Sequence[Any]]]] | None:
    """Each sheet's non-empty rows by the sheet's title, with their row numbers; None when
    openpyxl cannot open the workbook."""
    found: dict[str, list[tuple[int, Sequence[Any]]]] = {}
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            for ws in book.worksheets:
                rows = enumerate(ws.iter_rows(values_only=True), 1)
                found[ws.title] = [(n, r) for n, r in rows if any_(r)]
        finally:
            book.close()
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        return None
    return found


def csv_rows(body: str) -> list[tuple[int, Sequence[Any]]]:
    """A CSV file's non-empty records with their numbers (comma or semicolon separated)."""
    records = csv.reader(io.StringIO(body, newline=""), dialect=_dialect(body))
    return [(n, r) for n, r in enumerate(records, 1) if any_(r)]


def _read_csv_zip(archive: zipfile.ZipFile) -> Upload:
    found: dict[str, list[tuple[int, Sequence[Any]]]] = {}
    errors: list[RowError] = []
    for info in archive.infolist():
        name = info.filename.rsplit("/", 1)[-1]
        if info.is_dir() or name.startswith(".") or "__MACOSX" in info.filename:
            continue
        if not name.lower().endswith(".csv"):
            continue
        sheet_name = name[: -len(".csv")]
        try:
            raw = archive.read(info)
        except _DAMAGED:
            raise _not_readable("tệp zip bị hỏng", "the zip file is damaged") from None
        try:
            body = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            errors.append(
                RowError(
                    sheet=sheet_name,
                    row=0,
                    column="",
                    message_vi=f"{name} không phải UTF-8: lưu lại dưới dạng CSV UTF-8",
                    message_en=f"{name} is not UTF-8: save it again as CSV UTF-8",
                )
            )
            continue
        found[sheet_name] = csv_rows(body)
    if not found and not errors:
        raise _not_readable("tệp zip không có tệp .csv nào", "the zip holds no .csv file")
    upload = _upload(found)
    upload.errors[:0] = errors
    return upload


def _dialect(body: str) -> type[csv.Dialect]:
    """Comma, or the semicolon that spreadsheets save in locales with a decimal comma."""
    try:
        return csv.Sniffer().sniff(body[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def any_(cells: Iterable[Any]) -> bool:
    return any(text(c) is not None for c in cells)


def _upload(found: dict[str, list[tuple[int, Sequence[Any]]]]) -> Upload:
    upload = Upload({}, [])
    for name, rows in found.items():
        sheet_id = name.strip().lower()
        if sheet_id in sheets.IGNORED_SHEETS or not rows:
            continue
        sheet = sheets.SHEETS.get(sheet_id)
        if sheet is None:
            upload.errors.append(_sheet_error(name, 0, "", *_unknown_sheet(name)))
            continue
        if sheet.id in upload.sheets:
            upload.errors.append(
                _sheet_error(name, 0, "", "sheet này có hai lần", "this sheet is given twice")
            )
            continue
        read = sheet_rows(sheet, rows, upload.errors)
        if read is not None:
            upload.sheets[sheet.id] = read
    return upload


def _unknown_sheet(name: str) -> tuple[str, str]:
    known = ", ".join(sheets.SHEETS)
    return (
        f"sheet {name!r} không phải sheet nhập: dùng {known} (xóa hoặc đổi tên sheet này)",
        f"sheet {name!r} is not one the import reads: use {known} (delete or rename it)",
    )


def _sheet_error(sheet: str, row: int, column: str, vi: str, en: str) -> RowError:
    return RowError(sheet=sheet, row=row, column=column, message_vi=vi, message_en=en)


def sheet_rows(
    sheet: sheets.Sheet, rows: list[tuple[int, Sequence[Any]]], errors: list[RowError]
) -> SheetRows | None:
    """The column ids are in the first of the first two rows that names any; the data below."""
    header = next(
        (
            i
            for i, (_, cells) in enumerate(rows[:2])
            if {text(c) for c in cells} & set(sheet.column_ids)
        ),
        None,
    )
    if header is None:
        errors.append(
            _sheet_error(
                sheet.id,
                2,
                "",
                "thiếu hàng mã cột (hàng 2 của mẫu, ví dụ " + ", ".join(sheet.column_ids) + ")",
                "the row of column ids is missing (row 2 of the template, e.g. "
                + ", ".join(sheet.column_ids)
                + ")",
            )
        )
        return None
    id_row, cells = rows[header]
    positions: dict[str, int] = {}
    bad = False
    for position, cell in enumerate(cells):
        column_id = text(cell)
        if column_id is None:
            continue
        if sheet.column(column_id) is None:
            bad = True
            errors.append(
                _sheet_error(
                    sheet.id,
                    id_row,
                    column_id,
                    f"cột {column_id!r} không có trong sheet {sheet.id}: dùng "
                    + ", ".join(sheet.column_ids),
                    f"no column {column_id!r} in sheet {sheet.id}: use "
                    + ", ".join(sheet.column_ids),
                )
            )
        elif column_id in positions:
            bad = True
            errors.append(
                _sheet_error(
                    sheet.id, id_row, column_id, "cột này có hai lần", "column given twice"
                )
            )
        else:
            positions[column_id] = position
    for column in sheet.columns:
        if column.required and column.id not in positions:
            bad = True
            errors.append(
                _sheet_error(
                    sheet.id,
                    id_row,
                    column.id,
                    f"thiếu cột bắt buộc {column.id} ({column.header_vi})",
                    f"the required column {column.id} is missing",
                )
            )
    if bad:
        return None
    read = SheetRows(sheet, id_row, list(positions))
    for number, cells in rows[header + 1 :]:
        values = {c: cells[p] if p < len(cells) else None for c, p in positions.items()}
        if any_(values.values()):
            read.rows.append(Row(number, values))
    return read
