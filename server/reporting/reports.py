"""Report figures per officer, counter, field (lĩnh vực) and unit, for any period.

SQL only counts: a report reads the rollups (server/reporting/rollups.py), one statement per family
(ratings, reasons, flags, services) and period, plus the registry rows it names, so a
province's year opens as fast as a commune's week. Every figure is made from those counts by
server/reporting/scoring.py, every classification by server/policy.py.

The API, its CSV and XLSX exports, the monthly print report and the dashboard all call these, so
one number is the same number everywhere. Days are Vietnam days (server/reporting/periods.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import Any, Literal

from sqlmodel import Session, col, select

from server.policy import Classification, Policy, classify, load_policy
from server.reporting import rollups, scoring
from server.reporting.periods import Period, check_years, period_of
from server.reporting.scoring import Figures, LevelTally
from server.storage import flags
from server.storage.models import Counter, CounterField, Officer, ServiceField, Unit

Scope = Literal["officer", "counter", "field", "unit"]
SCOPES: tuple[Scope, ...] = ("officer", "counter", "field", "unit")
ID_KEYS: dict[Scope, str] = {
    "officer": "officer_id",
    "counter": "counter_id",
    "field": "field_id",
    "unit": "unit_id",
}
# The rollup column a scope's counts are grouped by; a field's are its counters' counts.
_GROUP_BY: dict[Scope, rollups.GroupBy] = {
    "officer": "officer_id",
    "counter": "counter_id",
    "field": "counter_id",
    "unit": "unit_id",
}
TOTAL_VI = "Tổng cộng"


@cache
def default_policy() -> Policy:
    """The shipped policy, for callers without the server's own at hand (the benchmark, tests,
    the screenshot); the server and its dashboard use HAILONG_POLICY_FILE's."""
    return load_policy(None)


def period_between(start: date, end: date) -> Period:
    """start..end as the calendar day, month, quarter or year it is, else as a range: so the
    previous period of 1–31 October is September, not the 31 days before."""
    check_years(start, end)
    for kind in ("day", "month", "quarter", "year"):
        candidate = period_of(kind, start)
        if (candidate.start, candidate.end) == (start, end):
            return candidate
    return period_of("range", start, end)


# --- counts -----------------------------------------------------------------------------------


def _plus(a: LevelTally | None, b: LevelTally) -> LevelTally:
    if a is None:
        return b
    return LevelTally(a.n + b.n, a.flagged + b.flagged, a.ticketed + b.ticketed)


@dataclass
class Counts:
    """One group's rollup counts for a period: an officer's, a counter's, a unit's or a day's.
    `flags` is how many ratings carried each flag, left out of scores or not; `announced` is
    None where the queue system reported no services at all."""

    levels: dict[tuple[str, int], LevelTally] = field(default_factory=dict)
    reasons: dict[str, tuple[int, int]] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    announced: int | None = None

    def add(self, other: Counts) -> None:
        for key, tally in other.levels.items():
            self.levels[key] = _plus(self.levels.get(key), tally)
        for code, (n, flagged) in other.reasons.items():
            had_n, had_flagged = self.reasons.get(code, (0, 0))
            self.reasons[code] = (had_n + n, had_flagged + flagged)
        for name, n in other.flags.items():
            self.flags[name] = self.flags.get(name, 0) + n
        if other.announced is not None:
            self.announced = (self.announced or 0) + other.announced

    def figures(self, include_flagged: bool) -> Figures:
        return scoring.figures(self.levels, self.reasons, self.announced, include_flagged)

    def flag_counts(self) -> dict[str, int]:
        """The flags that occur, in server/storage/flags.py's order (any unknown to it after, by
        name)."""
        known = [name for name in flags.NAMES if self.flags.get(name)]
        others = sorted(name for name, n in self.flags.items() if n and name not in flags.BY_NAME)
        return {name: self.flags[name] for name in (*known, *others)}

    def rating_figures(self, include_flagged: bool) -> Figures:
        """Without reasons or services: a previous period shows only its ratings, satisfied %
        and happy index, and a province's table computes one for every officer."""
        return scoring.figures(self.levels, None, None, include_flagged)


