"""the citizen's phone, paper forms, the queue system and the officer's sign-in

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 01:20:00

- `api_token`: revocable tokens of machine clients (the queue system), stored as SHA-256.
- `queue_ticket`: each ticket of a queue system through issued, called and served.
- `rating_invite`: the citizen's rating links (a served ticket's, a counter's printed card) and
  `web_submission`: when a card link was used from which address (its limit).
- `officer_credential` (Argon2 hashes of PINs and card numbers) and `signin_guard` (wrong
  credentials in a row per unit, and the lock); `unit.signin`: which sign-in methods a unit's
  counters offer (`none` for every unit stored before); `assignment.source`: `registry` for every
  assignment stored before, `signin` for one an officer started at the unit.
- `paper_batch`, `paper_form`: uploads of paper survey forms, and each form number entered.
- `rollup_channel_day|month|year`: ratings per channel (`rating.input`), filled here from the
  ratings already stored. Their `flagged` is counted under the shipped policy's `[misuse] count`
  at this revision (frozen below); under another policy run `hailong rollups rebuild`.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

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
FILL_DAYS = f"""
INSERT INTO rollup_channel_day (day, counter_id, officer_id, input, unit_id, n, flagged)
SELECT r.day, COALESCE(r.counter_id, ''), COALESCE(r.officer_id, ''), r.input,
       MAX(COALESCE(r.unit_id, '')), COUNT(*), SUM(CASE WHEN {FLAGGED} THEN 1 ELSE 0 END)
FROM rating r
GROUP BY r.day, COALESCE(r.counter_id, ''), COALESCE(r.officer_id, ''), r.input
"""
FILL_COARSER = """
INSERT INTO rollup_channel_{period} ({period}, counter_id, officer_id, input, unit_id, n, flagged)
SELECT {of_day}, counter_id, officer_id, input, MAX(unit_id), SUM(n), SUM(flagged)
FROM rollup_channel_day GROUP BY {of_day}, counter_id, officer_id, input
"""


def _channel_table(period: str) -> None:
    table = f"rollup_channel_{period}"
    op.create_table(table,
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('input', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column(period, sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('counter_id', 'officer_id', 'input', period)
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(f'ix_{table}_officer', ['officer_id', period], unique=False)


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('queue_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ticket', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('called_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('served_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id', 'day', 'ticket')
    )
    op.create_table('rating_invite',
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('ticket', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('queue_ticket_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('served_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('rating_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.PrimaryKeyConstraint('token'),
    sa.UniqueConstraint('queue_ticket_id')
    )
    with op.batch_alter_table('rating_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_invite_counter_id'), ['counter_id'], unique=False)
    op.create_table('web_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('rating_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('web_submission', schema=None) as batch_op:
        batch_op.create_index('ix_web_submission_counter_address', ['counter_id', 'address', 'at'], unique=False)
    op.create_table('officer_credential',
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('officer_id', 'kind')
    )
    with op.batch_alter_table('officer_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_credential_unit_id'), ['unit_id'], unique=False)
    op.create_table('signin_guard',
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('device_id')
    )
    op.create_table('paper_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entered_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('forms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('paper_form',
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('form_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', 'form_no'),
    sa.UniqueConstraint('rating_id')
    )
    with op.batch_alter_table('paper_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_form_batch_id'), ['batch_id'], unique=False)
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signin', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='none'))
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='registry'))
    for period in ("day", "month", "year"):
        _channel_table(period)
    dialect = op.get_bind().dialect.name
    op.execute(FILL_DAYS)
    for period in ("month", "year"):
        op.execute(FILL_COARSER.format(period=period, of_day=OF_DAY[dialect][period]))


def downgrade() -> None:
    for period in ("year", "month", "day"):
        table = f"rollup_channel_{period}"
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_officer')
        op.drop_table(table)
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('signin')
    with op.batch_alter_table('paper_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_form_batch_id'))
    op.drop_table('paper_form')
    op.drop_table('paper_batch')
    op.drop_table('signin_guard')
    with op.batch_alter_table('officer_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_credential_unit_id'))
    op.drop_table('officer_credential')
    with op.batch_alter_table('web_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_web_submission_counter_address')
    op.drop_table('web_submission')
    with op.batch_alter_table('rating_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_invite_counter_id'))
    op.drop_table('rating_invite')
    op.drop_table('queue_ticket')
    op.drop_table('api_token')
