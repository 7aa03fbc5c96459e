"""Viewers see no group drawn from fewer than the policy's `viewer_min_officers` (default 3).

A figure of one counter where one officer sat all month is that officer's figure, name or no
name: a viewer who knows the rota (or matches a nameless officer row to it) reads it off. So for
a role without names, every row (officer, counter, field, unit) whose figures come from fewer
than N distinct officers in the period keeps its id and name but loses its figures, marked
`suppressed` with "Ẩn: ít hơn N cán bộ"; the previous period's figures and the change are held
to the same rule on that period's officers.

A total minus the rows shown gives the hidden rows' sum, so when the hidden rows together come
from fewer than N officers, the shown row with the fewest officers is hidden too, until they do
(or all are); the total itself is hidden only when it is drawn from fewer than N.

Who counts: officers whose ratings count in the figures (flagged ones only when the report
includes them); ratings pressed while nobody was on duty name no one and count no officer. The
officers are read from the ratings rollup with the period split as `reading.split_range` splits
it (a year is one read of year rows), grouped in the database, so it costs one statement.

What this cannot stop: differences between overlapping periods a viewer asks for one by one
(1–30 November minus 1–29 November is 30 November). docs/policy.md says so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Literal

from sqlalchemy import false, func, select, union_all
from sqlmodel import Session, col

from server.reporting.reading import split_range
from server.reporting.report_json import ID_KEYS, Scope, rows_key
from server.storage.models import Counter, CounterField
from server.storage.rollups import NO_OFFICER, RATINGS, as_date

Key = Literal["officer_id", "counter_id", "unit_id"]
_KEY: dict[Scope, Key] = {
    "officer": "officer_id",
    "counter": "counter_id",
    "field": "counter_id",
    "unit": "unit_id",
}
# A row's figures of the period and of the previous one: a hidden row shows none of them.
_NOW_NUMBERS = (
    "ratings",
    "flagged",
    "satisfied",
    "satisfied_pct",
    "wilson_low",
    "wilson_high",
    "unsatisfied_pct",
    "happy_index",
    "mean_score",
    "rated_services",
    "announced",
    "response_rate",
    "rank",
    "classification",
)
_NOW_MAPS = ("flags", "channels", "counts", "reasons", "reason_counts")
_BEFORE = (
    "previous_ratings",
    "previous_satisfied_pct",
    "previous_happy_index",
    "change_satisfied_pct",
    "change_happy_index",
)


def marker_vi(n: int) -> str:
    return f"Ẩn: ít hơn {n} cán bộ"


def marker_en(n: int) -> str:
    return f"Hidden: fewer than {n} officers"


def officers_by(
    session: Session,
    start: date,
    end: date,
    key: Key,
    *,
    unit_id: str | None = None,
    counter_ids: Collection[str] | None = None,
    include_flagged: bool = False,
) -> dict[str, frozenset[str]]:
    """Key value → the officers whose ratings on start..end count in its figures."""
    table_of = RATINGS.tables
    queries = []
    for part in split_range(start, end):
        table = table_of[part.level]
        when = table.c[part.level]
        counted = table.c.n if include_flagged else table.c.n - table.c.flagged
        q = select(table.c[key].label("key"), table.c.officer_id).where(
            when >= part.first, when <= part.last, table.c.officer_id != NO_OFFICER
        )
        if unit_id is not None:
            q = q.where(table.c.unit_id == unit_id)
        if counter_ids is not None:
            q = q.where(table.c.counter_id.in_(list(counter_ids)) if counter_ids else false())
        group = (table.c[key], table.c.officer_id)
        queries.append(q.group_by(*group).having(func.sum(counted) > 0))
    if not queries:
        return {}
    rows = session.execute(queries[0] if len(queries) == 1 else union_all(*queries)).all()
    found: dict[str, set[str]] = {}
    for value, officer in rows:
        found.setdefault(value, set()).add(officer)
    return {value: frozenset(officers) for value, officers in found.items()}


def field_counters(session: Session, unit_id: str | None) -> dict[str, list[str]]:
    """Field id → the counters (of the unit, or all) serving it: a field row's groups."""
    q = select(col(CounterField.field_id), col(CounterField.counter_id))
    if unit_id is not None:
        q = q.join(Counter, col(Counter.id) == col(CounterField.counter_id))
        q = q.where(col(Counter.unit_id) == unit_id)
    served: dict[str, list[str]] = {}
    for field_id, counter_id in session.execute(q).all():
        served.setdefault(field_id, []).append(counter_id)
    return served


def hidden(sets: Sequence[frozenset[str]], has_ratings: Sequence[bool], n: int) -> set[int]:
    """Pure: the rows to hide. A row with ratings from fewer than `n` officers; then, while the
    hidden rows together come from fewer than `n` (a total minus the rows shown would give
    their sum), the shown row with ratings and the fewest officers too."""
    hide = {i for i, s in enumerate(sets) if has_ratings[i] and len(s) < n}
    while hide:
        pooled = frozenset().union(*(sets[i] for i in hide))
        shown = [i for i in range(len(sets)) if i not in hide and has_ratings[i]]
        if len(pooled) >= n or not shown:
            break
        hide.add(min(shown, key=lambda i: (len(sets[i]), i)))
    return hide


