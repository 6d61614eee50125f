"""Intelligence: an index of crossings by border point and time (co-travel), graded reports and their links, the intelligence cycle, users' clearances, risk profiles
and the travellers they selected.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.create_index('ix_crossings_point_time', ['border_point_id', 'occurred_at'], unique=False)
    op.create_table('intel_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=36), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_evaluation', sa.String(length=1), nullable=False),
    sa.Column('assessment', sa.String(length=1), nullable=False),
    sa.Column('handling_code', sa.String(length=1), nullable=False),
    sa.Column('handling_conditions', sa.Text(), nullable=False),
    sa.Column('legacy_grading', sa.String(length=8), nullable=False),
    sa.Column('classification', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('shared_with', sa.JSON(), nullable=False),
    sa.Column('originator', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sanitised_text', sa.Text(), nullable=False),
    sa.Column('review_by', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_reports')),
    sa.UniqueConstraint('reference', name=op.f('uq_intel_reports_reference'))
    )
    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_reports_unit'), ['unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_reports_originator'), ['originator'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_reports_review_by'), ['review_by'], unique=False)
    op.create_table('intel_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['intel_reports.id'], name=op.f('fk_intel_links_report_id_intel_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_links'))
    )
    with op.batch_alter_table('intel_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_links_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_links_target'), ['target'], unique=False)
    op.create_table('intel_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['intel_cycle.id'], name=op.f('fk_intel_cycle_parent_id_intel_cycle')),
    sa.ForeignKeyConstraint(['report_id'], ['intel_reports.id'], name=op.f('fk_intel_cycle_report_id_intel_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_cycle'))
    )
    with op.batch_alter_table('intel_cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_cycle_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_cycle_unit'), ['unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_cycle_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_cycle_report_id'), ['report_id'], unique=False)
    op.create_table('intel_clearances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_clearances')),
    sa.UniqueConstraint('user_name', name=op.f('uq_intel_clearances_user_name'))
    )
    op.create_table('risk_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_profiles')),
    sa.UniqueConstraint('name', 'version', name='uq_risk_profiles_name_version')
    )
    with op.batch_alter_table('risk_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_profiles_name'), ['name'], unique=False)
    op.create_table('risk_profile_selections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('crossing_id', sa.String(length=36), nullable=False),
    sa.Column('selected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['risk_profiles.id'],
                            name=op.f('fk_risk_profile_selections_profile_id_risk_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_profile_selections')),
    sa.UniqueConstraint('profile_id', 'crossing_id', name='uq_risk_profile_selections_pair')
    )
    with op.batch_alter_table('risk_profile_selections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_profile_selections_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_profile_selections_crossing_id'), ['crossing_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('risk_profile_selections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_profile_selections_crossing_id'))
        batch_op.drop_index(batch_op.f('ix_risk_profile_selections_profile_id'))
    op.drop_table('risk_profile_selections')
    with op.batch_alter_table('risk_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_profiles_name'))
    op.drop_table('risk_profiles')
    op.drop_table('intel_clearances')
    with op.batch_alter_table('intel_cycle', schema=None) as batch_op:
        for column in ('report_id', 'parent_id', 'unit', 'stage'):
            batch_op.drop_index(batch_op.f(f'ix_intel_cycle_{column}'))
    op.drop_table('intel_cycle')
    with op.batch_alter_table('intel_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_links_target'))
        batch_op.drop_index(batch_op.f('ix_intel_links_report_id'))
    op.drop_table('intel_links')
    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        for column in ('review_by', 'originator', 'unit'):
            batch_op.drop_index(batch_op.f(f'ix_intel_reports_{column}'))
    op.drop_table('intel_reports')
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.drop_index('ix_crossings_point_time')
