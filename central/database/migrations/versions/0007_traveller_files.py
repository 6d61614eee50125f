"""Traveller files (the Entry/Exit System's individual files) and their live face images.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('traveller_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.String(length=36), nullable=False),
    sa.Column('traveller_id', sa.Integer(), nullable=False),
    sa.Column('template', sa.LargeBinary(), nullable=False),
    sa.Column('template_model', sa.String(length=64), nullable=False),
    sa.Column('template_model_version', sa.String(length=64), nullable=False),
    sa.Column('first_crossing_id', sa.Integer(), nullable=True),
    sa.Column('border_point_id', sa.Integer(), nullable=False),
    sa.Column('created_by_station', sa.String(length=64), nullable=False),
    sa.Column('created_by_user', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('overstay', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['border_point_id'], ['border_points.id'],
                            name=op.f('fk_traveller_files_border_point_id_border_points')),
    sa.ForeignKeyConstraint(['first_crossing_id'], ['crossings.id'],
                            name=op.f('fk_traveller_files_first_crossing_id_crossings')),
    sa.ForeignKeyConstraint(['traveller_id'], ['travellers.id'],
                            name=op.f('fk_traveller_files_traveller_id_travellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traveller_files')),
    sa.UniqueConstraint('file_id', name=op.f('uq_traveller_files_file_id')),
    sa.UniqueConstraint('traveller_id', name=op.f('uq_traveller_files_traveller_id'))
    )
    with op.batch_alter_table('traveller_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_traveller_files_first_crossing_id'), ['first_crossing_id'],
                              unique=False)
    with op.batch_alter_table('face_images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traveller_file_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_face_images_traveller_file_id'), ['traveller_file_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_face_images_traveller_file_id_traveller_files'),
                                    'traveller_files', ['traveller_file_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('face_images', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_face_images_traveller_file_id_traveller_files'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_face_images_traveller_file_id'))
        batch_op.drop_column('traveller_file_id')
    with op.batch_alter_table('traveller_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_traveller_files_first_crossing_id'))
    op.drop_table('traveller_files')
