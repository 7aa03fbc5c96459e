"""CSV and XLSX exports: read back, every number equals the API's JSON for the same query."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from server.reporting import exports
from server.reporting.scoring import NOT_ENOUGH_DATA_VI
from server.storage import flags
from server.storage.models import AuditEvent, User
from tests.server.report_data import login, report_app

Row = dict[str, Any]

# The English header of each figure of a JSON row, and how the test reads it from that row.
FIGURES: dict[str, tuple[str, Callable[[Row], Any]]] = {
    "ratings": ("Ratings", lambda r: r["ratings"]),
    "flagged": ("Flagged as misuse", lambda r: r["flagged"]),
    "satisfied": ("Satisfied ratings", lambda r: r["satisfied"]),
    "satisfied_pct": ("Satisfied %", lambda r: r["satisfied_pct"]),
    "wilson_low": ("Wilson 95 % lower bound %", lambda r: r["wilson_low"]),
    "wilson_high": ("Wilson 95 % upper bound %", lambda r: r["wilson_high"]),
    "unsatisfied_pct": ("Dissatisfied %", lambda r: r["unsatisfied_pct"]),
    "happy_index": ("Happy index (0–100)", lambda r: r["happy_index"]),
    "mean_score": ("Mean score", lambda r: r["mean_score"]),
    "rated_services": ("Rated services", lambda r: r["rated_services"]),
    "announced": ("Services announced", lambda r: r["announced"]),
    "response_rate": ("Response rate %", lambda r: r["response_rate"]),
    "previous_ratings": ("Ratings, previous period", lambda r: r["previous_ratings"]),
    "previous_satisfied_pct": (
        "Satisfied %, previous period",
        lambda r: r["previous_satisfied_pct"],
    ),
    "change_satisfied_pct": ("Change in satisfied % (points)", lambda r: r["change_satisfied_pct"]),
    "previous_happy_index": ("Happy index, previous period", lambda r: r["previous_happy_index"]),
    "change_happy_index": ("Change in happy index", lambda r: r["change_happy_index"]),
    "rank": (
        "Rank (by Wilson lower bound)",
        lambda r: None if "ranked" not in r else r["rank"] if r["ranked"] else NOT_ENOUGH_DATA_VI,
    ),
    "level_1": ("Dissatisfied (vn4, level 1)", lambda r: r["counts"]["vn4"]["1"]),
    "level_4": ("Very satisfied (vn4, level 4)", lambda r: r["counts"]["vn4"]["4"]),
    "wait_time": ("Reason: Long wait %", lambda r: r["reasons"].get("wait_time")),
    "attitude": ("Reason: Poor attitude %", lambda r: r["reasons"].get("attitude")),
}
# Every flag has its column, 0 where no rating carried it.
FIGURES.update(
    {
        f"flag:{flag.name}": (
            f"Flag: {flag.label_en} ({flag.name})",
            lambda r, name=flag.name: r["flags"].get(name, 0),  # type: ignore[misc]
        )
        for flag in flags.FLAGS
    }
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(report_app(tmp_path_factory.mktemp("exports"))) as c:
        yield c


def _get(client: TestClient, query: str, fmt: str) -> Any:
    r = client.get(f"{query}&format={fmt}", headers=login(client, "hr"))
    assert r.status_code == 200, r.text
    return r


def _csv_value(text: str, like: Any) -> Any:
    """A CSV cell read back as the kind of the XLSX cell beside it (a spreadsheet has one kind
    of number: 90.0 is read back as 90, equal to the JSON's 90.0)."""
    if text == "":
        return None
    return float(text) if isinstance(like, int | float) else text


def _kind(value: Any) -> type:
    return float if isinstance(value, int | float) else type(value)


def _read_csv(data: bytes) -> tuple[list[str], list[str], list[list[str]]]:
    assert data.startswith("\ufeff".encode())  # Excel reads the Vietnamese right
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    vi, en, *rows = list(csv.reader(io.StringIO(text)))
    return vi, en, rows


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/reports/officers?period=2026-10",
        "/api/v1/reports/officers?period=2026-10&include_flagged=true",
        "/api/v1/reports/fields?period=2026-Q4",
    ],
)
def test_csv_and_xlsx_hold_exactly_the_json_numbers(client: TestClient, query: str) -> None:
    body = _get(client, query, "json").json()
    rows = [*body["rows" if "fields" in query else "officers"], body["total"]]

    vi, en, csv_rows = _read_csv(_get(client, query, "csv").content)
    book = load_workbook(io.BytesIO(_get(client, query, "xlsx").content))
    sheet = book["Báo cáo"]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == vi and cells[1] == en
    xlsx_rows = cells[2:]
    assert len(csv_rows) == len(xlsx_rows) == len(rows)
    assert sheet.freeze_panes == "C3"

    for row, csv_row, xlsx_row in zip(rows, csv_rows, xlsx_rows, strict=True):
        read = [_csv_value(t, x) for t, x in zip(csv_row, xlsx_row, strict=True)]
        assert read == xlsx_row  # CSV and XLSX agree cell by cell, types included
        for key, (header, value) in FIGURES.items():
            if key in ("level_1", "wait_time", "attitude") and "fields" in query:
                continue
            got = xlsx_row[en.index(header)]
            assert got == value(row), (key, row.get("name"))
            assert _kind(got) is _kind(value(row)), key
    keys = {k for k, v in body["total"].items() if isinstance(v, int | float | None)}
    assert keys <= set(FIGURES), "a figure of the JSON has no column in the files"
    assert xlsx_rows[-1][1] == "Tổng cộng"


