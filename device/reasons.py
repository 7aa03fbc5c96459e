"""The reasons page: after a low score, the rating waits, held, for the citizen's reasons.

When the Config has reasons and there is a screen to show them, a low score is stored *held*
(durable, not yet sent) and the page opens. Gửi, Bỏ qua or the page's timeout release it with
the chosen reasons written in, in one transaction, keeping the id, seq and pressed_at of the
press; a unit that starts with a held rating (a power cut on the reasons page) sends it as
pressed, without reasons. Input within REASONS_GUARD_S of the score is ignored, so a double
press cannot choose a reason.

On a unit with N buttons the reasons come in pages of N-1, one above each of buttons 1..N-1,
so every reason is in reach of a button: the last button turns to the next page ("Xem thêm"),
and on the last page sends (Gửi). Choices stay chosen when the page turns. A unit without
buttons shows every reason on one page, for touch.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from device.outbox import Outbox
from device.view import ReasonChoice
from hailong.protocol import SCALES, Config, Rating

log = logging.getLogger(__name__)

REASONS_GUARD_S = 1.0  # at most this (and at most the cooldown) after the score
ButtonAnswer = Literal["toggled", "next", "send"]


def is_low(scale: str, score: int) -> bool:
    """Không hài lòng, and Bình thường on vn4: the scores that ask for reasons."""
    return not SCALES[scale].is_satisfied(score)


def offered(config: Config | None) -> tuple[ReasonChoice, ...]:
    """The reasons the Config offers, in its order."""
    return tuple(
        ReasonChoice(r.code, r.label_vi, r.label_en) for r in (config.reasons if config else [])
    )


@dataclass
class Asking:
    """The reasons page open: a held low-score rating waiting for its reasons."""

    rating: Rating
    offered: tuple[ReasonChoice, ...]
    opened_at: float  # monotonic
    guard_s: float
    deadline: float
    per_page: int | None = None  # reasons a page shows (buttons - 1); None: all on one page
    page: int = 0  # from 0
    selected: set[str] = field(default_factory=set)

    @property
    def pages(self) -> int:
        if not self.per_page:
            return 1
        return max(1, math.ceil(len(self.offered) / self.per_page))

    def shown(self) -> tuple[ReasonChoice, ...]:
        """The reasons on the page shown now, in Config order."""
        if not self.per_page:
            return self.offered
        start = self.page * self.per_page
        return self.offered[start : start + self.per_page]

    def next_page(self) -> bool:
        """Turn to the next page; False on the last one (which stays shown)."""
        if self.page + 1 >= self.pages:
            return False
        self.page += 1
        return True

    def shows(self, now: float) -> dict[str, Any]:
        """The View's fields for this page: its reasons, what is chosen on any page, which
        page of how many, and the seconds before it sends by itself."""
        return {
            "reasons": self.shown(),
            "selected": frozenset(self.selected),
            "reasons_page": self.page + 1,
            "reasons_pages": self.pages,
            "reasons_left_s": max(0, math.ceil(self.deadline - now)),
        }

    def chosen(self) -> list[str]:
        return [r.code for r in self.offered if r.code in self.selected]

    def toggle(self, code: str) -> bool:
        """Select or unselect a reason; False when it is not offered."""
        if code not in {r.code for r in self.offered}:
            return False
        self.selected ^= {code}
        return True


class ReasonsPage:
    """The page's state: the held rating that waits on it, if any. The unit calls it under
    its lock."""

    def __init__(self, outbox: Outbox, reasons_s: float) -> None:
        self.outbox = outbox
        self.reasons_s = reasons_s  # how long the page waits for a citizen who does nothing
        self.asking: Asking | None = None
        self.ignored = 0  # input so soon after the score that it was the same press twice

    def open(
        self,
        rating: Rating,
        offered: tuple[ReasonChoice, ...],
        now: float,
        guard_s: float,
        per_page: int | None = None,
    ) -> None:
        """`per_page`: the reasons one page shows, buttons - 1 on a unit with buttons."""
        self.asking = Asking(rating, offered, now, guard_s, now + self.reasons_s, per_page)

    def touch(self, now: float) -> None:
        """A citizen is at the unit: the page waits for them."""
        if self.asking is not None:
            self.asking.deadline = max(self.asking.deadline, now + self.reasons_s)

    def input(self, now: float) -> Asking | None:
        """The open page, unless the input comes so soon after the score that it is the
        same press twice (then it is ignored and counted)."""
        asking = self.asking
        if asking is not None and now - asking.opened_at < asking.guard_s:
            self.ignored += 1
            log.info("reasons page input ignored: %.1f s after the score", now - asking.opened_at)
            return None
        return asking

    def button(self, number: int, buttons: int, now: float) -> ButtonAnswer | None:
        """Button `number` of `buttons` on the open page: 1..N-1 toggle the reasons above
        them; the last turns the page, or on the last page asks to send. None when ignored."""
        asking = self.input(now)
        if asking is None:
            return None
        if number >= buttons:
            return "next" if asking.next_page() else "send"
        shown = asking.shown()
        if number > len(shown):
            return None
        asking.toggle(shown[number - 1].code)
        return "toggled"

    def timed_out(self, now: float) -> bool:
        return self.asking is not None and now >= self.asking.deadline

    def close(self, why: str) -> Rating | None:
        """Let the held rating go with the reasons selected; None when the page is not open."""
        asking, self.asking = self.asking, None
        if asking is None:
            return None
        rating = asking.rating.model_copy(update={"reasons": asking.chosen()})
        if not self.outbox.release(rating):
            log.error("rating %s was not held in the outbox; it was sent as pressed", rating.id)
        log.info("rating %s: seq %d, reasons %s (%s)", rating.id, rating.seq, rating.reasons, why)
        return rating


def release_left_held(outbox: Outbox) -> None:
    """Ratings a power cut left on the reasons page go as pressed, without reasons."""
    for entry in outbox.held():
        rating = Rating.model_validate_json(entry.payload)
        outbox.release(rating)
        log.warning(
            "rating %s (seq %d) was waiting for reasons when the unit stopped; "
            "sending it without reasons",
            entry.id,
            entry.seq,
        )
