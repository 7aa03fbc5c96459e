"""A district's registry as an import file: 1 unit, 8 fields, 40 counters, 40 officers, 40 devices
and a month's rota where two officers share each counter on alternate days. The import tests, the
end-to-end test and bench/registry_import.py build their files here."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook

from server.registry.importing.sheets import SHEETS

Rows = dict[str, list[dict[str, Any]]]
UNIT = "DH"
FIRST_DAY = date(2026, 12, 1)
LAST_DAY = date(2026, 12, 31)


def counter_id(i: int) -> str:
    return f"DH-Q{i:02d}"


def officer_id(i: int) -> str:
    return f"CB-{i:04d}"


def device_id(i: int) -> str:
    return f"dev-dh-q{i:02d}"


def registry_rows(counters: int = 40, fields: int = 8) -> Rows:
    """Counter i is served by officer i on the month's odd days and officer i+1 (the last
    counter: officer 1) on its even days, so every officer works every day, at two counters."""
    field_ids = [f"lv-{j}" for j in range(1, fields + 1)]
    rota = []
    for i in range(1, counters + 1):
        for shift, officer in enumerate((i, i % counters + 1)):
            rota.append(
                {
                    "counter_id": counter_id(i),
                    "officer_id": officer_id(officer),
                    "from": FIRST_DAY + timedelta(days=shift),
                    "to": LAST_DAY,
                    "days": "",
                    "every": 2,
                    "start": "07:30",
                    "end": "17:00",
                }
            )
    return {
        "units": [
            {"id": UNIT, "name": "Phường Diên Hồng", "kind": "phường", "province": "Gia Lai"}
        ],
        "fields": [{"id": f, "name": f"Lĩnh vực {f}"} for f in field_ids],
        "counters": [
            {
                "id": counter_id(i),
                "name": f"Quầy {i}",
                "unit_id": UNIT,
                "field_ids": "; ".join(field_ids[(i - 1) % fields : (i - 1) % fields + 2]),
            }
            for i in range(1, counters + 1)
        ],
        "officers": [
            {
                "id": officer_id(i),
                "name": f"Cán bộ số {i}",
                "unit_id": UNIT,
                "title": "Công chức",
                "active": "có",
            }
            for i in range(1, counters + 1)
        ],
        "devices": [
            {"id": device_id(i), "counter_id": counter_id(i)} for i in range(1, counters + 1)
        ],
        "rota": rota,
    }


def header_vi(sheet_id: str, column_id: str) -> str:
    """The column's Vietnamese header, as the template writes it (its id if it has none)."""
    column = SHEETS[sheet_id].column(column_id)
    return column.header_vi if column is not None else column_id


def workbook(rows: Rows) -> Workbook:
    """As the template lays a sheet out: Vietnamese headers, column ids, then the data."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for sheet_id, sheet_rows in rows.items():
        ws = book.create_sheet(sheet_id)
        columns = list(sheet_rows[0]) if sheet_rows else list(SHEETS[sheet_id].column_ids)
        ws.append([header_vi(sheet_id, c) for c in columns])
        ws.append(columns)
        for row in sheet_rows:
            ws.append([row.get(c) for c in columns])
    return book


def xlsx_bytes(rows: Rows) -> bytes:
    return book_bytes(workbook(rows))


def book_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_zip_bytes(rows: Rows, *, bom: bool = True, vietnamese_header: bool = True) -> bytes:
    """One `<sheet>.csv` per sheet, UTF-8 (with a BOM, as spreadsheets save it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for sheet_id, sheet_rows in rows.items():
            text = io.StringIO()
            writer = csv.writer(text)
            columns = list(sheet_rows[0])
            if vietnamese_header:
                writer.writerow([header_vi(sheet_id, c) for c in columns])
            writer.writerow(columns)
            for row in sheet_rows:
                writer.writerow(["" if row[c] is None else row[c] for c in columns])
            body = text.getvalue().encode("utf-8")
            archive.writestr(f"{sheet_id}.csv", (b"\xef\xbb\xbf" if bom else b"") + body)
    return out.getvalue()