def combine(parts: Iterable[Counts | None]) -> Counts:
    """The parts' sum, as a new Counts; a single part is itself (an officer's row has one
    group, and copying 2,000 of them was a tenth of a province's table)."""
    found = [part for part in parts if part is not None]
    if len(found) == 1:
        return found[0]
    total = Counts()
    for part in found:
        total.add(part)
    return total


@dataclass(frozen=True)
class Filters:
    """What every count of a report is limited to; None: no limit."""

    unit_id: str | None = None
    officer_id: str | None = None
    counter_ids: tuple[str, ...] | None = None


def _tallies(
    session: Session,
    family: rollups.Family,
    start: date,
    end: date,
    by: rollups.GroupBy | None,
    filters: Filters,
) -> list[tuple[Any, ...]]:
    return rollups.tallies(
        session,
        family,
        start,
        end,
        [by] if by else [],
        unit_id=filters.unit_id,
        officer_id=filters.officer_id,
        counter_ids=filters.counter_ids,
    )


def _key(row: Sequence[Any], by: rollups.GroupBy | None) -> Any:
    return row[0] if by else None


def _read_levels(
    session: Session,
    start: date,
    end: date,
    by: rollups.GroupBy | None,
    filters: Filters,
    into: dict[Any, Counts],
) -> None:
    for row in _tallies(session, rollups.RATINGS, start, end, by, filters):
        scale, score, n, flagged, ticketed = row[-5:]
        # `ticketed` counts only unflagged ratings: a flagged one is never a rated service.
        counts = into.setdefault(_key(row, by), Counts())
        counts.levels[(scale, int(score))] = LevelTally(n, flagged, ticketed)


def read_counts(
    session: Session,
    start: date,
    end: date,
    by: rollups.GroupBy | None,
    filters: Filters,
    levels_only: bool = False,
) -> dict[Any, Counts]:
    """Every group's counts for start..end in four statements, one per rollup family (one with
    `levels_only`, as a previous period needs); with `by` None all of them are one group, keyed
    None."""
    found: dict[Any, Counts] = {}
    _read_levels(session, start, end, by, filters, found)
    if levels_only:
        return found
    for row in _tallies(session, rollups.REASONS, start, end, by, filters):
        reason, n, flagged = row[-3:]
        found.setdefault(_key(row, by), Counts()).reasons[reason] = (n, flagged)
    for row in _tallies(session, rollups.FLAGS, start, end, by, filters):
        name, n = row[-2:]
        found.setdefault(_key(row, by), Counts()).flags[name] = n
    # Grouped by unit even for one group: with no group and no detail columns, a SUM over no
    # rows would come back as one row of NULL.
    for row in _tallies(session, rollups.SERVICES, start, end, by or "unit_id", filters):
        counts = found.setdefault(_key(row, by), Counts())
        counts.announced = (counts.announced or 0) + row[-1]
    return found


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """What a report row is about, and the rollup groups whose counts are its counts."""

    id: str
    name: str
    unit_id: str  # "" for a field, which belongs to no unit
    title: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """One officer's, counter's, field's or unit's figures for the period and the one before.

    `rank` is by Wilson lower bound among the report's rows with at least the policy's minimum
    of ratings; the others are not ranked ("chưa đủ dữ liệu") and, for officers, not classified.
    `flags`: how many of the period's ratings carried each flag that occurs, whether the policy
    left them out (`figures.flagged` counts those) or counted them.
    """

    id: str
    name: str
    unit_id: str  # "" for a field's row, or a total over several units
    title: str | None
    figures: Figures
    previous: Figures | None = None  # its ratings only: no reasons, no response rate
    flags: dict[str, int] = field(default_factory=dict)
    ranked: bool = False
    rank: int | None = None
    classification: Classification | None = None

    @property
    def change_satisfied_pct(self) -> float | None:
        before = None if self.previous is None else self.previous.satisfied_pct
        return scoring.change(self.figures.satisfied_pct, before)

    @property
    def change_happy_index(self) -> float | None:
        before = None if self.previous is None else self.previous.happy_index
        return scoring.change(self.figures.happy_index, before)


@dataclass(frozen=True)
class DayRow:
    day: date
    figures: Figures


