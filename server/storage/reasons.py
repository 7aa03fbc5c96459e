"""The reason codes a citizen can pick after a low score; sent to every unit in its Config."""

from __future__ import annotations

from functools import cache

from hailong.protocol import Reason

REASONS: tuple[Reason, ...] = (
    Reason(code="wait_time", label_vi="Chờ đợi lâu", label_en="Long wait"),
    Reason(code="attitude", label_vi="Thái độ chưa tốt", label_en="Poor attitude"),
    Reason(code="guidance", label_vi="Hướng dẫn chưa rõ", label_en="Unclear guidance"),
    Reason(code="paperwork", label_vi="Thủ tục, giấy tờ phức tạp", label_en="Complex paperwork"),
    Reason(code="late_result", label_vi="Trả kết quả trễ hẹn", label_en="Result late"),
    Reason(code="facilities", label_vi="Cơ sở vật chất", label_en="Facilities"),
)


@cache
def reason_codes() -> frozenset[str]:
    return frozenset(r.code for r in REASONS)
