"""The policy's rules as the server applies them: which presses are misuse, how officers are
classified and when to alert, as frozen values with the pure functions that apply them.

Reading them from the agency's TOML file is server/policy/file.py's job; docs/policy.md explains
each setting. Nothing here touches the database or the report code: the figures a class rule
compares are anything with the five numbers it reads (`Scored`), such as a report's `Figures`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from hailong.errors import ConfigError
from server.policy.office_hours import OfficeHours
from server.storage import flags

CONDITIONS = (
    "wilson_low_min",
    "wilson_high_max",
    "satisfied_pct_min",
    "happy_index_min",
    "unsatisfied_pct_max",
    "ratings_min",
)
ALERT_KINDS = ("unsatisfied_at_counter", "unit_satisfied_below", "ratings_out_of_order", "silent")


class PolicyError(ConfigError, ValueError):
    """A policy file that cannot be used; the message names the key and what to write."""


# --- misuse -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MisuseRules:
    """When a press is flagged, and which flags leave a rating out of the scores (`count`, any
    of server/storage/flags.py's names; the shipped policy's are those flags.EXCLUDED_BY_DEFAULT
    marks)."""

    cooldown_s: float = 3.0
    burst_count: int = 5
    burst_window_s: float = 60.0
    require_service: bool = False
    count: tuple[str, ...] = flags.EXCLUDED_BY_DEFAULT

    def counts(self, given: Iterable[str]) -> bool:
        """Whether a rating with these flags is flagged as misuse (left out of scores)."""
        names = list(given)
        unknown = [f for f in names if f not in flags.BY_NAME]
        if unknown:
            raise ValueError(f"unknown flag(s) {unknown}; known: {', '.join(flags.NAMES)}")
        return any(f in self.count for f in names)


@dataclass(frozen=True)
class ChannelRules:
    """`[channels]`: ratings carrying one of `officer_excluded` (server/storage/flags.py's
    names) count for their counter and unit but for no officer. The shipped policy's is a
    counter card's unverified web rating: anyone at the counter could have given it."""

    officer_excluded: tuple[str, ...] = ("web_unverified",)

    def excludes_officer(self, given: Iterable[str]) -> bool:
        """Whether a rating with these flags is kept out of every officer's figures."""
        return any(f in self.officer_excluded for f in given)


def lookback(rules: MisuseRules) -> timedelta:
    """How far back `misuse_flags` needs a device's earlier presses."""
    return timedelta(seconds=max(rules.cooldown_s, rules.burst_window_s))


@dataclass(frozen=True)
class Press:
    """A press as the misuse rules see it: its time, and the unit's boot and monotonic clock."""

    at: datetime
    boot_id: str | None = None
    mono_ms: int | None = None


def gap(earlier: Press | datetime, later: Press | datetime) -> timedelta:
    """How long after `earlier` `later` was pressed: by mono_ms when both share a boot (exact,
    whatever the unit's clock said or the time rule made of it: a backlog dated by receipt
    keeps its spacing), otherwise by press time. A bare datetime is a press without a boot."""
    if isinstance(earlier, datetime) or isinstance(later, datetime):
        a = earlier.at if isinstance(earlier, Press) else earlier
        b = later.at if isinstance(later, Press) else later
        return b - a
    if (
        earlier.boot_id is not None
        and earlier.boot_id == later.boot_id
        and earlier.mono_ms is not None
        and later.mono_ms is not None
    ):
        return timedelta(milliseconds=later.mono_ms - earlier.mono_ms)
    return later.at - earlier.at


_NO_GAP = timedelta(0)


