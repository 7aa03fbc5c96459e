"""flag rollups, the shipped policy's wider misuse list, ratings by receipt

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03 13:20:00

- `rollup_flag_day`, `rollup_flag_month`, `rollup_flag_year`: how many ratings carried each flag
  (server/storage/flags.py), per counter, officer and period, so every report row says why ratings were
  left out. Filled here from the ratings already stored.
- The shipped policy (2026-12-default) now also leaves out of scores the ratings flagged
  `officer_mismatch` or `counter_mismatch` (and the new order flags, which no stored rating
  carries yet). The rating and reason rollups' `flagged` (and `ticketed`, which counts only
  unflagged ratings) are recounted here for that list, so an upgraded server stops counting
  those ratings. Under a policy with another `[misuse] count`, run `hailong rollups rebuild`.
- `ix_rating_received`: the out-of-order alert reads the ratings received in the last hours.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The shipped policy's `[misuse] count` at this revision (flags.EXCLUDED_BY_DEFAULT), frozen here
# as a migration must not change with the code.
EXCLUDED = (
    "cooldown",
    "burst",
    "outside_service",
    "no_officer",
    "officer_mismatch",
    "counter_mismatch",
    "seq_reused",
    "out_of_order",
    "late_while_online",
)
FLAGGED = "(" + " OR ".join(f"(',' || r.flags || ',') LIKE '%,{f},%'" for f in EXCLUDED) + ")"

OF_DAY = {
    "sqlite": {"month": "date(day, 'start of month')", "year": "date(day, 'start of year')"},
    "postgresql": {
        "month": "CAST(date_trunc('month', day) AS date)",
        "year": "CAST(date_trunc('year', day) AS date)",
    },
}
# Stored `flags` and `reasons` are comma-separated codes, which hold no comma or quote.
_ITEMS_OF = {
    "sqlite": "json_each('[\"' || replace(r.{column}, ',', '\",\"') || '\"]') AS x",
    "postgresql": "unnest(string_to_array(r.{column}, ',')) AS x(value)",
}

_FILL_FLAG_DAYS = """
INSERT INTO rollup_flag_day (day, counter_id, officer_id, flag, unit_id, n)
SELECT r.day, COALESCE(r.counter_id, ''), COALESCE(r.officer_id, ''), x.value,
       MAX(COALESCE(r.unit_id, '')), COUNT(*)
FROM rating r, {items}
WHERE r.flags <> ''
GROUP BY r.day, COALESCE(r.counter_id, ''), COALESCE(r.officer_id, ''), x.value
"""
FILL_COARSER_FLAGS = """
INSERT INTO rollup_flag_{period} ({period}, counter_id, officer_id, flag, unit_id, n)
SELECT {of_day}, counter_id, officer_id, flag, MAX(unit_id), SUM(n)
FROM rollup_flag_day GROUP BY {of_day}, counter_id, officer_id, flag
"""

_SAME_KEY = """r.day = rollup_day.day AND COALESCE(r.counter_id, '') = rollup_day.counter_id
    AND COALESCE(r.officer_id, '') = rollup_day.officer_id
    AND r.scale = rollup_day.scale AND r.score = rollup_day.score"""
RECOUNT_DAY_FLAGGED = f"""
UPDATE rollup_day SET
  flagged = (SELECT COUNT(*) FROM rating r WHERE {_SAME_KEY} AND {FLAGGED}),
  ticketed = (SELECT COUNT(*) FROM rating r WHERE {_SAME_KEY} AND r.ticket IS NOT NULL
              AND NOT {FLAGGED})
"""
RECOUNT_COARSER_FLAGGED = """
UPDATE rollup_{period} SET
  flagged = (SELECT COALESCE(SUM(d.flagged), 0) FROM rollup_day d
             WHERE {of_day} = rollup_{period}.{period}
             AND d.counter_id = rollup_{period}.counter_id
             AND d.officer_id = rollup_{period}.officer_id AND d.scale = rollup_{period}.scale
             AND d.score = rollup_{period}.score),
  ticketed = (SELECT COALESCE(SUM(d.ticketed), 0) FROM rollup_day d
              WHERE {of_day} = rollup_{period}.{period}
              AND d.counter_id = rollup_{period}.counter_id
              AND d.officer_id = rollup_{period}.officer_id AND d.scale = rollup_{period}.scale
              AND d.score = rollup_{period}.score)
"""
_REFILL_REASON_DAYS = f"""
INSERT INTO rollup_reason_day (day, counter_id, officer_id, reason, unit_id, n, flagged)
SELECT r.day, COALESCE(r.counter_id, ''), COALESCE(r.officer_id, ''), x.value,
       MAX(COALESCE(r.unit_id, '')), COUNT(*), SUM(CASE WHEN {FLAGGED} THEN 1 ELSE 0 END)
FROM rating r, {{items}}
WHERE r.reasons <> ''
GROUP BY r.day, COALESCE(r.counter_id, ''), COALESCE(r.officer_id, ''), x.value
"""
REFILL_COARSER_REASONS = """
INSERT INTO rollup_reason_{period} ({period}, counter_id, officer_id, reason, unit_id, n, flagged)
SELECT {of_day}, counter_id, officer_id, reason, MAX(unit_id), SUM(n), SUM(flagged)
FROM rollup_reason_day GROUP BY {of_day}, counter_id, officer_id, reason
"""


def _flag_table(period: str) -> None:
    table = f"rollup_flag_{period}"
    op.create_table(table,
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('flag', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column(period, sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('counter_id', 'officer_id', 'flag', period)
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(f'ix_{table}_officer', ['officer_id', period], unique=False)


def upgrade() -> None:
    for period in ("day", "month", "year"):
        _flag_table(period)
    op.create_index('ix_rating_received', 'rating', ['received_at'], unique=False)

    dialect = op.get_bind().dialect.name
    of_day = OF_DAY[dialect]
    op.execute(_FILL_FLAG_DAYS.format(items=_ITEMS_OF[dialect].format(column="flags")))
    for period in ("month", "year"):
        op.execute(FILL_COARSER_FLAGS.format(period=period, of_day=of_day[period]))

    op.execute(RECOUNT_DAY_FLAGGED)
    for period in ("month", "year"):
        op.execute(RECOUNT_COARSER_FLAGGED.format(period=period, of_day=of_day[period]))
    for period in ("day", "month", "year"):
        op.execute(f"DELETE FROM rollup_reason_{period}")
    op.execute(_REFILL_REASON_DAYS.format(items=_ITEMS_OF[dialect].format(column="reasons")))
    for period in ("month", "year"):
        op.execute(REFILL_COARSER_REASONS.format(period=period, of_day=of_day[period]))


def downgrade() -> None:
    op.drop_index('ix_rating_received', table_name='rating')
    for period in ("year", "month", "day"):
        table = f"rollup_flag_{period}"
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_officer')
        op.drop_table(table)
