"""fair ingest: the spool of devices over their rate, rejected messages per device

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03 13:10:00

- `ingest_spool`: messages of a device over its ingest rate, raw, until the ingest stores them
  (server/ingest/spool.py); empty whenever the ingest has caught up.
- `rejectedmessage.device_id`: the device the topic names ('' when it names none), with an
  index, for the per-device quota; existing rows get theirs from their topic here.
- `rejected_dropped`: per device, how many rejected messages were deleted over the quota and
  for their age (server/ingest/rejected.py). Existing rows over a quota are trimmed at the device's
  next rejection, those over the age limit by the next run of the age job.
"""

import re

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The contract's topic, as it was when this revision was written (hailong/protocol.py).
TOPIC = re.compile(r"^hailong/v1/devices/([A-Za-z0-9._-]{1,64})/[a-z]+$")


def upgrade() -> None:
    op.create_table('ingest_spool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ingest_spool', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_spool_device_id_id', ['device_id', 'id'], unique=False)

    op.create_table('rejected_dropped',
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('over_quota', sa.Integer(), nullable=False),
    sa.Column('too_old', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('device_id')
    )

    with op.batch_alter_table('rejectedmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
            server_default='',
        ))
    connection = op.get_bind()
    found = connection.execute(sa.text("SELECT id, topic FROM rejectedmessage")).all()
    named = [
        {"id": row_id, "device_id": match.group(1)}
        for row_id, topic in found
        if (match := TOPIC.match(topic)) is not None
    ]
    if named:
        connection.execute(
            sa.text("UPDATE rejectedmessage SET device_id = :device_id WHERE id = :id"), named
        )
    with op.batch_alter_table('rejectedmessage', schema=None) as batch_op:
        batch_op.alter_column('device_id', server_default=None)
        batch_op.create_index(
            'ix_rejectedmessage_device_id_id', ['device_id', 'id'], unique=False
        )


def downgrade() -> None:
    waiting = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM ingest_spool")).scalar_one()
    if waiting:
        raise RuntimeError(
            f"ingest_spool still holds {waiting} message(s) not yet stored: run the ingest of "
            "this version until the spool is empty, then downgrade"
        )
    with op.batch_alter_table('rejectedmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_rejectedmessage_device_id_id')
        batch_op.drop_column('device_id')
    op.drop_table('rejected_dropped')
    with op.batch_alter_table('ingest_spool', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_spool_device_id_id')
    op.drop_table('ingest_spool')
