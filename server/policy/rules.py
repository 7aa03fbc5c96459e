"""The local policy: which presses are misuse, how many ratings make a figure, how officers are
classified and when to alert. docs/policy.md explains each setting.

None of this is law: Vietnamese regulations on evaluating civil servants leave the criteria to the
employing agency, so the agency writes them in a TOML file and every report run stores the
policy `version` it used. Unknown keys are errors, because a misspelt key that was silently
ignored would change scores without anyone noticing.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from hailong.errors import ConfigError
from hailong.protocol import ID_RE
from server.reporting.scoring import Figures
from server.storage import flags

CONDITIONS = (
    "wilson_low_min",
    "satisfied_pct_min",
    "happy_index_min",
    "unsatisfied_pct_max",
    "ratings_min",
)
ALERT_KINDS = ("unsatisfied_at_counter", "unit_satisfied_below", "ratings_out_of_order")
DEFAULT_FILE = "policy-default.toml"
BUILT_IN = "built-in default"


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


def _num(value: float, lang: str) -> str:
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    return text.replace(".", ",") if lang == "vi" else text


@dataclass(frozen=True)
class ClassRule:
    """One class and the conditions (all must hold) for it; a rule without any is a catch-all.

    Conditions compare the rounded figures a report shows, so a reader can check them by eye.
    """

    code: str
    label_vi: str
    label_en: str
    wilson_low_min: float | None = None
    satisfied_pct_min: float | None = None
    happy_index_min: float | None = None
    unsatisfied_pct_max: float | None = None
    ratings_min: int | None = None

    @property
    def is_catch_all(self) -> bool:
        return all(getattr(self, c) is None for c in CONDITIONS)

    def matches(self, fig: Figures) -> bool:
        checks = (
            (self.wilson_low_min, fig.wilson_low, True),
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

    def conditions(self, lang: str) -> list[str]:
        vi = lang == "vi"
        parts: list[str] = []
        if self.wilson_low_min is not None:
            word = "cận dưới Wilson" if vi else "Wilson lower bound"
            parts.append(f"{word} ≥ {_num(self.wilson_low_min, lang)} %")
        if self.satisfied_pct_min is not None:
            word = "tỷ lệ hài lòng" if vi else "satisfied"
            parts.append(f"{word} ≥ {_num(self.satisfied_pct_min, lang)} %")
        if self.happy_index_min is not None:
            word = "chỉ số hài lòng" if vi else "happy index"
            parts.append(f"{word} ≥ {_num(self.happy_index_min, lang)}")
        if self.unsatisfied_pct_max is not None:
            word = "tỷ lệ không hài lòng" if vi else "dissatisfied"
            parts.append(f"{word} ≤ {_num(self.unsatisfied_pct_max, lang)} %")
        if self.ratings_min is not None:
            parts.append(
                f"ít nhất {self.ratings_min} đánh giá"
                if vi
                else f"at least {self.ratings_min} ratings"
            )
        return parts


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
class UnsatisfiedAtCounter:
    """`count` "Không hài lòng" (level 1) ratings at one counter within `window_minutes`."""

    kind: ClassVar[str] = "unsatisfied_at_counter"
    id: str
    count: int
    window_minutes: int
    label_vi: str
    label_en: str


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
class RatingsOutOfOrder:
    """`count` ratings received from one unit's device within `window_minutes` that the order
    rules flagged (seq_reused, out_of_order or late_while_online): the sign of ratings backdated
    or replayed with the device's password."""

    kind: ClassVar[str] = "ratings_out_of_order"
    id: str
    count: int
    window_minutes: int
    label_vi: str
    label_en: str


AlertRule = UnsatisfiedAtCounter | UnitSatisfiedBelow | RatingsOutOfOrder


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


def classify(fig: Figures, policy: Policy) -> Classification | None:
    """The first rule the figures meet; None below `min_ratings` ("chưa đủ dữ liệu")."""
    if fig.ratings < policy.min_ratings:
        return None
    for index, rule in enumerate(policy.classification):
        if not rule.matches(fig):
            continue
        if rule.is_catch_all and index > 0:
            vi, en = "không đạt mức nào ở trên", "met none of the rules above"
        elif rule.is_catch_all:
            vi, en = "mọi cán bộ đủ số đánh giá", "every officer with enough ratings"
        else:
            vi, en = " và ".join(rule.conditions("vi")), " and ".join(rule.conditions("en"))
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


