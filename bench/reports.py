"""How fast the reports open over a province's year, on this machine: `python bench/reports.py`.

A year of ratings (10,000,000 from 2,000 officers in 100 communes; `--quick`: 200,000 from 200)
is stored on SQLite (a file) and on a PostgreSQL started here, with exactly the columns the
ingest writes; the rollups are then built by `server.reporting.recount.rebuild`, whose time is
shown. Both databases are kept under .cache/bench/ and reused by the next run (the key is the size,
the generator and the migrations), so only the first run builds them.

Measured on each database (PostgreSQL with its default settings, SQLite with the server's
engine): (1) one officer's year (`reports.officer_figures`) for random officers, (2) the table of
all officers for the year that HR opens (`reports.officer_report`), against (3) the baseline
measured in the same run: that report as it was before the rollups, a GROUP BY over the raw
ratings; the ratio is (3)'s median over (2)'s p95. Also shown: (1) and (2) over the raw ratings
and over a period of ragged months, for comparison, and whether the rollups' figures equal the
raw ones. The machine's load is shown too: on a shared machine the figures move with it.
`--database sqlite|postgresql` measures one. It reports; it asserts nothing. Progress goes to
stderr; the last line is key=value figures for scripts.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from devtools.bench import percentile, postgres, print_figures, print_table, say, verdict  # noqa: E402
from devtools.figures import level_figures  # noqa: E402
from server.reporting import recount, reports  # noqa: E402
from server.storage.db import MIGRATIONS, make_engine, migrate  # noqa: E402
from server.storage.flags import EXCLUDED_BY_DEFAULT  # noqa: E402
from server.storage.models import Assignment, Counter, Device, Officer, Rating, Unit  # noqa: E402
from server.storage.rows import COLUMNS as RATING_COLUMNS  # noqa: E402
from server.timeutil import VN_TZ  # noqa: E402
from system.simulator import officer_name  # noqa: E402

GOAL_OFFICER_P95_MS = 10.0
GOAL_ALL_P95_MS = 200.0
GOAL_RATIO = 50.0
YEAR = 2025
CACHE = ROOT / ".cache" / "bench"
GENERATOR = 1  # bump when the data set below changes, so that cached databases are rebuilt
SEED = 2025
PROGRESS_EVERY_S = 5.0
WARMUP = 5  # runs not counted: the first ones fill caches and prepare statements

# Public holidays of 2025 on which the one-stop offices are closed (Tết: 25 Jan – 2 Feb).
HOLIDAYS = {
    date(2025, 1, 1),
    *(date(2025, 1, 25) + timedelta(days=i) for i in range(9)),
    date(2025, 4, 7),
    *(date(2025, 4, 30) + timedelta(days=i) for i in range(5)),
    *(date(2025, 8, 30) + timedelta(days=i) for i in range(4)),
}
MORNING = (clock(7, 30), clock(11, 30))  # office hours; Saturday is the morning only
AFTERNOON = (clock(13, 30), clock(17, 0))
SATURDAY_SHARE = 0.5  # a Saturday morning sees half a weekday's citizens
UNATTENDED_SHARE = 0.3  # the reception counter with nobody assigned, against an officer's
REASON_LISTS = (
    "wait_time",
    "attitude",
    "guidance",
    "paperwork",
    "late_result",
    "facilities",
    "wait_time,paperwork",
    "attitude,guidance",
)


@dataclass(frozen=True)
class Size:
    ratings: int
    communes: int
    officers_per_commune: int

    @property
    def officers(self) -> int:
        return self.communes * self.officers_per_commune


QUICK = Size(200_000, 10, 20)
FULL = Size(10_000_000, 100, 20)


# --- the data set: a registry and how many ratings each counter gets each day -----------------


@dataclass(frozen=True)
class Desk:
    """A counter with its device and, but for each commune's reception, its one officer."""

    device_id: str
    counter_id: str
    unit_id: str
    officer_id: str | None
    thresholds: tuple[int, int, int]  # of 10,000: score 1 below the first, 2, 3, else 4
    weight: float


@dataclass(frozen=True)
class Day:
    day: date
    open_ms: int  # the morning opening, milliseconds since the epoch
    morning_ms: int
    lunch_ms: int  # from the morning's close to the afternoon's opening
    open_for_ms: int  # morning plus afternoon
    weight: float


