"""Traveller files' fingerprints: per-finger ISO/IEC 19794-2 records and WSQ images, sealed at rest.

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('traveller_fingers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('traveller_file_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('iso19794_2', sa.LargeBinary(), nullable=False),
    sa.Column('wsq', sa.LargeBinary(), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=False),
    sa.Column('minutiae', sa.Integer(), nullable=False),
    sa.Column('enrolled_by_station', sa.String(length=64), nullable=False),
    sa.Column('enrolled_by_user', sa.String(length=64), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['traveller_file_id'], ['traveller_files.id'],
                            name=op.f('fk_traveller_fingers_traveller_file_id_traveller_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traveller_fingers')),
    sa.UniqueConstraint('traveller_file_id', 'position', name='uq_traveller_fingers_file_position')
    )
    with op.batch_alter_table('traveller_fingers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_traveller_fingers_traveller_file_id'), ['traveller_file_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('traveller_fingers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_traveller_fingers_traveller_file_id'))
    op.drop_table('traveller_fingers')
