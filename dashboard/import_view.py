"""The import page's content as plain values: progress in words, and the import's report (the
API's JSON answer) as table records of counts per sheet and of errors.

No Dash and no database here; each function is tested by what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.components import column, count_column
from server.reporting.vietnamese import NO_VALUE
from server.reporting.vietnamese import count as format_count

SHEET_COLUMNS: list[dict[str, Any]] = [
    column("sheet", "Trang", "Sheet"),
    count_column("created", "Thêm mới", "Created"),
    count_column("updated", "Cập nhật", "Updated"),
    count_column("unchanged", "Không đổi", "Unchanged"),
]
ERROR_COLUMNS: list[dict[str, Any]] = [
    column("sheet", "Trang", "Sheet"),
    count_column("row", "Dòng", "Row"),
    column("column", "Cột", "Column"),
    column("message_vi", "Lỗi", "Error", minWidth=200),
    column("message_en", "Tiếng Anh", "In English", minWidth=200),
]


def progress_text(done: int, total: int) -> str:
    if not total:
        return "Đang đọc tệp… · Reading the file…"
    # A step: a row checked, a row written, or a new device's broker account made.
    return (
        f"Đã xử lý {format_count(done)}/{format_count(total)} bước "
        f"({round(100 * done / total)} %) · "
        f"{format_count(done)} of {format_count(total)} steps done"
    )


def sheet_records(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Counts per sheet, in the report's order: it lists the ids of each kind of change."""
    return [
        {
            "sheet": str(name),
            "created": len(ids.get("created") or ()),
            "updated": len(ids.get("updated") or ()),
            "unchanged": len(ids.get("unchanged") or ()),
        }
        for name, ids in (report.get("sheets") or {}).items()
    ]


def error_records(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "sheet": e.get("sheet") or NO_VALUE,
            "row": e.get("row"),
            "column": e.get("column") or NO_VALUE,
            "message_vi": e.get("message_vi") or e.get("message") or NO_VALUE,
            "message_en": e.get("message_en") or NO_VALUE,
        }
        for e in report.get("errors") or ()
    ]


def summary(report: Mapping[str, Any]) -> tuple[str, str]:
    """One line saying what happened, Vietnamese and English."""
    errors = len(report.get("errors") or ())
    changed = sum(r["created"] + r["updated"] for r in sheet_records(report))
    if not errors and not report.get("dry_run") and not report.get("written"):
        return ("Chưa ghi gì.", "Nothing was written.")
    if errors:
        return (
            f"{format_count(errors)} lỗi: không ghi gì. Sửa tệp rồi thử lại.",
            f"{format_count(errors)} errors: nothing was written. Fix the file and try again.",
        )
    if report.get("dry_run"):
        return (
            f"Tệp hợp lệ: sẽ thay đổi {format_count(changed)} dòng. Bấm «Nhập» để ghi.",
            f"The file is valid: {format_count(changed)} rows would change. Press Import.",
        )
    return (
        f"Đã nhập: {format_count(changed)} dòng thay đổi.",
        f"Imported: {format_count(changed)} rows changed.",
    )
