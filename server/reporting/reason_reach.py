"""Which input could reach which reason: a report's `reason_reach`, so a reader of the reasons'
shares knows where they may lean.

A touch screen shows every reason. A unit with buttons shows them in pages of N-1 above its N
buttons, so its buttons reach every reason too; before that version buttons 1..N-1 toggled
only the first N-1 reasons of the Config (the first three on a four-button unit, the first two
on a three-button one), and the others could be chosen only by touch. A unit's firmware is
known from its last Status, not per rating, so a report cannot say which of its button ratings
were given before the update: the note says what follows for the shares. Ratings per input are
not in the rollups, so no split of the reasons by input is given. `web` and `paper`, the
server's own channels in the contract, take no ratings in this version and are not listed.
"""

from __future__ import annotations

from typing import Any

from server.storage.reasons import REASONS

NOTE_VI = (
    "Màn hình cảm ứng và nút bấm đều chọn được mọi lý do. Trước khi thiết bị được cập nhật phần "
    "mềm (chia các lý do thành từng trang), nút bấm chỉ chọn được 3 lý do đầu (thiết bị 3 nút: "
    "2 lý do đầu); vì vậy, đối với các đánh giá bằng nút bấm trước thời điểm đó, tỷ lệ các lý do "
    "còn lại có thể thấp hơn thực tế. Thiết bị không có màn hình không hỏi lý do."
)
NOTE_EN = (
    "Touch screens and buttons both reach every reason. Before the unit software that pages the "
    "reasons, buttons reached only the first 3 reasons (the first 2 on a three-button unit), so "
    "for button ratings from before it the other reasons' shares may be too low. A unit "
    "without a screen asks for no reasons."
)
# One line under the reasons chart, in each language (Plotly does not wrap: kept short).
CHART_NOTE_VI = "Trước khi cập nhật thiết bị, nút bấm chỉ chọn được 3 lý do đầu."
CHART_NOTE_EN = "Before the unit update, buttons reached only the first 3 reasons."


def reason_reach() -> dict[str, Any]:
    """The reason codes each device input can reach in this version, and what buttons reached
    before it; plain values, the same for every report (the list is the Config's)."""
    codes = [r.code for r in REASONS]
    return {
        "by_input": {"button": codes, "touch": codes, "keyboard": codes},
        "button_before_paging": {"four_buttons": codes[:3], "three_buttons": codes[:2]},
        "note_vi": NOTE_VI,
        "note_en": NOTE_EN,
    }
