"""Report rows per officer, counter, field (lĩnh vực) and unit, for any period, with the period
before beside each.

A report reads its counts (server/reporting/counts.py) and the registry rows it names, so a
province's year opens as fast as a commune's week. Every figure is made from those counts by
server/reporting/scoring.py, every classification by server/policy/; its JSON form is
server/reporting/report_json.py's.

The API, its CSV and XLSX exports, the monthly print report and the dashboard all call these, so
one number is the same number everywhere. Days are Vietnam days (server/reporting/periods.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlmodel import Session, col, select

from server.policy import Classification, Policy, classify, load_policy
from server.reporting import scoring
from server.reporting.counts import Counts, Filters, combine, read_counts
from server.reporting.periods import Period, check_years, comparable_previous, period_of
from server.reporting.reading import GroupBy
from server.reporting.reason_reach import reason_reach
from server.reporting.report_json import Scope, period_dict, row_dict, rows_key
from server.reporting.scoring import Figures
from server.reporting.spans import DayRow as DayRow  # the span figures, offered here too
from server.reporting.spans import daily_report as daily_report
from server.reporting.spans import officer_figures as officer_figures
from server.reporting.spans import period_report as period_report
from server.storage.models import Counter, CounterField, Officer, ServiceField, Unit
from server.timeutil import vn_day

# The rollup column a scope's counts are grouped by; a field's are its counters' counts.
_GROUP_BY: dict[Scope, GroupBy] = {
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
    left them out (`figures.flagged` counts those) or counted them; `channels`: the counted
    ratings per input (button, touch, keyboard, web, paper), every input named.
    """

    id: str
    name: str
    unit_id: str  # "" for a field's row, or a total over several units
    title: str | None
    figures: Figures
    previous: Figures | None = None  # its ratings only: no reasons, no response rate
    flags: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
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
            channels=c.channel_counts(flagged),
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
    today: date | None = None


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
            "reason_reach": reason_reach(),
        }


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


def _moved_away(
    session: Session, unit_id: str, entities: list[Entity], current: Mapping[Any, Counts]
) -> list[Entity]:
    """Officers rated at the unit who have since moved to another keep their rows in its report:
    their ratings carry the unit they were given."""
    listed = {e.id for e in entities}
    moved = sorted(k for k in current if k is not None and k not in listed)
    if not moved:
        return entities
    oq = select(col(Officer.id), col(Officer.name), col(Officer.title))
    found = session.execute(oq.where(col(Officer.id).in_(moved))).all()
    added = [Entity(i, n, unit_id, t, (i,)) for i, n, t in found]
    return sorted([*entities, *added], key=lambda e: (e.name, e.id))


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
    previous = comparable_previous(query.period, query.today or vn_day(datetime.now(UTC)))
    current = read_counts(session, query.period.start, query.period.end, by, filters)
    if query.scope == "officer" and query.unit_id is not None and query.officer_id is None:
        entities = _moved_away(session, query.unit_id, entities, current)
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
        channels=counts.channel_counts(flagged),
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
