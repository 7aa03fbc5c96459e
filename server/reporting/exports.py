"""A report's CSV and XLSX files, made from the very JSON body the API answers.

Pure functions from that body to bytes: every number in a file is a value of the JSON, written
so that it reads back exactly (CSV: plain decimals with a dot; XLSX: numeric cells), so the HR
office's spreadsheet and the API can never disagree. Headers are Vietnamese in the words an
administrative office uses, with English in the second header row; the XLSX info sheet names the
unit, officer or field by the registry's names (`names_of`), which the body holds only as ids.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from hailong.protocol import SCALES
from server.reporting.channel_labels import CHANNELS
from server.reporting.monthly import maker
from server.reporting.report_json import Scope, rows_key
from server.reporting.reports import TOTAL_VI
from server.reporting.scoring import NOT_ENOUGH_DATA_VI
from server.storage import flags
from server.storage.models import Officer, ServiceField, Unit
from server.storage.reasons import REASONS
from server.timeutil import VN_TZ

Value = str | int | float | None
BOM = "\ufeff"  # without it, Excel reads UTF-8 as the local code page and garbles Vietnamese

_ID_HEADERS: dict[str, tuple[str, str, str, str]] = {
    "officer": ("officer_id", "Mã cán bộ", "Officer id", "Họ và tên"),
    "counter": ("counter_id", "Mã quầy", "Counter id", "Tên quầy"),
    "field": ("field_id", "Mã lĩnh vực", "Field id", "Lĩnh vực"),
    "unit": ("unit_id", "Mã đơn vị", "Unit id", "Tên đơn vị"),
}
_NAME_EN = {"officer": "Name", "counter": "Counter", "field": "Field", "unit": "Unit"}
SCOPE_WORDS: dict[str, tuple[str, str]] = {  # what a report lists, as its info sheet says
    "officer": ("Cán bộ", "Officers"),
    "counter": ("Quầy", "Counters"),
    "field": ("Lĩnh vực", "Fields"),
    "unit": ("Đơn vị", "Units"),
}
RANK_VI = "Thứ hạng (xếp theo tỷ lệ hài lòng chắc chắn đạt được)"
ALL = "tất cả / all"

# (JSON key, Vietnamese header, English header) of the figures every row has, in file order.
_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("satisfied", "Số đánh giá hài lòng", "Satisfied ratings"),
    ("satisfied_pct", "Tỷ lệ hài lòng (%)", "Satisfied %"),
    ("wilson_low", "Tỷ lệ hài lòng chắc chắn trong khoảng: từ (%)", "Wilson 95 % lower bound %"),
    ("wilson_high", "Tỷ lệ hài lòng chắc chắn trong khoảng: đến (%)", "Wilson 95 % upper bound %"),
    ("unsatisfied_pct", "Tỷ lệ không hài lòng (%)", "Dissatisfied %"),
    ("happy_index", "Chỉ số hài lòng (0–100)", "Happy index (0–100)"),
    ("mean_score", "Điểm trung bình", "Mean score"),
    ("flagged", "Số đánh giá có dấu hiệu bất thường", "Flagged as misuse"),
    ("rated_services", "Số lượt phục vụ được đánh giá", "Rated services"),
    ("announced", "Số lượt phục vụ theo hệ thống xếp hàng", "Services announced"),
    ("response_rate", "Tỷ lệ người dân tham gia đánh giá (%)", "Response rate %"),
    ("previous_ratings", "Số đánh giá kỳ trước", "Ratings, previous period"),
    ("previous_satisfied_pct", "Tỷ lệ hài lòng kỳ trước (%)", "Satisfied %, previous period"),
    (
        "change_satisfied_pct",
        "Tăng, giảm tỷ lệ hài lòng so với kỳ trước (điểm %)",
        "Change in satisfied % (points)",
    ),
    ("previous_happy_index", "Chỉ số hài lòng kỳ trước", "Happy index, previous period"),
    ("change_happy_index", "Tăng, giảm chỉ số hài lòng so với kỳ trước", "Change in happy index"),
)


@dataclass(frozen=True)
class Column:
    vi: str
    en: str
    value: Callable[[Mapping[str, Any]], Value]


def _key(name: str) -> Callable[[Mapping[str, Any]], Value]:
    return lambda row: row.get(name)


def _count(scale: str, level: str) -> Callable[[Mapping[str, Any]], Value]:
    # A row hidden from a viewer (server/reporting/privacy.py) has no counts, not zeros.
    return lambda row: None if row.get("suppressed") else row["counts"].get(scale, {}).get(level, 0)


def _flag(name: str) -> Callable[[Mapping[str, Any]], Value]:
    return lambda row: None if row.get("suppressed") else row["flags"].get(name, 0)


def flag_columns() -> list[Column]:
    """A count per flag of server/storage/flags.py, every one of them, zeros included: a spreadsheet
    compared month to month needs the same columns, and a 0 says the flag was looked for."""
    return [
        Column(
            f"Dấu hiệu bất thường: {flag.label_vi}",
            f"Flag: {flag.label_en} ({flag.name})",
            _flag(flag.name),
        )
        for flag in flags.FLAGS
    ]


def _channel(name: str) -> Callable[[Mapping[str, Any]], Value]:
    # Empty when hidden from a viewer, or in a body made before rows carried channels.
    return lambda row: None if "channels" not in row else row["channels"].get(name)


def channel_columns() -> list[Column]:
    """The counted ratings per channel, every input, zeros included: they add up to the
    ratings column."""
    return [
        Column(
            f"Số đánh giá qua: {c.label_vi}",
            f"Ratings by channel: {c.label_en} ({c.input})",
            _channel(c.input),
        )
        for c in CHANNELS
    ]


def _reason(code: str) -> Callable[[Mapping[str, Any]], Value]:
    return lambda row: row["reasons"].get(code, 0.0 if row["reasons"] else None)


def _rank(row: Mapping[str, Any]) -> Value:
    if row.get("suppressed"):  # "Ẩn: ít hơn 3 cán bộ", a viewer's group of too few
        return str(row["suppressed_vi"])
    if "ranked" not in row:  # the total
        return None
    return row["rank"] if row["ranked"] else NOT_ENOUGH_DATA_VI


def _classification(part: str) -> Callable[[Mapping[str, Any]], Value]:
    return lambda row: None if not row.get("classification") else row["classification"][part]


def table_rows(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The report's rows, then its total named as such."""
    return [*body[rows_key(body["scope"])], {**body["total"], "name": TOTAL_VI}]


