"""The officer desk: officer sessions bound to a desk station, and the travellers gates hand to the counter.

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_desk_sessions_token_hash'))
    )
    with op.batch_alter_table('desk_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_sessions_user_name'), ['user_name'], unique=False)
    op.create_table('counter_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('border_point', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('crossing_id', sa.String(length=36), nullable=True),
    sa.Column('settled_by', sa.String(length=64), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_cases')),
    sa.UniqueConstraint('case_id', name=op.f('uq_counter_cases_case_id'))
    )
    with op.batch_alter_table('counter_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_cases_border_point'), ['border_point'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('counter_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_cases_border_point'))
    op.drop_table('counter_cases')
    with op.batch_alter_table('desk_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_sessions_user_name'))
    op.drop_table('desk_sessions')
