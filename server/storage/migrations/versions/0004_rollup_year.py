"""rollup per calendar year

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:40:00

The yearly table of every officer of a province read about a hundred thousand month rows; a
year level makes it some ten thousand. Filled from the month rollup, which 0002 made equal to
the ratings.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

YEAR_OF_MONTH = {
    "sqlite": "date(month, 'start of year')",
    "postgresql": "CAST(date_trunc('year', month) AS date)",
}


def upgrade() -> None:
    op.create_table('rollup_year',
    sa.Column('counter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('officer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('year', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'counter_id', 'officer_id', 'scale', 'score')
    )
    with op.batch_alter_table('rollup_year', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_year_officer', ['officer_id', 'year'], unique=False)
    year = YEAR_OF_MONTH[op.get_bind().dialect.name]
    op.execute(
        f"""INSERT INTO rollup_year (year, counter_id, officer_id, scale, score, unit_id, n)
        SELECT {year}, counter_id, officer_id, scale, score, MAX(unit_id), SUM(n)
        FROM rollup_month GROUP BY {year}, counter_id, officer_id, scale, score"""
    )


def downgrade() -> None:
    with op.batch_alter_table('rollup_year', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_year_officer')
    op.drop_table('rollup_year')
