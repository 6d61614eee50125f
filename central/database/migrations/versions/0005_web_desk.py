"""The web desk: face images (referral evidence, enrolment photos), the watchlist candidates
of a referral, web accounts and sessions.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_accounts')),
    sa.UniqueConstraint('user_name', name=op.f('uq_web_accounts_user_name'))
    )
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_name'), ['user_name'], unique=False)
    op.create_table('face_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('LIVE', 'CHIP', 'ENROLMENT', name='faceimagekind', native_enum=False, length=16), nullable=False),
    sa.Column('jpeg', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('person_alert_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_alert_id'], ['person_alerts.id'], name=op.f('fk_face_images_person_alert_id_person_alerts')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_face_images_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_images')),
    sa.UniqueConstraint('token', name=op.f('uq_face_images_token'))
    )
    with op.batch_alter_table('face_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_images_person_alert_id'), ['person_alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_images_referral_id'), ['referral_id'], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        # Referrals opened before this revision carry no candidates.
        batch_op.add_column(sa.Column('watchlist_candidates', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('watchlist_candidates')
    with op.batch_alter_table('face_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_images_referral_id'))
        batch_op.drop_index(batch_op.f('ix_face_images_person_alert_id'))
    op.drop_table('face_images')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_name'))
    op.drop_table('web_sessions')
    op.drop_table('web_accounts')
