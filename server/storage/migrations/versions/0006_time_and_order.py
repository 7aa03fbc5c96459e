"""time and order of ratings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:00:00

- `device_boot`: the first live Status of each boot of a unit, which dates its presses.
- `device_connection`: a unit's connection history, for the `late_while_online` rule.
- `seq_gap`: the seq values of a unit never received. Filled here from the stored ratings, so
  an upgraded server shows what is already missing and a unit's next rating does not open a gap
  back to seq 1.
- `rating.boot_id`, `rating.mono_ms`: the unit's boot and monotonic clock at the press (outside
  the hash chain, so the links of existing ratings stay valid).
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Every gap between two received seqs, from the first (whose gap starts at 1) to the highest.
CLOSED_GAPS = """
INSERT INTO seq_gap (device_id, first_seq, last_seq)
SELECT device_id, COALESCE(previous, 0) + 1, seq - 1 FROM (
    SELECT device_id, seq, LAG(seq) OVER (PARTITION BY device_id ORDER BY seq) AS previous
    FROM (SELECT DISTINCT device_id, seq FROM rating) AS received
) AS steps
WHERE seq > COALESCE(previous, 0) + 1
"""
OPEN_GAPS = """
INSERT INTO seq_gap (device_id, first_seq, last_seq)
SELECT device_id, MAX(seq) + 1, NULL FROM rating GROUP BY device_id
"""


def upgrade() -> None:
    op.create_table('device_boot',
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('boot_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('mono_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'boot_id')
    )
    op.create_table('device_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('device_connection', schema=None) as batch_op:
        batch_op.create_index('ix_device_connection_device_at', ['device_id', 'received_at'], unique=False)

    op.create_table('seq_gap',
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('first_seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('device_id', 'first_seq')
    )
    # Plain ALTER TABLE, never batch mode: SQLite's batch copy of `rating` would lose the
    # append-only triggers (revision 0002).
    op.add_column('rating', sa.Column('boot_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('rating', sa.Column('mono_ms', sa.BigInteger(), nullable=True))
    op.execute(CLOSED_GAPS)
    op.execute(OPEN_GAPS)


def downgrade() -> None:
    op.drop_column('rating', 'mono_ms')
    op.drop_column('rating', 'boot_id')
    op.drop_table('seq_gap')
    with op.batch_alter_table('device_connection', schema=None) as batch_op:
        batch_op.drop_index('ix_device_connection_device_at')
    op.drop_table('device_connection')
    op.drop_table('device_boot')
