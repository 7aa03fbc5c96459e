"""revoked login tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:15:00

- `revoked_token`: the id (`jti`) of each login token ended by logging out, with when it would
  have expired; every authenticated request refuses a token listed here, and the housekeeping
  deletes the rows once their token has expired (server/access/sessions.py). Tokens issued
  before this revision carry no id and are refused: everyone logs in again once.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revoked_token',
    sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('revoked_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_token_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('revoked_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_token_expires_at'))
    op.drop_table('revoked_token')