def build_rows(
    entities: Sequence[Entity],
    current: Mapping[Any, Counts],
    previous: Mapping[Any, Counts],
    *,
    include_flagged: bool,
    policy: Policy,
    classified: bool,
) -> list[Row]:
    """Pure: entities and their groups' counts → rows, ranked among themselves."""
    flagged = include_flagged
    counts = [combine(map(current.get, e.groups)) for e in entities]
    now = [c.figures(flagged) for c in counts]
    before = [combine(map(previous.get, e.groups)).rating_figures(flagged) for e in entities]
    standings = scoring.rank(now, lambda f: f.ratings, lambda f: f.wilson_low, policy.min_ratings)
    return [
        Row(
            id=e.id,
            name=e.name,
            unit_id=e.unit_id,
            title=e.title,
            figures=fig,
            previous=prev,
            ranked=standing.ranked,
            rank=standing.rank,
            classification=classify(fig, policy) if classified else None,
            flags=c.flag_counts(),
        )
        for e, c, fig, prev, standing in zip(entities, counts, now, before, standings, strict=True)
    ]


# --- reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a report is of: one row per `scope` entity, counts limited to the filters.

    `field_id` limits the counts to the counters serving that field; `officer_id` to that
    officer's ratings. Flagged ratings are left out of every figure unless `include_flagged`.
    """

    scope: Scope
    period: Period
    unit_id: str | None = None
    officer_id: str | None = None
    field_id: str | None = None
    include_flagged: bool = False


@dataclass(frozen=True)
class Report:
    query: Query
    previous: Period
    policy_version: str
    policy_name: str | None
    min_ratings: int
    rows: list[Row]
    total: Row

    def as_dict(self) -> dict[str, Any]:
        """The report as the API answers it (less the run's own fields, which the API adds)."""
        q = self.query
        return {
            "scope": q.scope,
            "period": period_dict(q.period),
            "previous": period_dict(self.previous),
            "filters": {"unit_id": q.unit_id, "officer_id": q.officer_id, "field_id": q.field_id},
            "include_flagged": q.include_flagged,
            "policy_version": self.policy_version,
            "policy_name": self.policy_name,
            "min_ratings": self.min_ratings,
            rows_key(q.scope): [row_dict(row, q.scope) for row in self.rows],
            "total": row_dict(self.total, None),
        }


def rows_key(scope: Scope) -> str:
    """Officers' rows are under "officers", as API clients have always read them."""
    return "officers" if scope == "officer" else "rows"


def period_dict(period: Period) -> dict[str, str]:
    return {
        "text": period.text,
        "kind": period.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label_vi": period.label_vi,
        "label_en": period.label_en,
    }


def classification_dict(c: Classification | None) -> dict[str, str] | None:
    if c is None:
        return None
    return {
        "code": c.code,
        "label_vi": c.label_vi,
        "label_en": c.label_en,
        "rule": c.rule,
        "rule_en": c.rule_en,
    }


def row_dict(row: Row, scope: Scope | None) -> dict[str, Any]:
    """A row as JSON, and so as every export; `scope` None for the total, which names nothing
    and is not ranked. Percentages are 0..100 with 2 decimals, None where there is nothing."""
    f, p = row.figures, row.previous
    out: dict[str, Any] = {}
    if scope is not None:
        out[ID_KEYS[scope]] = row.id
        out["name"] = row.name
        if scope in ("officer", "counter"):
            out["unit_id"] = row.unit_id
        if scope == "officer":
            out["title"] = row.title
    out.update(
        {
            "ratings": f.ratings,
            "flagged": f.flagged,
            "flags": row.flags,
            "counts": f.counts,
            "satisfied": f.satisfied,
            "satisfied_pct": f.satisfied_pct,
            "wilson_low": f.wilson_low,
            "wilson_high": f.wilson_high,
            "unsatisfied_pct": f.unsatisfied_pct,
            "happy_index": f.happy_index,
            "mean_score": f.mean_score,
            "rated_services": f.rated_services,
            "announced": f.announced,
            "response_rate": f.response_rate,
            "reasons": f.reasons,
            "reason_counts": f.reason_counts,
            "previous_ratings": None if p is None else p.ratings,
            "previous_satisfied_pct": None if p is None else p.satisfied_pct,
            "previous_happy_index": None if p is None else p.happy_index,
            "change_satisfied_pct": row.change_satisfied_pct,
            "change_happy_index": row.change_happy_index,
        }
    )
    if scope is not None:
        out["ranked"] = row.ranked
        out["rank"] = row.rank
    if scope == "officer":
        out["classification"] = classification_dict(row.classification)
    return out


def digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of a report's content as canonical JSON: the same query on the same counts and
    policy gives the same digest, whichever format it was read in, so a rerun can prove it."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _field_counters(session: Session, unit_id: str | None) -> dict[str, list[str]]:
    """Field id → the counters (of the unit, or all) serving it."""
    q = select(col(CounterField.field_id), col(CounterField.counter_id)).order_by(
        col(CounterField.field_id), col(CounterField.counter_id)
    )
    if unit_id is not None:
        q = q.join(Counter, col(Counter.id) == col(CounterField.counter_id)).where(
            Counter.unit_id == unit_id
        )
    served: dict[str, list[str]] = defaultdict(list)
    for field_id, counter_id in session.execute(q).all():
        served[field_id].append(counter_id)
    return dict(served)


def _entities(
    session: Session, query: Query, served: Mapping[str, list[str]] | None
) -> list[Entity]:
    """The report's rows-to-be, in the order shown (unit, then name); one statement."""
    if query.scope == "officer":
        oq = select(
            col(Officer.id), col(Officer.name), col(Officer.unit_id), col(Officer.title)
        ).order_by(col(Officer.unit_id), col(Officer.name), col(Officer.id))
        if query.unit_id is not None:
            oq = oq.where(Officer.unit_id == query.unit_id)
        if query.officer_id is not None:
            oq = oq.where(Officer.id == query.officer_id)
        # rows, not ORM objects: 2,000 of them add up
        return [Entity(i, n, u, t, (i,)) for i, n, u, t in session.execute(oq).all()]
    if query.scope == "counter":
        cq = select(col(Counter.id), col(Counter.name), col(Counter.unit_id)).order_by(
            col(Counter.unit_id), col(Counter.name), col(Counter.id)
        )
        if query.unit_id is not None:
            cq = cq.where(Counter.unit_id == query.unit_id)
        if query.field_id is not None:
            cq = cq.where(col(Counter.id).in_((served or {}).get(query.field_id, [])))
        return [Entity(i, n, u, None, (i,)) for i, n, u in session.execute(cq).all()]
    if query.scope == "unit":
        uq = select(col(Unit.id), col(Unit.name)).order_by(col(Unit.name), col(Unit.id))
        if query.unit_id is not None:
            uq = uq.where(Unit.id == query.unit_id)
        return [Entity(i, n, i, None, (i,)) for i, n in session.execute(uq).all()]
    fq = select(col(ServiceField.id), col(ServiceField.name)).order_by(
        col(ServiceField.name), col(ServiceField.id)
    )
    if query.field_id is not None:
        fq = fq.where(ServiceField.id == query.field_id)
    served = served or {}
    return [
        Entity(i, n, "", None, tuple(served.get(i, ())))
        for i, n in session.execute(fq).all()
        # A unit's report lists the fields its counters serve; the province's, every field.
        if query.unit_id is None or i in served
    ]


def report(session: Session, query: Query, policy: Policy) -> Report:
    """One row per officer, counter, field or unit, the previous period's figures beside each,
    and the rows' total. A field's figures are those of the counters serving it, so a counter
    serving two fields counts in both (the total counts it once).

    An officer's figures are the ratings they got at the counters of the unit filter (all
    counters without one); officers are listed by their own unit."""
    served = None
    if query.scope == "field" or query.field_id is not None:
        served = _field_counters(session, query.unit_id)
    counter_ids = None
    if query.field_id is not None:
        counter_ids = tuple((served or {}).get(query.field_id, ()))
    filters = Filters(query.unit_id, query.officer_id, counter_ids)
    entities = _entities(session, query, served)
    by = _GROUP_BY[query.scope]
    previous = query.period.previous()
    current = read_counts(session, query.period.start, query.period.end, by, filters)
    before = read_counts(session, previous.start, previous.end, by, filters, levels_only=True)
    made = build_report(query, previous, entities, current, before, policy)
    if query.scope == "officer" and query.officer_id is not None:
        return _ranked_among_peers(session, made, policy)
    return made


def _ranked_among_peers(session: Session, made: Report, policy: Policy) -> Report:
    """One officer's report ranks them among the officers of their unit, not alone (where any
    officer with enough ratings would be first); their figures stay their own."""
    query = made.query
    officer = session.get(Officer, query.officer_id)
    if officer is None or not made.rows:
        return made
    peers = report(
        session, replace(query, officer_id=None, unit_id=query.unit_id or officer.unit_id), policy
    )
    standing = {row.id: (row.ranked, row.rank) for row in peers.rows}
    ranked, rank = standing.get(officer.id, (False, None))
    rows = [replace(row, ranked=ranked, rank=rank) for row in made.rows]
    return replace(made, rows=rows)


def build_report(
    query: Query,
    previous: Period,
    entities: Sequence[Entity],
    current: Mapping[Any, Counts],
    before: Mapping[Any, Counts],
    policy: Policy,
) -> Report:
    """Pure: the rows, and their total over every group counted once."""
    rows = build_rows(
        entities,
        current,
        before,
        include_flagged=query.include_flagged,
        policy=policy,
        classified=query.scope == "officer",
    )
    groups = sorted({g for e in entities for g in e.groups})
    flagged = query.include_flagged
    counts = combine(current.get(g) for g in groups)
    total = Row(
        id="",
        name=TOTAL_VI,
        unit_id=query.unit_id or "",
        title=None,
        figures=counts.figures(flagged),
        previous=combine(before.get(g) for g in groups).rating_figures(flagged),
        flags=counts.flag_counts(),
    )
    return Report(
        query=query,
        previous=previous,
        policy_version=policy.version,
        policy_name=policy.name,
        min_ratings=policy.min_ratings,
        rows=rows,
        total=total,
    )


# --- the dashboard's and the benchmark's entry points --------------------------------------


def officer_report(
    session: Session,
    start: date,
    end: date,
    unit_id: str | None = None,
    *,
    policy: Policy | None = None,
    include_flagged: bool = False,
) -> list[Row]:
    """Every officer (of one unit, or all), with the ratings pressed on start..end inclusive."""
    query = Query("officer", period_between(start, end), unit_id, include_flagged=include_flagged)
    return report(session, query, policy or default_policy()).rows


def period_report(
    session: Session,
    start: date,
    end: date,
    unit_id: str | None = None,
    *,
    include_flagged: bool = False,
) -> Figures:
    """All ratings pressed on start..end inclusive (of one unit, or all), as one row; unlike an
    officer report's total it includes those pressed while nobody was assigned."""
    found = read_counts(session, start, end, None, Filters(unit_id))
    return combine([found.get(None)]).figures(include_flagged)


def daily_report(
    session: Session,
    start: date,
    end: date,
    unit_id: str | None = None,
    *,
    officer_id: str | None = None,
    include_flagged: bool = False,
) -> list[DayRow]:
    """Satisfaction per Vietnam day that has ratings, in order, for the charts; one statement
    (no reasons or services per day)."""
    found: dict[Any, Counts] = {}
    _read_levels(session, start, end, "day", Filters(unit_id, officer_id), found)
    return [DayRow(day, found[day].figures(include_flagged)) for day in sorted(found)]


def officer_figures(
    session: Session, officer_id: str, start: date, end: date, *, include_flagged: bool = False
) -> Figures:
    """One officer's ratings pressed on start..end inclusive, at whatever counter, as one row."""
    found = read_counts(session, start, end, None, Filters(officer_id=officer_id))
    return combine([found.get(None)]).figures(include_flagged)


def figures(levels: Mapping[tuple[str, int], int]) -> Figures:
    """Figures of plain level counts (none flagged, no tickets, reasons or services), for
    counts made elsewhere: the benchmark's raw GROUP BY, chart fixtures."""
    return scoring.figures({key: LevelTally(n) for key, n in levels.items()})
