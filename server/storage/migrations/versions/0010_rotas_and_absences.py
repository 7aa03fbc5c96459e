"""rotas and absences

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:27:47

- `rota`: recurring shifts (counter, officer, first and last Vietnam day, weekdays, every N
  weeks or days, start and end minute of the Vietnam day); unique per counter, officer and first
  day, which is what an import finds a row again by.
- `absence`: leave (an officer), a unit's day off (a unit) or a public holiday (neither), during
  which rota shifts do not happen; one-off assignments still do.
Existing assignments are untouched and keep winning over rotas for their span.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absence_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index('ix_absence_start_end', ['start', 'end'], unique=False)

    op.create_table('rota',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('days', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('every', sa.Integer(), nullable=False),
    sa.Column('start_min', sa.Integer(), nullable=False),
    sa.Column('end_min', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rota', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rota_counter_id'), ['counter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rota_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index('ux_rota_counter_officer_first', ['counter_id', 'officer_id', 'first_day'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('rota', schema=None) as batch_op:
        batch_op.drop_index('ux_rota_counter_officer_first')
        batch_op.drop_index(batch_op.f('ix_rota_officer_id'))
        batch_op.drop_index(batch_op.f('ix_rota_counter_id'))

    op.drop_table('rota')
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.drop_index('ix_absence_start_end')
        batch_op.drop_index(batch_op.f('ix_absence_officer_id'))

    op.drop_table('absence')
