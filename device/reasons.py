"""The reasons page: after a low score, the rating waits, held, for the citizen's reasons.

When the Config has reasons and there is a screen to show them, a low score is stored *held*
(durable, not yet sent) and the page opens. Gửi, Bỏ qua or the page's timeout release it with
the chosen reasons written in, in one transaction, keeping the id, seq and pressed_at of the
press; a unit that starts with a held rating (a power cut on the reasons page) sends it as
pressed, without reasons. Input within REASONS_GUARD_S of the score is ignored, so a double
press cannot choose a reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from device.outbox import Outbox
from device.view import ReasonChoice
from hailong.protocol import SCALES, Config, Rating

log = logging.getLogger(__name__)

REASONS_GUARD_S = 1.0  # at most this (and at most the cooldown) after the score


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
    selected: set[str] = field(default_factory=set)

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
        self, rating: Rating, offered: tuple[ReasonChoice, ...], now: float, guard_s: float
    ) -> None:
        self.asking = Asking(rating, offered, now, guard_s, now + self.reasons_s)

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
