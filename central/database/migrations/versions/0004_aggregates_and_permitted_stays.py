"""Daily crossing aggregates (kept when crossings are purged) and permitted stays (visas, permits).

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crossing_aggregates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('nationality', sa.String(length=3), nullable=False),
        sa.Column('sex', sa.String(length=1), nullable=False),
        sa.Column('age_band', sa.String(length=8), nullable=False),
        sa.Column('border_point', sa.String(length=32), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('document_type', sa.String(length=2), nullable=False),
        sa.Column('decision', sa.String(length=8), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crossing_aggregates')),
        sa.UniqueConstraint('day', 'nationality', 'sex', 'age_band', 'border_point', 'direction',
                            'document_type', 'decision', name='uq_crossing_aggregates_cell'),
    )
    with op.batch_alter_table('crossing_aggregates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crossing_aggregates_day'), ['day'], unique=False)
    op.create_table(
        'permitted_stays',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuing_state', sa.String(length=3), nullable=False),
        sa.Column('number_norm', sa.String(length=40), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_permitted_stays')),
    )
    with op.batch_alter_table('permitted_stays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permitted_stays_number_norm'), ['number_norm'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('permitted_stays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permitted_stays_number_norm'))
    op.drop_table('permitted_stays')
    with op.batch_alter_table('crossing_aggregates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crossing_aggregates_day'))
    op.drop_table('crossing_aggregates')