@dataclass
class Plan:
    units: list[dict[str, Any]]
    counters: list[dict[str, Any]]
    officers: list[dict[str, Any]]
    desks: list[Desk]
    days: list[Day]
    counts: list[tuple[int, int, int, int]]  # day index, desk index, ratings, seq before them

    @property
    def most_in_a_day(self) -> int:
        return max(n for _, _, n, _ in self.counts)


def _ms(day: date, at: clock) -> int:
    return int(datetime.combine(day, at, VN_TZ).timestamp() * 1000)


def opening_days(year: int) -> list[Day]:
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() < 6 and day not in HOLIDAYS:
            saturday = day.weekday() == 5
            morning = _ms(day, MORNING[1]) - _ms(day, MORNING[0])
            afternoon = 0 if saturday else _ms(day, AFTERNOON[1]) - _ms(day, AFTERNOON[0])
            days.append(
                Day(
                    day=day,
                    open_ms=_ms(day, MORNING[0]),
                    morning_ms=morning,
                    lunch_ms=_ms(day, AFTERNOON[0]) - _ms(day, MORNING[1]),
                    open_for_ms=morning + afternoon,
                    weight=SATURDAY_SHARE if saturday else 1.0,
                )
            )
        day += timedelta(days=1)
    return days


def score_thresholds(rng: random.Random) -> tuple[int, int, int]:
    """Most officers satisfy 85–97 % of citizens; one in twenty does markedly worse."""
    if rng.random() < 0.05:
        p1, p2, p3 = rng.uniform(0.08, 0.2), rng.uniform(0.12, 0.25), rng.uniform(0.3, 0.4)
    else:
        p1, p2, p3 = rng.uniform(0.005, 0.05), rng.uniform(0.02, 0.1), rng.uniform(0.2, 0.45)
    return (round(p1 * 10_000), round((p1 + p2) * 10_000), round((p1 + p2 + p3) * 10_000))


def make_plan(size: Size) -> Plan:
    rng = random.Random(SEED)
    units, counters, officers, desks = [], [], [], []
    for u in range(1, size.communes + 1):
        unit_id = f"X{u:03d}"
        kind = "ward" if u % 4 == 0 else "commune"
        name = f"{'Phường' if kind == 'ward' else 'Xã'} {u:03d}"
        units.append({"id": unit_id, "name": name, "kind": kind, "province": "Bench"})
        for c in range(size.officers_per_commune + 1):
            counter_id = f"{unit_id}-Q{c:02d}"
            officer_id = f"{unit_id}-CB{c:02d}" if c else None
            counters.append(
                {"id": counter_id, "name": f"Quầy {c}" if c else "Tiếp nhận", "unit_id": unit_id}
            )
            if officer_id:
                officers.append(
                    {
                        "id": officer_id,
                        "name": officer_name(rng),
                        "unit_id": unit_id,
                        "title": "Công chức một cửa",
                        "active": True,
                    }
                )
            desks.append(
                Desk(
                    device_id=f"{unit_id}-D{c:02d}",
                    counter_id=counter_id,
                    unit_id=unit_id,
                    officer_id=officer_id,
                    thresholds=score_thresholds(rng),
                    weight=rng.uniform(0.5, 1.5) if officer_id else UNATTENDED_SHARE,
                )
            )
    days = opening_days(YEAR)
    mean_per_weight = size.ratings / (sum(d.weight for d in days) * sum(d.weight for d in desks))
    ns = []
    for day in days:
        for desk in desks:
            mean = mean_per_weight * day.weight * desk.weight
            ns.append(max(0, round(rng.gauss(mean, math.sqrt(mean)))))
    while (missing := size.ratings - sum(ns)) != 0:  # exactly the size asked for
        i = rng.randrange(len(ns))
        if missing > 0 or ns[i] > 0:
            ns[i] += 1 if missing > 0 else -1
    counts, seq = [], [0] * len(desks)
    for i, n in enumerate(ns):
        day_index, desk_index = divmod(i, len(desks))
        counts.append((day_index, desk_index, n, seq[desk_index]))
        seq[desk_index] += n
    return Plan(units, counters, officers, desks, days, counts)


def desk_rows(plan: Plan) -> list[tuple[Any, ...]]:
    return [(i, d.device_id, d.counter_id, d.unit_id, d.officer_id, *d.thresholds)
            for i, d in enumerate(plan.desks)]  # fmt: skip


