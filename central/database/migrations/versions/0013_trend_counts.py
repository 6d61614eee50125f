"""Weekly trend counts for the intelligence dashboard and bulletin (kept like the daily crossing aggregates).

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trend_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('value', sa.String(length=48), nullable=False),
        sa.Column('indicator', sa.String(length=16), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trend_counts')),
        sa.UniqueConstraint('dimension', 'week', 'value', 'indicator', name='uq_trend_counts_cell'),
    )
    op.create_table(
        'trend_counts_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('counted_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trend_counts_state')),
    )


def downgrade() -> None:
    op.drop_table('trend_counts_state')
    op.drop_table('trend_counts')
