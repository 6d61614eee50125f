"""Crossings no longer keep a digest of the request that created them.

A retried RecordCrossing may differ in details the gate fills in per attempt
(occurred_at), so a digest of the whole request refused genuine retries.
Retries are now recognised by crossing_id plus document, station and direction.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.drop_column('request_digest')


def downgrade() -> None:
    # Rows recorded meanwhile have no digest: an empty one, as no retry can match it anyway.
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_digest', sa.String(length=64), nullable=False, server_default=''))