def misuse_flags(
    previous: Sequence[Press | datetime],
    pressed: Press | datetime,
    has_ticket: bool,
    rules: MisuseRules,
) -> list[str]:
    """The flags a press earns from the same device's earlier presses (`previous`), the gap
    between two presses measured by `gap`.

    "cooldown": the latest earlier press was less than cooldown_s before (0 ≤ gap < cooldown_s).
    "burst": with this press, at least burst_count presses fall in the burst_window_s ending at
    it, the window open at its start: 0 ≤ gap < burst_window_s.
    "outside_service": require_service is on and the press carried no ticket.
    Presses later than this one (delivered out of order) are not "earlier" and are ignored.
    """
    cooldown = timedelta(seconds=rules.cooldown_s)
    window = timedelta(seconds=rules.burst_window_s)
    too_soon = False
    in_window = 1  # this press
    for earlier in previous:
        between = gap(earlier, pressed)
        if between < _NO_GAP:
            continue
        too_soon = too_soon or between < cooldown
        in_window += between < window
    flags: list[str] = []
    if too_soon:
        flags.append("cooldown")
    if in_window >= rules.burst_count:
        flags.append("burst")
    if rules.require_service and not has_ticket:
        flags.append("outside_service")
    return flags


# --- classification -----------------------------------------------------------------------


class Scored(Protocol):
    """The figures a class rule compares: percentages 0..100 with 2 decimals, None without
    ratings (server/reporting/scoring.py's `Figures` is one)."""

    @property
    def ratings(self) -> int: ...
    @property
    def wilson_low(self) -> float | None: ...
    @property
    def wilson_high(self) -> float | None: ...
    @property
    def satisfied_pct(self) -> float | None: ...
    @property
    def happy_index(self) -> float | None: ...
    @property
    def unsatisfied_pct(self) -> float | None: ...


def number_text(value: float, lang: str) -> str:
    """A limit as a person wrote it: 90 rather than 90.0, with a decimal comma in Vietnamese."""
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    return text.replace(".", ",") if lang == "vi" else text


# How ClassRule.conditions says each condition, in plain words for the HR office: the limit
# goes where {} is. The 95 % interval is "the lowest / highest estimate" of the satisfied share,
# as the review page's confidence bar draws it.
_CONDITION_WORDS = {
    "wilson_low_min": (
        "ngay cả ước tính thấp nhất của tỷ lệ hài lòng cũng từ {} % trở lên",
        "satisfied share at least {} % even at its lowest estimate",
    ),
    "wilson_high_max": (
        "ngay cả ước tính cao nhất của tỷ lệ hài lòng cũng không quá {} %",
        "satisfied share at most {} % even at its highest estimate",
    ),
    "satisfied_pct_min": ("tỷ lệ hài lòng từ {} % trở lên", "satisfied share at least {} %"),
    "happy_index_min": ("chỉ số hài lòng từ {} trở lên", "happy index at least {}"),
    "unsatisfied_pct_max": (
        "tỷ lệ “Không hài lòng” không quá {} %",
        "“Dissatisfied” share at most {} %",
    ),
    "ratings_min": ("có ít nhất {} đánh giá", "at least {} ratings"),
}


@dataclass(frozen=True)
class ClassRule:
    """One class and the conditions (all must hold) for it; a rule without any is a catch-all.

    Conditions compare the rounded figures a report shows, so a reader can check them by eye.
    """

    code: str
    label_vi: str
    label_en: str
    wilson_low_min: float | None = None
    wilson_high_max: float | None = None
    satisfied_pct_min: float | None = None
    happy_index_min: float | None = None
    unsatisfied_pct_max: float | None = None
    ratings_min: int | None = None

    @property
    def is_catch_all(self) -> bool:
        return all(getattr(self, c) is None for c in CONDITIONS)

    def matches(self, fig: Scored) -> bool:
        checks = (
            (self.wilson_low_min, fig.wilson_low, True),
            (self.wilson_high_max, fig.wilson_high, False),
            (self.satisfied_pct_min, fig.satisfied_pct, True),
            (self.happy_index_min, fig.happy_index, True),
            (self.unsatisfied_pct_max, fig.unsatisfied_pct, False),
            (self.ratings_min, fig.ratings, True),
        )
        for limit, value, at_least in checks:
            if limit is None:
                continue
            if value is None or (value < limit if at_least else value > limit):
                return False
        return True

    def contradiction(self) -> str | None:
        """Why no officer can meet the rule, if its limits exclude each other."""
        low, high = self.wilson_low_min, self.wilson_high_max
        if low is None or high is None or low <= high:
            return None
        return (
            f"asks wilson_low_min = {number_text(low, 'en')} and wilson_high_max = "
            f"{number_text(high, 'en')}: the lowest estimate is never above the highest, so no "
            "officer meets both; keep one of the two"
        )

    def conditions(self, lang: str) -> list[str]:
        """The rule's conditions in words, in `lang` ("vi" or "en"), in CONDITIONS' order."""
        vi = lang == "vi"
        return [
            _CONDITION_WORDS[name][0 if vi else 1].format(number_text(limit, lang))
            for name in CONDITIONS
            if (limit := getattr(self, name)) is not None
        ]

    def text(self, lang: str) -> str:
        """The conditions as one phrase ("a, b và c"), or what a catch-all covers."""
        parts = self.conditions(lang)
        if not parts:
            return "các trường hợp còn lại" if lang == "vi" else "every other case"
        last = " và " if lang == "vi" else " and "
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + last + parts[-1]