# --- reading the file ---------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class _Table:
    """One TOML table being read: each getter names the key and the fix when the value is wrong."""

    def __init__(self, source: str, where: str, data: Any, allowed: Sequence[str]) -> None:
        self.source, self.where = source, where
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: {where.strip()} must be a table, not {_shown(data)}")
        self.data: dict[str, Any] = data
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(allowed)}"
                raise self.error(key, f"is not a setting here ({hint})")

    def error(self, key: str, message: str) -> PolicyError:
        return PolicyError(f"{self.source}: {self.where}{key} {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def string(self, key: str, example: str, required: bool = False) -> str | None:
        if key not in self.data:
            if required:
                raise self.error(key, f'is required, e.g. {key} = "{example}"')
            return None
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                key, f'must be a non-empty string such as "{example}", not {_shown(value)}'
            )
        return value.strip()

    def identifier(self, key: str, example: str) -> str:
        value = self.string(key, example, required=True)
        assert value is not None
        if not ID_RE.match(value):
            raise self.error(
                key, f"must be 1 to 64 of A-Z a-z 0-9 . _ - such as {example!r}, not {value!r}"
            )
        return value

    def integer(self, key: str, default: int | None, minimum: int) -> int | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be an integer ≥ {minimum}, not {_shown(value)}")
        return value

    def number(
        self, key: str, default: float | None, low: float, high: float, open_low: bool = False
    ) -> float | None:
        if key not in self.data:
            return default
        value = self.data[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        ok = number and math.isfinite(value)
        if not ok or not (low < value if open_low else low <= value) or value > high:
            bound = f"> {_num(low, 'en')}" if open_low else f"≥ {_num(low, 'en')}"
            upto = "" if math.isinf(high) else f" and ≤ {_num(high, 'en')}"
            raise self.error(key, f"must be a number {bound}{upto}, not {_shown(value)}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_shown(value)}")
        return value

    def tables(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"must be written as [[{key}]] tables, not {_shown(value)}")
        return value


def _misuse(source: str, data: Any) -> MisuseRules:
    keys = ("cooldown_s", "burst_count", "burst_window_s", "require_service", "count")
    t = _Table(source, "[misuse] ", data, keys)
    d = MisuseRules()
    count = t.data.get("count", list(d.count))
    # a tuple, not a dict: TOML can give a table or a list here, which no dict could look up
    if not isinstance(count, list) or any(f not in flags.NAMES for f in count):
        unknown = [f for f in count if f not in flags.NAMES] if isinstance(count, list) else []
        named = f" ({', '.join(map(repr, unknown))} unknown)" if unknown else ""
        raise t.error(
            "count",
            f"must be a list of flags from {list(flags.NAMES)}, not {_shown(count)}{named}",
        )
    cooldown = t.number("cooldown_s", d.cooldown_s, 0, math.inf)
    burst_count = t.integer("burst_count", d.burst_count, 2)
    window = t.number("burst_window_s", d.burst_window_s, 0, math.inf, open_low=True)
    assert cooldown is not None and burst_count is not None and window is not None
    return MisuseRules(
        cooldown_s=cooldown,
        burst_count=burst_count,
        burst_window_s=window,
        require_service=t.boolean("require_service", d.require_service),
        count=tuple(f for f in flags.NAMES if f in count),
    )


def _class_rules(source: str, tables: list[Any]) -> tuple[ClassRule, ...]:
    if not tables:
        raise PolicyError(
            f"{source}: [[classification]] rules are missing; copy them from {DEFAULT_FILE} "
            "and edit them, ending with a catch-all (a rule with only code and labels)"
        )
    allowed = ("code", "label_vi", "label_en", *CONDITIONS)
    rules: list[ClassRule] = []
    for number, data in enumerate(tables, 1):
        t = _Table(source, f"[[classification]] #{number} ", data, allowed)
        code = t.identifier("code", "good")
        t.where = f"[[classification]] {code!r} "
        if code in (r.code for r in rules):
            raise t.error("code", "is used by an earlier rule; give each class its own code")
        vi = t.string("label_vi", "Hoàn thành tốt nhiệm vụ", required=True)
        en = t.string("label_en", "Good completion of duties", required=True)
        assert vi is not None and en is not None
        rule = ClassRule(
            code=code,
            label_vi=vi,
            label_en=en,
            wilson_low_min=t.number("wilson_low_min", None, 0, 100),
            satisfied_pct_min=t.number("satisfied_pct_min", None, 0, 100),
            happy_index_min=t.number("happy_index_min", None, 0, 100),
            unsatisfied_pct_max=t.number("unsatisfied_pct_max", None, 0, 100),
            ratings_min=t.integer("ratings_min", None, 1),
        )
        last = number == len(tables)
        if rule.is_catch_all and not last:
            raise PolicyError(
                f"{source}: [[classification]] {code!r} has no conditions, so it matches "
                "everyone and the rules after it never apply; move it last"
            )
        if last and not rule.is_catch_all:
            raise PolicyError(
                f"{source}: the last [[classification]] rule {code!r} has conditions; end with a "
                "catch-all rule (only code and labels), so every officer with enough ratings "
                "gets a class"
            )
        rules.append(rule)
    return tuple(rules)


def _alert(source: str, number: int, data: Any, taken: set[str]) -> AlertRule:
    own = {
        "unsatisfied_at_counter": ("count", "window_minutes"),
        "unit_satisfied_below": ("threshold_pct", "min_ratings"),
        "ratings_out_of_order": ("count", "window_minutes"),
    }
    common = ("id", "kind", "label_vi", "label_en")
    every = (*common, *(key for keys in own.values() for key in keys))
    t = _Table(source, f"[[alerts]] #{number} ", data, every)
    alert_id = t.identifier("id", "unsatisfied-at-counter")
    t.where = f"[[alerts]] {alert_id!r} "
    if alert_id in taken:
        raise t.error("id", "is used by an earlier alert; give each alert its own id")
    taken.add(alert_id)
    kind = t.string("kind", ALERT_KINDS[0], required=True)
    if kind not in own:
        raise t.error("kind", f"must be one of {', '.join(ALERT_KINDS)}, not {kind!r}")
    for key in t.data:
        if key not in (*common, *own[kind]):
            raise t.error(
                key, f"is not a setting of kind {kind} (its settings: {', '.join(own[kind])})"
            )
    label_vi = t.string("label_vi", "Nhiều đánh giá không hài lòng")
    label_en = t.string("label_en", "Several dissatisfied ratings")
    if kind == "unsatisfied_at_counter":
        count = t.integer("count", 3, 1)
        minutes = t.integer("window_minutes", 60, 1)
        assert count is not None and minutes is not None
        return UnsatisfiedAtCounter(
            id=alert_id,
            count=count,
            window_minutes=minutes,
            label_vi=label_vi
            or f"{count} đánh giá “Không hài lòng” tại một quầy trong {minutes} phút",
            label_en=label_en
            or f"{count} “Dissatisfied” ratings at one counter within {minutes} minutes",
        )
    if kind == "ratings_out_of_order":
        count = t.integer("count", 1, 1)
        minutes = t.integer("window_minutes", 60, 1)
        assert count is not None and minutes is not None
        return RatingsOutOfOrder(
            id=alert_id,
            count=count,
            window_minutes=minutes,
            label_vi=label_vi
            or f"Đánh giá sai thứ tự trên một thiết bị: {count} trong {minutes} phút",
            label_en=label_en
            or f"Ratings out of order on one unit: {count} within {minutes} minutes",
        )
    if not t.has("threshold_pct"):
        raise t.error("threshold_pct", "is required, e.g. threshold_pct = 70")
    threshold = t.number("threshold_pct", None, 0, 100, open_low=True)
    min_ratings = t.integer("min_ratings", 10, 1)
    assert threshold is not None and min_ratings is not None
    vi_t, en_t = _num(threshold, "vi"), _num(threshold, "en")
    return UnitSatisfiedBelow(
        id=alert_id,
        threshold_pct=threshold,
        min_ratings=min_ratings,
        label_vi=label_vi
        or f"Tỷ lệ hài lòng của đơn vị trong ngày dưới {vi_t} % (từ {min_ratings} đánh giá)",
        label_en=label_en
        or f"Unit's satisfied share for the day below {en_t} % (from {min_ratings} ratings)",
    )


def parse_policy(text: str, source: str) -> Policy:
    """A policy from TOML text; `source` names it in errors and is kept with the policy."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML ({exc})") from None
    allowed = (
        "version",
        "name",
        "description",
        "min_ratings",
        "misuse",
        "classification",
        "alerts",
    )
    t = _Table(source, "", data, allowed)
    version = t.string("version", "2026-12-default", required=True)
    min_ratings = t.integer("min_ratings", 30, 1)
    assert version is not None and min_ratings is not None
    taken: set[str] = set()
    return Policy(
        version=version,
        name=t.string("name", "Chính sách mẫu"),
        description=t.string("description", "Ví dụ chính sách địa phương"),
        min_ratings=min_ratings,
        misuse=_misuse(source, t.data.get("misuse", {})),
        classification=_class_rules(source, t.tables("classification")),
        alerts=tuple(_alert(source, n, a, taken) for n, a in enumerate(t.tables("alerts"), 1)),
        source=source,
    )


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the shipped default (server/policy-default.toml) for None."""
    if path is None:
        text = resources.files("server").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
        return parse_policy(text, BUILT_IN)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file; check the path") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text; save the policy file as UTF-8") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_policy(text, str(path))