def test_the_files_say_which_run_made_them_and_their_runs_are_audited(client: TestClient) -> None:
    query = "/api/v1/reports/officers?period=2026-10"
    body = _get(client, query, "json").json()
    xlsx = _get(client, query, "xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = xlsx.headers["content-disposition"]
    assert disposition == 'attachment; filename="hailong-officer-2026-10.xlsx"'
    info = {
        en: value
        for _, en, value in load_workbook(io.BytesIO(xlsx.content))["Thông tin"].iter_rows(
            min_row=2, values_only=True
        )
    }
    assert info["Policy version"] == "2026-12-vi-du-3"
    assert info["Generated by"] == "hr"
    assert info["Flagged ratings included"] == "không / no"
    assert info["Content SHA-256"] == body["sha256"]  # the same figures as the JSON
    csv_response = _get(client, query, "csv")
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"

    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        exported = col(AuditEvent.action).startswith("export.")
        newest = select(AuditEvent).where(exported).order_by(col(AuditEvent.id).desc()).limit(2)
        csv_run, xlsx_run = session.exec(newest).all()
    assert xlsx_run.id == info["Run id (audit log)"]
    assert (xlsx_run.action, csv_run.action) == ("export.officer.xlsx", "export.officer.csv")
    for event in (xlsx_run, csv_run):
        assert event.actor == "hr" and event.client == "testclient"
        detail = json.loads(event.detail)
        assert detail["sha256"] == body["sha256"]
        assert detail["policy_version"] == "2026-12-vi-du-3"


def _info(xlsx: bytes) -> list[tuple[str, str, Any]]:
    sheet = load_workbook(io.BytesIO(xlsx))["Thông tin"]
    first, *rows = sheet.iter_rows(values_only=True)
    assert first == ("Thông tin", "Information", "Giá trị / Value")  # Vietnamese first
    return [(vi, en, value) for vi, en, value in rows]


def test_the_info_sheet_names_the_report_in_vietnamese_first(client: TestClient) -> None:
    """What the report lists and what it was held to, by the registry's names, as an HR office
    reads them; dates as Vietnamese write them."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        admin = session.exec(select(User).where(User.username == "admin")).one()
        admin.full_name = "Trần Thị Hoa"
        session.add(admin)
        session.commit()
    query = "/api/v1/reports/officers?period=2026-10&unit_id=DH&field_id=tu-phap&format=xlsx"
    xlsx = client.get(query, headers=login(client, "admin"))
    assert xlsx.status_code == 200, xlsx.text
    info = {vi: value for vi, _, value in _info(xlsx.content)}
    assert info["Người lập"] == "Trần Thị Hoa (admin)"
    assert info["Phạm vi"] == "Cán bộ / Officers"
    assert info["Đơn vị"] == "Phường Diên Hồng (DH)"
    assert info["Lĩnh vực"] == "Tư pháp (tu-phap)"
    assert info["Cán bộ"] == "tất cả / all"
    assert (info["Từ ngày"], info["Đến hết ngày"]) == ("01/10/2026", "31/10/2026")
    assert info["Kỳ so sánh"] == "Tháng 9/2026 (2026-09)"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", info["Thời điểm lập (giờ Việt Nam)"])
    units = "/api/v1/reports/units?period=2026-10"
    unit_info = {vi: value for vi, _, value in _info(_get(client, units, "xlsx").content)}
    assert (unit_info["Phạm vi"], unit_info["Đơn vị"]) == ("Đơn vị / Units", "tất cả / all")
    assert unit_info["Người lập"] == "hr"  # no full name in the registry: the login


# Words that read as translations or statistics to an HR office, not as administrative Vietnamese.
JARGON = ("wilson", "cận dưới", "cận trên", "ktc", "gắn cờ", "cờ:", "lượt dịch vụ", "phản hồi")


def test_the_vietnamese_headers_and_labels_carry_no_jargon(client: TestClient) -> None:
    query = "/api/v1/reports/officers?period=2026-10"
    vi, _, _ = _read_csv(_get(client, query, "csv").content)
    labels = [label for label, _, _ in _info(_get(client, query, "xlsx").content)]
    for text in [*vi, *labels]:
        assert not any(word in text.lower() for word in JARGON), text
    assert "Gợi ý xếp loại" in vi and "Căn cứ gợi ý xếp loại" in vi
    assert exports.RANK_VI in vi


def test_csv_numbers_are_plain_decimals_with_a_dot() -> None:
    body = {
        "scope": "unit",
        "rows": [
            {
                "unit_id": "DH",
                "name": "Phường Diên Hồng",
                "ratings": 3,
                "counts": {"vn3": {"1": 1, "2": 1, "3": 1}},
                "satisfied_pct": 66.67,
                "wilson_low": 20.77,
                "reasons": {"wait_time": 100.0},
                "flags": {"clock_corrected": 2, "out_of_order": 1},
                "ranked": False,
                "rank": None,
            }
        ],
        "total": {
            "ratings": 3,
            "counts": {"vn3": {"1": 1, "2": 1, "3": 1}},
            "reasons": {},
            "flags": {"clock_corrected": 2, "out_of_order": 1},
        },
    }
    vi, en, (row, total) = _read_csv(exports.csv_bytes(body))
    assert row[vi.index("Tỷ lệ hài lòng (%)")] == "66.67"
    assert row[en.index("Wilson 95 % lower bound %")] == "20.77"
    assert row[en.index("Very satisfied (vn3, level 3)")] == "1"
    assert row[en.index("Rank (by Wilson lower bound)")] == NOT_ENOUGH_DATA_VI
    assert row[en.index("Reason: Long wait %")] == "100.0"
    assert total[vi.index("Tên đơn vị")] == "Tổng cộng"
    assert total[en.index("Rank (by Wilson lower bound)")] == ""
    assert "Dissatisfied (vn4, level 1)" not in en  # only the scales the report has
    # a column per flag, in server/storage/flags.py's order, right after the misuse count
    at = en.index("Flagged as misuse") + 1
    assert en[at : at + len(flags.FLAGS)] == [f"Flag: {f.label_en} ({f.name})" for f in flags.FLAGS]
    assert vi[en.index("Flag: Clock corrected (clock_corrected)")] == (
        "Dấu hiệu bất thường: Đã chỉnh giờ"
    )
    assert row[en.index("Flag: Clock corrected (clock_corrected)")] == "2"
    assert row[en.index("Flag: Out of order (out_of_order)")] == "1"
    assert row[en.index("Flag: Sequence number reused (seq_reused)")] == "0"
    assert total[en.index("Flag: Out of order (out_of_order)")] == "1"


EVIL = '=HYPERLINK("http://evil","x")'


def test_text_that_a_spreadsheet_would_run_stays_text(tmp_path: Any) -> None:
    """An officer named like a formula, through the real API: a quoted cell in the CSV, a text
    cell in the XLSX; numbers stay numbers (negative ones too: see the next test)."""
    with TestClient(report_app(tmp_path)) as client:
        admin = login(client, "admin")
        names = {"CB-A": EVIL, "CB-B": "@SUM(1+1)", "CB-C": "-1+1"}
        for officer_id, name in names.items():
            r = client.patch(f"/api/v1/officers/{officer_id}", json={"name": name}, headers=admin)
            assert r.status_code == 200, r.text
        query = "/api/v1/reports/officers?period=2026-10"
        body = _get(client, query, "json").json()
        _, en, csv_rows = _read_csv(_get(client, query, "csv").content)
        book = load_workbook(io.BytesIO(_get(client, query, "xlsx").content))
        raw = _get(client, query, "xlsx").content

    name_at, change_at = en.index("Name"), en.index("Change in happy index")
    by_id = {row[0]: row for row in csv_rows}
    for officer_id, name in names.items():
        assert by_id[officer_id][name_at] == "'" + name
    changes = {r["officer_id"]: r["change_happy_index"] for r in body["officers"]}
    assert changes["CB-A"] == 11.11
    assert by_id["CB-A"][change_at] == "11.11", "a number, unquoted"

    sheet = book["Báo cáo"]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    for officer_id, name in names.items():
        cell = cells[officer_id][name_at]
        assert (cell.value, cell.data_type) == (name, "s")
    assert (cells["CB-A"][change_at].value, cells["CB-A"][change_at].data_type) == (11.11, "n")
    with zipfile.ZipFile(io.BytesIO(raw)) as files:
        for part in files.namelist():
            if part.startswith("xl/worksheets/"):
                assert b"<f>" not in files.read(part), f"a formula in {part}"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_quoted_in_csv_and_plain_text_is_not(start: str) -> None:
    assert exports._text(f"{start}1+1") == f"'{start}1+1"
    assert exports._text("Nguyễn Văn A") == "Nguyễn Văn A"
    assert exports._text(-2.5) == "-2.5"