def register(engine: Engine, plan: Plan) -> None:
    """The registry as the API would store it: units, counters, officers, their year-long
    assignments and one device per counter."""
    start = datetime.combine(date(YEAR, 1, 1), clock(0), VN_TZ)
    unit_columns = set(Unit.__table__.c.keys())  # type: ignore[attr-defined]
    with Session(engine) as session:
        for model, rows in (
            (Unit, [{k: v for k, v in u.items() if k in unit_columns} for u in plan.units]),
            (Counter, plan.counters),
            (Officer, plan.officers),
            (
                Device,
                [{"id": d.device_id, "counter_id": d.counter_id, "created_at": start}
                 for d in plan.desks],
            ),
            (
                Assignment,
                [{"officer_id": d.officer_id, "counter_id": d.counter_id, "start": start}
                 for d in plan.desks if d.officer_id],
            ),
        ):  # fmt: skip
            session.execute(insert(model), rows)
        session.commit()


class Progress:
    """A line on stderr at most every few seconds: how far, how fast, how long still."""

    def __init__(self, what: str, total: int, unit: str) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.started = self.last = time.monotonic()

    def __call__(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", about {(self.total - done) / rate:.0f} s left" if rate and not final else ""
        say(
            f"  {self.what}: {done:,} / {self.total:,} {self.unit} "
            f"({100 * done / self.total:.0f} %, {rate:,.0f}/s{left})"
        )


def rebuild_rollups(engine: Engine, name: str) -> tuple[int, float]:
    """server.reporting.recount.rebuild, timed, with a line per month."""
    started = time.monotonic()

    def progress(i: int, months: int, month: date) -> None:
        say(f"  {name}: rollups {i}/{months} months rebuilt ({month:%Y-%m})")

    counted = recount.rebuild(engine, EXCLUDED_BY_DEFAULT, progress)
    return counted, time.monotonic() - started


@dataclass
class Build:
    ratings: int
    insert_s: float
    rebuild_s: float
    built_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


# The rating columns in the order of the INSERTs below: all but the unit's boot and monotonic
# clock, left NULL.
COLUMNS = ", ".join(c for c in RATING_COLUMNS if c not in ("boot_id", "mono_ms"))
REASON_CASE = " ".join(f"WHEN {i} THEN '{r}'" for i, r in enumerate(REASON_LISTS))


# --- SQLite: per day, random draws into a temporary table, then one INSERT … SELECT ----------

SQLITE_PLAN = """
CREATE TEMP TABLE bench_desk (desk INTEGER PRIMARY KEY, device_id TEXT, counter_id TEXT,
    unit_id TEXT, officer_id TEXT, c1 INTEGER, c2 INTEGER, c3 INTEGER);
CREATE TEMP TABLE bench_count (day INTEGER, desk INTEGER, n INTEGER, seq0 INTEGER,
    PRIMARY KEY (day, desk));
CREATE TEMP TABLE bench_n (i INTEGER PRIMARY KEY);
CREATE TEMP TABLE bench_press (desk INTEGER, seq0 INTEGER, h TEXT, o INTEGER, r_score INTEGER,
    r_reason INTEGER, r_ticket INTEGER, r_delay INTEGER);
"""

# Drawn into a table first: SQLite may evaluate random() once per use of a subquery's column.
SQLITE_DRAW = """
INSERT INTO bench_press
SELECT c.desk, c.seq0, lower(hex(randomblob(16))),
       (random() & 9223372036854775807) % :open_for,
       (random() & 9223372036854775807) % 10000,
       (random() & 9223372036854775807) % 1000,
       (random() & 9223372036854775807) % 10000,
       (random() & 9223372036854775807) % 1450000
FROM bench_count c JOIN bench_n n ON n.i < c.n
WHERE c.day = :day_index
"""

SQLITE_INSERT = f"""
INSERT INTO rating ({COLUMNS})
SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'
       || substr('89ab', 1 + (instr('0123456789abcdef', substr(h, 17, 1)) - 1) % 4, 1)
       || substr(h, 18, 3) || '-' || substr(h, 21, 12),
       device_id,
       seq0 + row_number() OVER (PARTITION BY desk ORDER BY t),
       strftime('%Y-%m-%d %H:%M:%S', t / 1000, 'unixepoch') || printf('.%03d000', t % 1000),
       strftime('%Y-%m-%dT%H:%M:%S', t / 1000 + 25200, 'unixepoch')
       || CASE WHEN t % 1000 = 0 THEN '' ELSE printf('.%03d000', t % 1000) END || '+07:00',
       strftime('%Y-%m-%d %H:%M:%S', r / 1000000, 'unixepoch') || printf('.%06d', r % 1000000),
       :day, 'vn4', score, officer_id, counter_id, unit_id, officer_id, counter_id,
       CASE WHEN r_ticket < 6000 THEN printf('A%03d', r_ticket % 1000) END,
       CASE WHEN score <= 2 AND r_reason < 450 THEN CASE r_reason % 8 {REASON_CASE} END
            ELSE '' END,
       NULL, 'button', 1,
       CASE WHEN officer_id IS NULL THEN 'no_officer' ELSE '' END
FROM (
    SELECT p.*, device_id, counter_id, unit_id, officer_id, t * 1000 + 50000 + r_delay AS r,
           CASE WHEN r_score < c1 THEN 1 WHEN r_score < c2 THEN 2 WHEN r_score < c3 THEN 3
                ELSE 4 END AS score
    FROM (SELECT *, :open + CASE WHEN o < :morning THEN o ELSE o + :lunch END AS t
          FROM bench_press) p
    JOIN bench_desk d USING (desk)
)
ORDER BY t
"""


def build_sqlite(path: Path, plan: Plan) -> Build:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    register(engine, plan)
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")  # a cache: a crash while building means a rebuild
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB: the random ids' index stays in memory
    db.execute("PRAGMA temp_store=MEMORY")
    db.executescript(SQLITE_PLAN)
    db.executemany("INSERT INTO bench_desk VALUES (?, ?, ?, ?, ?, ?, ?, ?)", desk_rows(plan))
    db.executemany("INSERT INTO bench_count VALUES (?, ?, ?, ?)", plan.counts)
    db.executemany("INSERT INTO bench_n VALUES (?)", ((i,) for i in range(plan.most_in_a_day)))
    progress = Progress("sqlite", sum(n for _, _, n, _ in plan.counts), "ratings inserted")
    started, done = time.monotonic(), 0
    for i, day in enumerate(plan.days):
        db.execute("BEGIN")
        db.execute("DELETE FROM bench_press")
        db.execute(SQLITE_DRAW, {"day_index": i, "open_for": day.open_for_ms})
        done += db.execute(
            SQLITE_INSERT,
            {"day": day.day.isoformat(), "open": day.open_ms, "morning": day.morning_ms,
             "lunch": day.lunch_ms},
        ).rowcount  # fmt: skip
        db.execute("COMMIT")
        progress(done)
    progress(done, final=True)
    db.close()
    inserted_s = time.monotonic() - started
    engine = make_engine(f"sqlite:///{path}")
    counted, rebuild_s = rebuild_rollups(engine, "sqlite")
    engine.dispose()
    return Build(counted, inserted_s, rebuild_s)


# --- PostgreSQL: per day, one INSERT … SELECT over generate_series ----------------------------

PG_PLAN = """
CREATE TEMP TABLE bench_desk (desk integer PRIMARY KEY, device_id text, counter_id text,
    unit_id text, officer_id text, c1 integer, c2 integer, c3 integer);
CREATE TEMP TABLE bench_count (day integer, desk integer, n integer, seq0 integer,
    PRIMARY KEY (day, desk));
"""

PG_INSERT = f"""
WITH p AS MATERIALIZED (
    SELECT c.desk, c.seq0, gen_random_uuid()::text AS id,
           floor(random() * %(open_for)s)::bigint AS o,
           floor(random() * 10000)::integer AS r_score,
           floor(random() * 1000)::integer AS r_reason,
           floor(random() * 10000)::integer AS r_ticket,
           floor(random() * 1450000)::bigint AS r_delay
    FROM bench_count c CROSS JOIN LATERAL generate_series(1, c.n) AS g(i)
    WHERE c.day = %(day_index)s
), q AS (
    SELECT p.*, d.device_id, d.counter_id, d.unit_id, d.officer_id,
           %(open)s::bigint + CASE WHEN o < %(morning)s THEN o ELSE o + %(lunch)s END AS t,
           CASE WHEN r_score < c1 THEN 1 WHEN r_score < c2 THEN 2 WHEN r_score < c3 THEN 3
                ELSE 4 END AS score
    FROM p JOIN bench_desk d USING (desk)
)
INSERT INTO rating ({COLUMNS})
SELECT id, device_id,
       seq0 + row_number() OVER (PARTITION BY desk ORDER BY t),
       to_timestamp(t / 1000) + mod(t, 1000) * interval '1 millisecond',
       to_char(to_timestamp(t / 1000) AT TIME ZONE 'UTC' + interval '7 hours',
               'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN mod(t, 1000) = 0 THEN ''
               ELSE '.' || lpad(mod(t, 1000)::text, 3, '0') || '000' END
       || '+07:00',
       to_timestamp((t * 1000 + 50000 + r_delay) / 1000000)
       + (mod(t * 1000 + 50000 + r_delay, 1000000)) * interval '1 microsecond',
       %(day)s, 'vn4', score, officer_id, counter_id, unit_id, officer_id, counter_id,
       CASE WHEN r_ticket < 6000 THEN 'A' || lpad(mod(r_ticket, 1000)::text, 3, '0') END,
       CASE WHEN score <= 2 AND r_reason < 450 THEN CASE mod(r_reason, 8) {REASON_CASE} END
            ELSE '' END,
       NULL, 'button', true,
       CASE WHEN officer_id IS NULL THEN 'no_officer' ELSE '' END
FROM q
ORDER BY t
"""

# Building only: a cache needs no durability. The figures are measured with the defaults.
PG_BUILD_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "shared_buffers=1GB",
    "maintenance_work_mem=1GB",
    "max_wal_size=8GB",
    "checkpoint_timeout=30min",
    "autovacuum=off",
)
DATABASE = "hailong"