def columns(body: Mapping[str, Any]) -> list[Column]:
    """The file's columns for this report: a count per level of each scale in it, and a share
    per reason given in it (known reasons in their usual order, then any others)."""
    scope: Scope = body["scope"]
    rows = table_rows(body)
    id_key, id_vi, id_en, name_vi = _ID_HEADERS[scope]
    cols = [Column(id_vi, id_en, _key(id_key)), Column(name_vi, _NAME_EN[scope], _key("name"))]
    if scope in ("officer", "counter"):
        cols.append(Column("Mã đơn vị", "Unit id", _key("unit_id")))
    if scope == "officer":
        cols.append(Column("Chức danh", "Title", _key("title")))
    cols.append(Column("Số đánh giá", "Ratings", _key("ratings")))
    cols += channel_columns()
    for code, scale in SCALES.items():
        if any(code in row["counts"] for row in rows):
            for level, (vi, en) in enumerate(zip(scale.labels_vi, scale.labels_en, strict=True)):
                cols.append(
                    Column(
                        f"{vi} (thang {code}, mức {level + 1})",
                        f"{en} ({code}, level {level + 1})",
                        _count(code, str(level + 1)),
                    )
                )
    for key, vi, en in _FIGURES:
        cols.append(Column(vi, en, _key(key)))
        if key == "flagged":
            cols += flag_columns()
    cols.append(Column(RANK_VI, "Rank (by Wilson lower bound)", _rank))
    if scope == "officer":
        cols.append(
            Column("Gợi ý xếp loại", "Classification (suggested)", _classification("label_vi"))
        )
        cols.append(Column("Căn cứ gợi ý xếp loại", "Rule applied", _classification("rule")))
    known = {r.code: r for r in REASONS}
    given = {code for row in rows for code in row["reasons"]}
    for code in [*(c for c in known if c in given), *sorted(given - set(known))]:
        vi = known[code].label_vi if code in known else code
        en = known[code].label_en if code in known else code
        cols.append(Column(f"Lý do chưa hài lòng: {vi} (%)", f"Reason: {en} %", _reason(code)))
    return cols


