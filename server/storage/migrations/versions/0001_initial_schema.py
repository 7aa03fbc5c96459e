"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 23:20:22.570686
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rating',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('pressed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('device_pressed_at', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reported_officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reported_counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('ticket', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('input', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('clock_synced', sa.Boolean(), nullable=False),
    sa.Column('flags', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index('ix_rating_day', ['day'], unique=False)
        batch_op.create_index('ix_rating_device_seq', ['device_id', 'seq'], unique=False)
        batch_op.create_index('ix_rating_officer_day', ['officer_id', 'day'], unique=False)

    op.create_table('rejectedmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('rating_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rejectedmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejectedmessage_received_at'), ['received_at'], unique=False)

    op.create_table('unit',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('counter',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_unit_id'), ['unit_id'], unique=False)

    op.create_table('officer',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_unit_id'), ['unit_id'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_counter_start', ['counter_id', 'start'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_officer_id'), ['officer_id'], unique=False)

    op.create_table('device',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('firmware', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('outbox', sa.Integer(), nullable=True),
    sa.Column('ignored_presses', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_counter_id'), ['counter_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_counter_id'))

    op.drop_table('device')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_officer_id'))
        batch_op.drop_index('ix_assignment_counter_start')

    op.drop_table('assignment')
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_unit_id'))

    op.drop_table('officer')
    with op.batch_alter_table('counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_unit_id'))

    op.drop_table('counter')
    op.drop_table('user')
    op.drop_table('unit')
    with op.batch_alter_table('rejectedmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejectedmessage_received_at'))

    op.drop_table('rejectedmessage')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_officer_day')
        batch_op.drop_index('ix_rating_device_seq')
        batch_op.drop_index('ix_rating_day')

    op.drop_table('rating')