def build_postgres(base: Path, plan: Plan) -> Build:
    with postgres(base, PG_BUILD_SETTINGS) as pg:
        engine = make_engine(pg.create_database(DATABASE))
        migrate(engine)
        register(engine, plan)
        progress = Progress("postgresql", sum(n for _, _, n, _ in plan.counts), "ratings inserted")
        started, done = time.monotonic(), 0
        with psycopg.connect(pg.dsn(DATABASE)) as conn:
            conn.execute("SET jit = off")  # compiling each day's INSERT took longer than running it
            conn.execute("SET work_mem = '256MB'")  # a day's rows sorted in memory
            conn.execute(PG_PLAN)
            with conn.cursor() as cur:
                with cur.copy("COPY bench_desk FROM STDIN") as copy:
                    for row in desk_rows(plan):
                        copy.write_row(row)
                with cur.copy("COPY bench_count FROM STDIN") as copy:
                    for row in plan.counts:
                        copy.write_row(row)
            conn.execute("ANALYZE bench_desk")
            conn.execute("ANALYZE bench_count")
            conn.commit()
            for i, day in enumerate(plan.days):
                done += conn.execute(
                    PG_INSERT,
                    {"day_index": i, "open_for": day.open_for_ms, "open": day.open_ms,
                     "morning": day.morning_ms, "lunch": day.lunch_ms, "day": day.day},
                ).rowcount  # fmt: skip
                conn.commit()
                progress(done)
            progress(done, final=True)
            inserted_s = time.monotonic() - started
            conn.autocommit = True
            say("  postgresql: VACUUM ANALYZE rating (what autovacuum would do over time)")
            conn.execute("VACUUM ANALYZE rating")
        counted, rebuild_s = rebuild_rollups(engine, "postgresql")
        with psycopg.connect(pg.dsn(DATABASE), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE rollup_day")
            conn.execute("VACUUM ANALYZE rollup_month")
            conn.execute("CHECKPOINT")
        engine.dispose()
    return Build(counted, inserted_s, rebuild_s)


# --- the cache --------------------------------------------------------------------------------


def schema_key() -> str:
    """Changes whenever a migration does, so a cached database always has today's schema."""
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def cache_dir(size: Size) -> Path:
    """One folder per size; one of the same size but another generator or schema is removed."""
    prefix = f"reports-{size.ratings}x{size.officers}-"
    folder = CACHE / f"{prefix}g{GENERATOR}-{schema_key()}"
    for stale in CACHE.glob(f"{prefix}*"):
        if stale != folder:
            say(f"removing {stale.relative_to(ROOT)}: another generator or schema")
            shutil.rmtree(stale)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cached(
    marker: Path, leftovers: Sequence[Path], name: str, build: Callable[[], Build]
) -> tuple[Build, bool]:
    """The build recorded in `marker`, or a fresh one (anything half-built is removed first)."""
    if marker.exists():
        found = Build(**json.loads(marker.read_text()))
        say(f"{name}: reusing the data set built {found.built_at} ({marker.parent.name})")
        return found, True
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    made = build()
    marker.write_text(json.dumps(asdict(made)))
    return made, False


# --- what is measured -------------------------------------------------------------------------


def raw_officer_report(session: Session, start: date, end: date) -> list[reports.Row]:
    """The all-officers report as it was before the rollups (commit 785c9f3): the same officers
    and pure functions, the counts from a GROUP BY over the raw ratings."""
    officers = session.exec(
        select(Officer).order_by(col(Officer.unit_id), col(Officer.name), col(Officer.id))
    ).all()
    counts_q = (
        select(Rating.officer_id, Rating.scale, Rating.score, func.count())
        .where(col(Rating.day) >= start, col(Rating.day) <= end)
        .where(col(Rating.officer_id).is_not(None))
        .group_by(col(Rating.officer_id), col(Rating.scale), col(Rating.score))
    )
    levels: dict[str, dict[tuple[str, int], int]] = {}
    for o, s, sc, n in session.exec(counts_q).all():
        levels.setdefault(str(o), {})[(str(s), int(sc))] = int(n)
    return [
        reports.Row(o.id, o.name, o.unit_id, o.title, level_figures(levels.get(o.id, {})))
        for o in officers
    ]


def raw_officer_figures(session: Session, officer_id: str, start: date, end: date) -> Any:
    """One officer's period by a GROUP BY over the raw ratings (through ix_rating_officer_day)."""
    q = (
        select(Rating.scale, Rating.score, func.count())
        .where(Rating.officer_id == officer_id)
        .where(col(Rating.day) >= start, col(Rating.day) <= end)
        .group_by(col(Rating.scale), col(Rating.score))
    )
    return level_figures({(s, int(sc)): int(n) for s, sc, n in session.exec(q).all()})


def timed(engine: Engine, call: Callable[[Session], object]) -> tuple[float, float, object]:
    """Milliseconds for one request's worth (a session from the pool, the call, the answer):
    wall time, and this process's CPU time (all of SQLite's work; PostgreSQL's is elsewhere)."""
    started, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        answer = call(session)
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, answer


@dataclass
class Result:
    name: str
    build: Build
    reused: bool
    ratings: int
    officers: int
    size_mb: float
    officer_ms: list[float] = field(default_factory=list)
    officer_raw_ms: list[float] = field(default_factory=list)
    all_ms: list[float] = field(default_factory=list)
    all_cpu_ms: list[float] = field(default_factory=list)
    ragged_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average, before and after

    @property
    def officer_p95(self) -> float:
        return percentile(self.officer_ms, 95)

    @property
    def all_p95(self) -> float:
        return percentile(self.all_ms, 95)

    @property
    def raw(self) -> float:
        return statistics.median(self.raw_ms)

    @property
    def ratio(self) -> float:
        return self.raw / self.all_p95


@dataclass(frozen=True)
class Runs:
    officer: int
    officer_raw: int
    all: int
    ragged: int
    raw: int


def measure(name: str, engine: Engine, build: Build, reused: bool, runs: Runs) -> Result:
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    ragged = (date(YEAR, 1, 15), date(YEAR, 12, 14))  # whole months plus two part-months
    with Session(engine) as session:
        officer_ids = list(session.exec(select(Officer.id).order_by(col(Officer.id))).all())
        ratings = int(session.exec(select(func.count()).select_from(Rating)).one())
    size_mb = database_mb(engine)
    result = Result(name, build, reused, ratings, len(officer_ids), size_mb)
    rng = random.Random(SEED)
    load_before = os.getloadavg()[0]
    gc.freeze()  # as a started server does (server/web/app.py): the build's objects stay out of it

    def officer(oid: str) -> Callable[[Session], object]:
        return lambda s: reports.officer_figures(s, oid, start, end)

    def officer_raw(oid: str) -> Callable[[Session], object]:
        return lambda s: raw_officer_figures(s, oid, start, end)

    say(f"{name}: (1) one officer's year, {runs.officer} random officers")
    for i in range(WARMUP + runs.officer):
        ms, _, _ = timed(engine, officer(rng.choice(officer_ids)))
        if i >= WARMUP:
            result.officer_ms.append(ms)
    say(f"{name}: (1') the same from the raw ratings, {runs.officer_raw} random officers")
    for i in range(WARMUP + runs.officer_raw):
        ms, _, _ = timed(engine, officer_raw(rng.choice(officer_ids)))
        if i >= WARMUP:
            result.officer_raw_ms.append(ms)
    say(f"{name}: (2) all officers' year (officer_report), {runs.all} runs")
    report: Any = None
    for i in range(WARMUP + runs.all):
        ms, cpu, report = timed(engine, lambda s: reports.officer_report(s, start, end))
        if i >= WARMUP:
            result.all_ms.append(ms)
            result.all_cpu_ms.append(cpu)
    say(f"{name}: (2') all officers, {ragged[0]} → {ragged[1]}, {runs.ragged} runs")
    for i in range(1 + runs.ragged):
        ms, _, _ = timed(engine, lambda s: reports.officer_report(s, *ragged))
        if i >= 1:
            result.ragged_ms.append(ms)
    raw: Any = None
    for i in range(runs.raw):
        say(f"{name}: (3) the raw GROUP BY report, run {i + 1}/{runs.raw}")
        ms, _, raw = timed(engine, lambda s: raw_officer_report(s, start, end))
        result.raw_ms.append(ms)
    result.load = (load_before, os.getloadavg()[0])
    result.disagreements = compare(engine, report, raw, rng.sample(officer_ids, 20), start, end)
    return result


def compare(
    engine: Engine,
    report: list[reports.Row],
    raw: list[reports.Row],
    sample: list[str],
    start: date,
    end: date,
) -> list[str]:
    """Where the rollups' figures differ from the raw ratings': the whole table, a sample of
    single officers, and the year's total including the ratings with no officer (flagged as
    misuse, so counted apart). Only what the raw GROUP BY knows too is compared: it counts no
    reasons or tickets."""

    def headline(f: Any) -> tuple[Any, ...]:
        return (f.ratings, f.counts, f.satisfied_pct, f.happy_index)

    found = [
        f"officer {a.id}: rollups {headline(a.figures)} ≠ raw {headline(b.figures)}"
        for a, b in zip(report, raw, strict=True)
        if headline(a.figures) != headline(b.figures)
    ]
    with Session(engine) as session:
        for oid in sample:
            mine = reports.officer_figures(session, oid, start, end)
            theirs = raw_officer_figures(session, oid, start, end)
            if headline(mine) != headline(theirs):
                found.append(f"officer_figures {oid}: rollups {mine} ≠ raw {theirs}")
        year = reports.period_report(session, start, end)
        total = year.ratings + year.flagged
        q = select(func.count()).where(col(Rating.day) >= start, col(Rating.day) <= end)
        counted = int(session.exec(q).one())
        if total != counted:
            found.append(f"the year's ratings: rollups {total} ≠ raw {counted}")
    return found


def database_mb(engine: Engine) -> float:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = pages * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int(size) / 1e6


# --- the two databases ------------------------------------------------------------------------


def sqlite_data_set(folder: Path, plan: Callable[[], Plan]) -> tuple[Path, Build, bool]:
    """The year on SQLite in `folder`, built the first time (bench/dashboard.py uses it too):
    the database's path, its build, and whether it was reused."""
    path = folder / "hailong.sqlite3"
    leftovers = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    build, reused = cached(folder / "sqlite.done", leftovers, "sqlite",
                           lambda: build_sqlite(path, plan()))  # fmt: skip
    return path, build, reused


def run_sqlite(folder: Path, plan: Callable[[], Plan], runs: Runs) -> Result:
    path, build, reused = sqlite_data_set(folder, plan)
    engine = make_engine(f"sqlite:///{path}")
    try:
        return measure("sqlite", engine, build, reused, runs)
    finally:
        engine.dispose()


def run_postgres(folder: Path, plan: Callable[[], Plan], runs: Runs) -> Result:
    base = folder / "pg"
    build, reused = cached(folder / "postgresql.done", [base], "postgresql",
                           lambda: build_postgres(base, plan()))  # fmt: skip
    say("postgresql: starting the server with its default settings (fsync on, 128 MB buffers)")
    with postgres(base) as pg:
        engine = make_engine(pg.url(DATABASE))
        try:
            return measure("postgresql", engine, build, reused, runs)
        finally:
            engine.dispose()


# --- the report -------------------------------------------------------------------------------


def ms_pair(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {percentile(values, 95):.2f} ms"


def table(results: list[Result], full: bool) -> list[tuple[str, ...]]:
    """The ratio's goal is for the full size: on a small data set any scan is quick."""

    def row(label: str, cell: Callable[[Result], str], goal: str = "") -> tuple[str, ...]:
        return (label, *(cell(r) for r in results), goal)

    return [
        row("ratings stored / officers", lambda r: f"{r.ratings:,} / {r.officers:,}"),
        row("(1) one officer's year, p50 / p95",
            lambda r: f"{ms_pair(r.officer_ms)} {verdict(r.officer_p95 <= GOAL_OFFICER_P95_MS)}",
            f"p95 ≤ {GOAL_OFFICER_P95_MS:g} ms"),
        row("(1') the same over raw ratings, p50 / p95", lambda r: ms_pair(r.officer_raw_ms)),
        row("(2) all officers' year (HR), p50 / p95",
            lambda r: f"{ms_pair(r.all_ms)} {verdict(r.all_p95 <= GOAL_ALL_P95_MS)}",
            f"p95 ≤ {GOAL_ALL_P95_MS:g} ms"),
        row("    of which CPU in this process, p50",
            lambda r: f"{statistics.median(r.all_cpu_ms):.2f} ms"),
        row("(2') all officers, 15 Jan → 14 Dec, p50 / p95", lambda r: ms_pair(r.ragged_ms)),
        row("(3) raw GROUP BY report, median of runs",
            lambda r: f"{r.raw:,.0f} ms ({len(r.raw_ms)} runs)"),
        row("(3) / (2) p95",
            lambda r: f"{r.ratio:,.0f}×" + (f" {verdict(r.ratio >= GOAL_RATIO)}" if full else ""),
            f"≥ {GOAL_RATIO:g}×" + ("" if full else f" at {FULL.ratings:,} ratings")),
        row("figures agree (rollups = raw)",
            lambda r: "yes" if not r.disagreements else f"no ({len(r.disagreements)})"),
        row("build: ratings inserted in",
            lambda r: f"{r.build.insert_s:,.0f} s" + (" (cached)" if r.reused else "")),
        row("build: recount.rebuild of the year",
            lambda r: f"{r.build.rebuild_s:,.1f} s" + (" (cached)" if r.reused else "")),
        row("database size", lambda r: f"{r.size_mb:,.0f} MB"),
        row(f"machine load while measuring ({os.cpu_count()} CPUs)",
            lambda r: f"{r.load[0]:.1f} → {r.load[1]:.1f}"),
    ]  # fmt: skip


def figures(results: list[Result]) -> dict[str, str]:
    found: dict[str, str] = {}
    for r in results:
        p = "" if r.name == "sqlite" else "pg_"
        found |= {
            f"{p}officer_p95_ms": f"{r.officer_p95:.2f}",
            f"{p}all_p95_ms": f"{r.all_p95:.2f}",
            f"{p}raw_ms": f"{r.raw:.0f}",
            f"{p}ratio": f"{r.ratio:.0f}",
            f"{p}rebuild_s": f"{r.build.rebuild_s:.1f}",
            f"{p}agree": "yes" if not r.disagreements else "no",
        }
    return found | {"ratings": f"{results[0].ratings}", "officers": f"{results[0].officers}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 ratings, 200 officers")
    parser.add_argument(
        "--database", choices=("both", "sqlite", "postgresql"), default="both",
        help="which database to measure (default: both)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    runs = Runs(200, 50, 20, 10, 3) if args.quick else Runs(200, 50, 20, 10, 2)
    folder = cache_dir(size)
    made: list[Plan] = []

    def plan() -> Plan:
        if not made:
            say(f"planning {size.ratings:,} ratings for {size.officers:,} officers in {YEAR}")
            if not args.quick:
                say("  a first build takes about 11 min on SQLite and 7 min on PostgreSQL (2 CPUs)")
            made.append(make_plan(size))
        return made[0]

    results = []
    if args.database in ("both", "sqlite"):
        results.append(run_sqlite(folder, plan, runs))
    if args.database in ("both", "postgresql"):
        results.append(run_postgres(folder, plan, runs))

    print_table(("figure", *(r.name for r in results), "goal"), table(results, not args.quick))
    for r in results:
        for problem in r.disagreements[:5]:
            print(f"{r.name}: {problem}")
    print_figures(figures(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