# A spreadsheet runs a text cell beginning with one of these as a formula (tab and carriage
# return too, after it trims them): an officer named =HYPERLINK(…) must stay a name.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Value) -> str:
    """A cell as CSV text: numbers as Python writes them (shortest exact decimal, a dot), text
    that a spreadsheet would run as a formula behind a single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("a report cell is never a bare boolean")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


def csv_bytes(body: Mapping[str, Any]) -> bytes:
    """UTF-8 with a BOM, a Vietnamese and an English header row, one line per row and the
    total last."""
    cols = columns(body)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.vi for c in cols])
    writer.writerow([c.en for c in cols])
    for row in table_rows(body):
        writer.writerow([_text(c.value(row)) for c in cols])
    return (BOM + out.getvalue()).encode("utf-8")


def _named(filters: Mapping[str, str | None], key: str, names: Mapping[str, str]) -> str:
    """A filter as a person reads it: "Phường Đồng Hới (DHOI)"; none: every one."""
    value = filters[key]
    if value is None:
        return ALL
    return f"{names[key]} ({value})" if key in names else value


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def info_rows(
    body: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[tuple[str, str, Value]]:
    """(Vietnamese, English, value) of what the report is and which run made it. `names` gives
    the unit's, officer's or field's name by the filter's key (see `names_of`)."""
    names = names or {}
    period, previous, filters = body["period"], body["previous"], body["filters"]
    scope_vi, scope_en = SCOPE_WORDS.get(body["scope"], (body["scope"], body["scope"]))
    made = datetime.fromisoformat(body["generated_at"]).astimezone(VN_TZ)
    return [
        ("Kỳ báo cáo", "Period", f"{period['label_vi']} ({period['text']})"),
        ("Từ ngày", "From", _day(period["start"])),
        ("Đến hết ngày", "To (inclusive)", _day(period["end"])),
        ("Kỳ so sánh", "Compared with", f"{previous['label_vi']} ({previous['text']})"),
        ("Phạm vi", "Scope", f"{scope_vi} / {scope_en}"),
        ("Đơn vị", "Unit", _named(filters, "unit_id", names)),
        ("Cán bộ", "Officer", _named(filters, "officer_id", names)),
        ("Lĩnh vực", "Field", _named(filters, "field_id", names)),
        ("Phiên bản chính sách đánh giá", "Policy version", body["policy_version"]),
        ("Tên chính sách đánh giá", "Policy name", body["policy_name"]),
        (
            "Số đánh giá tối thiểu để xếp hạng và gợi ý xếp loại",
            "Minimum ratings to rank",
            body["min_ratings"],
        ),
        (
            "Tính cả đánh giá có dấu hiệu bất thường",
            "Flagged ratings included",
            "có / yes" if body["include_flagged"] else "không / no",
        ),
        ("Mã lần lập (nhật ký)", "Run id (audit log)", body["run_id"]),
        ("Thời điểm lập (giờ Việt Nam)", "Generated at (Vietnam time)", f"{made:%d/%m/%Y %H:%M}"),
        ("Người lập", "Generated by", names.get("generated_by", body["generated_by"])),
        ("Mã kiểm tra nội dung (SHA-256)", "Content SHA-256", body["sha256"]),
    ]


def names_of(session: Session, body: Mapping[str, Any]) -> dict[str, str]:
    """The registry's names of the unit, officer and field a report was held to, by the
    filter's key (unit_id, officer_id, field_id), and of who made it (generated_by): the one
    reading of this module, so the info sheet names them as people do."""
    filters = body["filters"]
    unit, officer, field = (filters.get(k) for k in ("unit_id", "officer_id", "field_id"))
    rows = {
        "unit_id": session.get(Unit, unit) if unit else None,
        "officer_id": session.get(Officer, officer) if officer else None,
        "field_id": session.get(ServiceField, field) if field else None,
    }
    names = {key: row.name for key, row in rows.items() if row is not None}
    return {**names, "generated_by": maker(session, body["generated_by"])}


def _width(texts: Sequence[str]) -> float:
    return min(max(8, *(len(t) for t in texts)) + 2, 48)


def _cell(value: Any) -> Any:
    """Text a spreadsheet cell cannot hold (control characters from an older registry entry)
    is dropped from the cell rather than failing the whole export."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _as_text(sheet: Worksheet) -> None:
    """openpyxl writes a string beginning with `=` as a formula; no cell of a report is one."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def xlsx_bytes(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> bytes:
    """A sheet of rows with numeric cells equal to the JSON's, frozen headers and sized
    columns, and a sheet "Thông tin" saying what the report is and which run made it (`names`:
    see `info_rows`)."""
    cols = columns(body)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "Báo cáo"
    bold = Font(bold=True)
    muted = Font(italic=True, color="555555")
    sheet.append([c.vi for c in cols])
    sheet.append([c.en for c in cols])
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[2]:
        cell.font = muted
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table_rows(body):
        sheet.append([_cell(c.value(row)) for c in cols])
    for cell in sheet[sheet.max_row]:
        cell.font = bold  # the total
    for index, col in enumerate(cols, 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _width([col.vi, col.en])
        for cell in sheet[letter][2:]:
            if isinstance(cell.value, float):
                cell.number_format = "0.00"
    sheet.freeze_panes = "C3"  # headers and the id and name columns stay in view

    info = book.create_sheet("Thông tin")
    info.append(["Thông tin", "Information", "Giá trị / Value"])
    for cell in info[1]:
        cell.font = bold
    for vi, en, value in info_rows(body, names):
        info.append([vi, en, _cell(value)])
    for letter, width in (("A", 36), ("B", 28), ("C", 70)):
        info.column_dimensions[letter].width = width
    _as_text(sheet)
    _as_text(info)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
