"""The paper forms page's words and records, from the API's report as it comes."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard import paper_view
from server.storage.channels import PaperBatch


def test_the_summary_says_what_an_upload_did() -> None:
    refused = {"errors": [{"row": 3}, {"row": 3}, {"row": 4}], "refused_rows": [3, 4]}
    assert paper_view.summary(refused)[1] == (
        "3 errors in 2 rows: no form was entered. Fix the file and upload it again."
    )
    assert paper_view.summary({"forms": 0}) == (
        "Tệp không có phiếu nào.",
        "The file holds no form.",
    )
    checked = {"forms": 1234, "dry_run": True}
    assert paper_view.summary(checked)[0].startswith("Tệp hợp lệ: 1.234 phiếu sẽ được nhập.")
    entered = {"forms": 3, "created": 3, "batch_id": 7, "written": True}
    assert paper_view.summary(entered) == (
        "Đã nhập 3 phiếu (đợt 7).",
        "Entered 3 forms (batch 7).",
    )


def test_a_batch_is_shown_in_vietnam_time() -> None:
    batch = PaperBatch(
        id=4,
        entered_by="hr",
        entered_at=datetime(2026, 10, 15, 3, 5, tzinfo=UTC),
        filename="phieu.xlsx",
        forms=12,
    )
    assert paper_view.batch_records([batch]) == [
        {
            "id": 4,
            "entered_at": "10:05 15/10/2026",
            "entered_by": "hr",
            "filename": "phieu.xlsx",
            "forms": 12,
        }
    ]
