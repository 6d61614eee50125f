"""Trust data (CSCAs, DSCs, CRLs, deviation lists) as rows that replicate down from headquarters.

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# trust_objects replicates down (central.sites.tables.DOWN): the posts receive it, so they have it first.
subscribers_first = "posts"


def upgrade() -> None:
    op.create_table('trust_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('der', sa.LargeBinary(), nullable=False),
    sa.Column('deviations_accepted', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=400), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_objects')),
    sa.UniqueConstraint('sha256', name=op.f('uq_trust_objects_sha256'))
    )
    with op.batch_alter_table('trust_objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_objects_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trust_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_objects_kind'))
    op.drop_table('trust_objects')
