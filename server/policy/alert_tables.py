"""The `[[alerts]]` tables of the policy file: one schema per alert kind, each making the rule
server/policy/rules.py applies, with the labels written when the file gives none.

Read by server/policy/file.py, which explains their errors; docs/policy.md documents them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from hailong.protocol import ID_RE
from server.policy.rules import (
    RatingsOutOfOrder,
    UnitSatisfiedBelow,
    UnitSilent,
    UnsatisfiedAtCounter,
    number_text,
)
from server.policy.table import Table


class AlertTable(Table):
    """What every alert has; `kind` picks the subclass with its own settings."""

    id: str = Field(min_length=1, pattern=ID_RE.pattern, examples=["unsatisfied-at-counter"])
    kind: str
    label_vi: str | None = Field(None, min_length=1, examples=["Nhiều đánh giá không hài lòng"])
    label_en: str | None = Field(None, min_length=1, examples=["Several dissatisfied ratings"])


class _CountInWindow(AlertTable):
    """An alert on `count` ratings within `window_minutes`; each kind gives its default count,
    the rule it makes and the labels made when none are written."""

    made: ClassVar[type[UnsatisfiedAtCounter | RatingsOutOfOrder]]
    labels: ClassVar[tuple[str, str]]
    count: int
    window_minutes: int = Field(60, ge=1)

    def rule(self) -> UnsatisfiedAtCounter | RatingsOutOfOrder:
        words = {"count": self.count, "minutes": self.window_minutes}
        return self.made(
            id=self.id,
            count=self.count,
            window_minutes=self.window_minutes,
            label_vi=self.label_vi or self.labels[0].format(**words),
            label_en=self.label_en or self.labels[1].format(**words),
        )


class _UnsatisfiedAtCounter(_CountInWindow):
    made = UnsatisfiedAtCounter
    labels = (
        "{count} đánh giá “Không hài lòng” tại một quầy trong {minutes} phút",
        "{count} “Dissatisfied” ratings at one counter within {minutes} minutes",
    )
    kind: Literal["unsatisfied_at_counter"]
    count: int = Field(3, ge=1)


class _RatingsOutOfOrder(_CountInWindow):
    made = RatingsOutOfOrder
    labels = (
        "Đánh giá sai thứ tự trên một thiết bị: {count} trong {minutes} phút",
        "Ratings out of order on one unit: {count} within {minutes} minutes",
    )
    kind: Literal["ratings_out_of_order"]
    count: int = Field(1, ge=1)


class _UnitSatisfiedBelow(AlertTable):
    kind: Literal["unit_satisfied_below"]
    threshold_pct: float = Field(gt=0, le=100, examples=[70])
    min_ratings: int = Field(10, ge=1)

    def rule(self) -> UnitSatisfiedBelow:
        vi, en = number_text(self.threshold_pct, "vi"), number_text(self.threshold_pct, "en")
        least = self.min_ratings
        return UnitSatisfiedBelow(
            id=self.id,
            threshold_pct=self.threshold_pct,
            min_ratings=least,
            label_vi=self.label_vi
            or f"Tỷ lệ hài lòng của đơn vị trong ngày dưới {vi} % (từ {least} đánh giá)",
            label_en=self.label_en
            or f"Unit's satisfied share for the day below {en} % (from {least} ratings)",
        )


class _UnitSilent(AlertTable):
    kind: Literal["silent"]
    minutes: int = Field(30, ge=1)

    def rule(self) -> UnitSilent:
        vi = f"Thiết bị im lặng quá {self.minutes} phút trong giờ làm việc"
        en = f"A unit silent for over {self.minutes} minutes of office hours"
        return UnitSilent(self.id, self.minutes, self.label_vi or vi, self.label_en or en)


AnyAlert = Annotated[
    _UnsatisfiedAtCounter | _UnitSatisfiedBelow | _RatingsOutOfOrder | _UnitSilent,
    Field(discriminator="kind"),
]
ALERT_TABLES: dict[str, type[AlertTable]] = {
    UnsatisfiedAtCounter.kind: _UnsatisfiedAtCounter,
    UnitSatisfiedBelow.kind: _UnitSatisfiedBelow,
    RatingsOutOfOrder.kind: _RatingsOutOfOrder,
    UnitSilent.kind: _UnitSilent,
}