def _row_sets(
    rows: Sequence[Mapping[str, Any]],
    scope: Scope,
    found: Mapping[str, frozenset[str]],
    served: Mapping[str, list[str]] | None,
) -> list[frozenset[str]]:
    id_key = ID_KEYS[scope]
    if scope != "field":
        return [found.get(row.get(id_key) or "", frozenset()) for row in rows]
    return [
        frozenset().union(*(found.get(c, frozenset()) for c in (served or {}).get(row[id_key], ())))
        for row in rows
    ]


def _hide_now(row: dict[str, Any], n: int) -> None:
    """Every figure of the period and the previous one gone, the marker in their place."""
    row.update({key: None for key in (*_NOW_NUMBERS, *_BEFORE) if key in row})
    row.update({key: {} for key in _NOW_MAPS})
    if "ranked" in row:
        row["ranked"] = False
    row.update(suppressed=True, suppressed_vi=marker_vi(n), suppressed_en=marker_en(n))


def _pool(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*sets)


def suppress(session: Session, content: dict[str, Any], n: int) -> dict[str, Any]:
    """The report `content` (report_json's form, before names are dropped) with every group
    drawn from fewer than `n` officers hidden, rows and total alike; each row says whether it is
    (`suppressed`), and `privacy` gives the rule. Rows keep their order."""
    scope: Scope = content["scope"]
    key = rows_key(scope)
    rows = [dict(row) for row in content[key]]
    total = dict(content["total"])
    unit_id, field_id = content["filters"]["unit_id"], content["filters"]["field_id"]
    served = field_counters(session, unit_id) if scope == "field" or field_id else None
    counter_ids = None if field_id is None else (served or {}).get(field_id, [])
    for period_key, counted in (("period", "ratings"), ("previous", "previous_ratings")):
        now = period_key == "period"
        found = officers_by(
            session,
            date.fromisoformat(content[period_key]["start"]),
            date.fromisoformat(content[period_key]["end"]),
            _KEY[scope],
            unit_id=unit_id,
            counter_ids=counter_ids,
            include_flagged=bool(content["include_flagged"]),
        )
        sets = _row_sets(rows, scope, found, served)
        # A row with ratings, counted or flagged: a flagged-only row still shows its flags.
        has = [bool(row.get(counted) or (now and row.get("flagged"))) for row in rows]
        hide = hidden(sets, has, n)
        if len(_pool(sets)) < n and (total.get(counted) or (now and total.get("flagged"))):
            hide.add(-1)
        for i in hide:
            target = total if i == -1 else rows[i]
            if now:
                _hide_now(target, n)
            else:
                target.update(dict.fromkeys(_BEFORE))
    for row in (*rows, total):
        row.setdefault("suppressed", False)
    privacy = {"viewer_min_officers": n, "suppressed_rows": sum(r["suppressed"] for r in rows)}
    return {**content, key: rows, "total": total, "privacy": privacy}


def _day_officers(start: date, end: date, unit_id: str | None, include_flagged: bool) -> Any:
    """(day, officer_id) of every officer whose ratings count on each day, as a subquery."""
    table = RATINGS.tables["day"]
    counted = table.c.n if include_flagged else table.c.n - table.c.flagged
    q = select(table.c.day, table.c.officer_id).where(
        table.c.day >= start, table.c.day <= end, table.c.officer_id != NO_OFFICER
    )
    if unit_id is not None:
        q = q.where(table.c.unit_id == unit_id)
    group = (table.c.day, table.c.officer_id)
    return q.group_by(*group).having(func.sum(counted) > 0).subquery()


def shown_days(
    session: Session,
    start: date,
    end: date,
    n: int,
    *,
    unit_id: str | None,
    include_flagged: bool,
) -> set[date] | None:
    """The days of a viewer's daily trend: those drawn from at least `n` officers. None: every
    day, as every day was. If the days left out come together from fewer than `n` officers
    (the period's total minus the days shown would give theirs), no day is shown: a small
    unit's trend is not a viewer's."""
    pairs = _day_officers(start, end, unit_id, include_flagged)
    per_day = session.execute(select(pairs.c.day, func.count()).group_by(pairs.c.day)).all()
    enough = {as_date(day) for day, officers in per_day if officers >= n}
    if len(enough) == len(per_day):
        return None
    left_out = [day for day, officers in per_day if officers < n]
    pooled = session.execute(
        select(func.count(func.distinct(pairs.c.officer_id))).where(pairs.c.day.in_(left_out))
    ).scalar_one()
    return enough if pooled >= n else set()
