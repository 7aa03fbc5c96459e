"""The paper forms page's content as plain values: what an upload did in a line, and the last
batches as table records. The errors use the registry import's grid (dashboard/import_view.py):
the same sheet, row, column and message.

No Dash and no database here; each function is tested by what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.components import column, count_column
from server.reporting.vietnamese import count as format_count
from server.storage.channels import PaperBatch
from server.timeutil import vn_text

BATCH_COLUMNS: list[dict[str, Any]] = [
    count_column("id", "Đợt", "Batch"),
    column("entered_at", "Thời gian nhập", "Entered at"),
    column("entered_by", "Người nhập", "Entered by"),
    column("filename", "Tệp", "File", minWidth=160),
    count_column("forms", "Số phiếu", "Forms"),
]


def summary(report: Mapping[str, Any]) -> tuple[str, str]:
    """One line saying what happened, Vietnamese and English."""
    errors = len(report.get("errors") or ())
    forms = int(report.get("forms") or 0)
    if errors:
        rows = len(report.get("refused_rows") or ()) or errors
        return (
            f"{format_count(errors)} lỗi ở {format_count(rows)} hàng: chưa nhập phiếu nào. "
            "Sửa tệp rồi tải lên lại.",
            f"{format_count(errors)} errors in {format_count(rows)} rows: no form was entered. "
            "Fix the file and upload it again.",
        )
    if not forms:
        return ("Tệp không có phiếu nào.", "The file holds no form.")
    if report.get("dry_run"):
        return (
            f"Tệp hợp lệ: {format_count(forms)} phiếu sẽ được nhập. Bấm «Nhập» để ghi.",
            f"The file is valid: {format_count(forms)} forms would be entered. Press Enter.",
        )
    return (
        f"Đã nhập {format_count(int(report.get('created') or 0))} phiếu "
        f"(đợt {report.get('batch_id')}).",
        f"Entered {format_count(int(report.get('created') or 0))} forms "
        f"(batch {report.get('batch_id')}).",
    )


def batch_records(batches: Iterable[PaperBatch]) -> list[dict[str, Any]]:
    return [
        {
            "id": b.id,
            "entered_at": vn_text(b.entered_at),
            "entered_by": b.entered_by,
            "filename": b.filename,
            "forms": b.forms,
        }
        for b in batches
    ]
