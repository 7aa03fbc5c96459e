"""The import's reading of files and cells, without a server: what an administrator's
spreadsheet may hold, and what is refused with which words."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import Session

from devtools.import_workbook import book_bytes, registry_rows, workbook, xlsx_bytes
from server.access.roles import Access
from server.registry.importing import FileTooLarge, UnreadableFile, cells, import_registry
from server.registry.importing.reading import MAX_BYTES, read_upload
from tests.server.web.test_api import api_app


def csv_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 12, 1, 0, 0), date(2026, 12, 1)),
        (date(2026, 12, 1), date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("1/12/2026", date(2026, 12, 1)),
        (None, None),
        ("  ", None),
    ],
)
def test_days_from_date_cells_and_text(value: object, expected: date | None) -> None:
    assert cells.day(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (time(7, 30), "07:30"),
        (datetime(1899, 12, 30, 17, 0), "17:00"),
        (datetime(1899, 12, 31, 0, 0), "24:00"),  # Excel's 24:00
        (0.3125, "07:30"),
        ("7:30", "07:30"),
        ("07:30:00", "07:30"),
        ("24:00", "24:00"),
        (None, None),
    ],
)
def test_times_from_time_cells_and_text(value: object, expected: str | None) -> None:
    assert cells.time_of_day(value) == expected


@pytest.mark.parametrize(
    ("reader", "value", "vi", "en"),
    [
        (cells.day, "31/02/2026", "không phải ngày", "is not a date"),
        (cells.day, "mai", "không phải ngày", "is not a date"),
        (cells.time_of_day, "7h30", "không phải giờ", "is not a time of day"),
        (cells.time_of_day, "25:00", "không phải giờ", "is not a time of day"),
        (cells.yes_no, "maybe", "không phải có/không", "is not yes/no"),
        (cells.kind, "huyện", "loại 'huyện' không có", "unknown kind"),
        (cells.code, "Quầy 1", "không hợp lệ", "is not a valid id"),
        (cells.number, "0", "từ 1 đến 52", "from 1 to 52"),
        (cells.weekdays, "T8", "thứ không hợp lệ", "unknown weekday"),
    ],
)
def test_a_bad_cell_says_why_in_both_languages(
    reader: object, value: str, vi: str, en: str
) -> None:
    with pytest.raises(cells.CellError) as caught:
        reader(value)  # type: ignore[operator]
    assert vi in caught.value.message_vi
    assert en in caught.value.message_en


def test_cells_read_as_an_administrator_writes_them() -> None:
    assert cells.yes_no("Không") is False and cells.yes_no("có") is True
    assert cells.yes_no(None) is None and cells.yes_no(0) is False
    assert cells.kind("Phường") == "ward" and cells.kind("xã") == "commune"
    assert cells.codes("tu-phap; dat-dai,tu-phap") == ["tu-phap", "dat-dai"]
    assert cells.code(42.0) == "42"
    assert cells.weekdays("T2 t4 CN") == "mon,wed,sun"
    assert cells.number(2.0) == 2


def test_columns_are_read_by_their_ids_in_any_order() -> None:
    body = "name;kind;id\nPhường A;phường;A\n".encode()
    upload = read_upload(csv_zip({"units.csv": body}))
    assert upload.errors == []
    [row] = upload.sheets["units"].rows
    assert (row.number, row.values) == (2, {"name": "Phường A", "kind": "phường", "id": "A"})


def test_unknown_and_missing_columns_and_sheets_are_errors() -> None:
    upload = read_upload(
        csv_zip(
            {
                "units.csv": b"id,name,kind,colour\nA,x,xa,red\n",
                "counters.csv": b"\xef\xbb\xbfid,name\nQ1,x\n",
                "staff.csv": b"id\nx\n",
                "officers.csv": "id,name,unit_id\n".encode("utf-16"),
            }
        )
    )
    found = {(e.sheet, e.row, e.column): e.message_en for e in upload.errors}
    assert "no column 'colour'" in found[("units", 1, "colour")]
    assert "required column unit_id is missing" in found[("counters", 1, "unit_id")]
    assert "is not one the import reads" in found[("staff", 0, "")]
    assert "is not UTF-8" in found[("officers", 0, "")]
    assert upload.sheets == {}


def test_files_that_are_no_import_are_refused_with_a_reason() -> None:
    with pytest.raises(UnreadableFile, match="neither XLSX nor zip"):
        read_upload(b"id,name\n")
    with pytest.raises(UnreadableFile, match="damaged"):
        read_upload(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFile, match="no .csv file"):
        read_upload(csv_zip({"readme.txt": b"hi"}))
    with pytest.raises(FileTooLarge, match="too large"):
        read_upload(b"PK\x03\x04" + bytes(MAX_BYTES))


def test_blank_rows_in_a_workbook_do_not_become_rows() -> None:
    book = workbook(registry_rows(counters=1))
    book["units"].append([None, None, None, None])
    book["units"].append(["", " ", None, None])
    upload = read_upload(book_bytes(book))
    assert len(upload.sheets["units"].rows) == 1


def test_progress_counts_rows_checked_and_written_and_broker_accounts_made(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    seen: list[tuple[int, int]] = []
    with Session(app.state.engine) as session:
        report = import_registry(
            session,
            xlsx_bytes(registry_rows(counters=2)),
            "dang-ky.xlsx",
            access=Access("admin", "admin"),
            put_accounts=lambda passwords: None,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert report.written
    rows, new_devices = 1 + 8 + 2 + 2 + 2 + 4, 2
    steps = 2 * rows + new_devices  # checked, written, and each new device's broker account
    assert seen[-1] == (steps, steps)
    assert [done for done, _ in seen[:-1]] == list(range(1, steps + 1))


def test_a_damaged_workbook_is_refused_not_a_server_error() -> None:
    content = bytearray(xlsx_bytes(registry_rows(counters=1)))
    damaged = bytes(content[: len(content) // 2])
    with pytest.raises(UnreadableFile):
        read_upload(damaged)
    with pytest.raises(UnreadableFile, match="cannot be opened"):
        read_upload(csv_zip({"xl/workbook.xml": b"<not a workbook"}))
