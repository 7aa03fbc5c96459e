"""What the unit tells the room besides the screen: lights, a beep, spoken prompts.

`Unit` tells its Feedbacks at each moment of a rating; `outputs.Outputs` (LEDs and buzzer) and
`audio.Audio` (spoken clips) each answer the moments they care about. Every method must return
at once (gpiozero blinks in the background, the mixer plays in its own thread), and the unit
logs and swallows what they raise, so a press is never held up or lost by them.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class Feedback:
    """The moments of a rating; each does nothing unless a subclass says otherwise."""

    def invited(self) -> None:
        """A transaction opened or the idle page was touched: invite the citizen to rate."""

    def pressed(self, label_vi: str) -> None:
        """A press was taken, at the level with this Vietnamese label."""

    def stored(self) -> None:
        """A rating is durably in the outbox."""

    def asked_reasons(self) -> None:
        """The reasons page opened after a low score."""

    def thanked(self) -> None:
        """The thank-you page opened."""

    def attention(self, on: bool) -> None:
        """The unit is offline, or its backlog is over [outbox] warn_backlog (or no longer)."""

    def close(self) -> None:
        """Release the hardware."""


class Feedbacks:
    """Every Feedback a unit was given, told of each moment in turn."""

    def __init__(self) -> None:
        self._all: list[Feedback] = []
        self._attention: bool | None = None

    def add(self, feedback: Feedback) -> None:
        self._all.append(feedback)

    def __bool__(self) -> bool:
        return bool(self._all)

    def tell(self, moment: str, *args: object) -> None:
        for feedback in self._all:
            try:
                getattr(feedback, moment)(*args)
            except Exception:
                log.exception("%s failed at %r; the rating is not affected", feedback, moment)

    def attention(self, on: bool, why: str) -> None:
        """The attention light, told only when it changes."""
        if on != self._attention:
            self._attention = on
            if on:
                log.info("attention light on: %s", why)
            self.tell("attention", on)