@dataclass(frozen=True)
class Classification:
    """An officer's class, with the rule that gave it in words, for the report's footnote."""

    code: str
    label_vi: str
    label_en: str
    rule: str
    rule_en: str
    policy_version: str


# --- alerts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountInWindow:
    """What an alert on `count` ratings of some kind within `window_minutes` holds."""

    id: str
    count: int
    window_minutes: int
    label_vi: str
    label_en: str


@dataclass(frozen=True)
class UnsatisfiedAtCounter(CountInWindow):
    """`count` "Không hài lòng" (level 1) ratings at one counter within `window_minutes`."""

    kind: ClassVar[str] = "unsatisfied_at_counter"


@dataclass(frozen=True)
class UnitSatisfiedBelow:
    """A unit's satisfied % for one Vietnam day below `threshold_pct`, from `min_ratings` up."""

    kind: ClassVar[str] = "unit_satisfied_below"
    id: str
    threshold_pct: float
    min_ratings: int
    label_vi: str
    label_en: str


@dataclass(frozen=True)
class RatingsOutOfOrder(CountInWindow):
    """`count` ratings received from one unit's device within `window_minutes` that the order
    rules flagged (seq_reused, out_of_order or late_while_online): the sign of ratings backdated
    or replayed with the device's password."""

    kind: ClassVar[str] = "ratings_out_of_order"


@dataclass(frozen=True)
class UnitSilent:
    """A unit silent or offline for more than `minutes` of office hours (the policy's
    `[office_hours]`): one alert per spell, to its unit head and the admins."""

    kind: ClassVar[str] = "silent"
    id: str
    minutes: int
    label_vi: str
    label_en: str


AlertRule = UnsatisfiedAtCounter | UnitSatisfiedBelow | RatingsOutOfOrder | UnitSilent


# --- the policy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    version: str
    name: str | None
    description: str | None
    min_ratings: int
    misuse: MisuseRules
    classification: tuple[ClassRule, ...]
    alerts: tuple[AlertRule, ...]
    source: str
    office_hours: OfficeHours = OfficeHours()
    viewer_min_officers: int = 3  # [privacy]: server/policy/privacy.py
    channels: ChannelRules = ChannelRules()


def classify(fig: Scored, policy: Policy) -> Classification | None:
    """The first rule the figures meet; None below `min_ratings` ("chưa đủ dữ liệu")."""
    if fig.ratings < policy.min_ratings:
        return None
    for index, rule in enumerate(policy.classification):
        if not rule.matches(fig):
            continue
        if rule.is_catch_all and index > 0:
            vi, en = "không thuộc các mức ở trên", "none of the rules above applies"
        elif rule.is_catch_all:
            vi, en = "mọi cán bộ đủ số đánh giá", "every officer with enough ratings"
        else:
            vi, en = rule.text("vi"), rule.text("en")
        return Classification(
            code=rule.code,
            label_vi=rule.label_vi,
            label_en=rule.label_en,
            rule=f"{rule.label_vi}: {vi} (chính sách {policy.version})",
            rule_en=f"{rule.label_en}: {en} (policy {policy.version})",
            policy_version=policy.version,
        )
    raise PolicyError(
        f"{policy.source}: no [[classification]] rule matched; end with a catch-all rule"
    )
