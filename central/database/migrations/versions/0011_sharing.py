"""Sharing: owned records (owning agency, handling code, classification on alerts; owning agency on referrals
and intelligence reports), principal scopes, and central.federation's tables. Columns only added: rows
already there become unowned, handling code P, OFFICIAL (visible as before).

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('federated_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('list_name', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('handling_code', sa.String(length=1), nullable=False),
    sa.Column('match_key', sa.String(length=40), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federated_alerts')),
    sa.UniqueConstraint('partner', 'alert_id', name='uq_federated_alerts_partner_alert')
    )
    with op.batch_alter_table('federated_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federated_alerts_match_key'), ['match_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_federated_alerts_partner'), ['partner'], unique=False)

    op.create_table('federation_bundles_seen',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('bundle_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_bundles_seen')),
    sa.UniqueConstraint('partner', 'bundle_id', name='uq_federation_bundles_seen_pair')
    )
    op.create_table('federation_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.String(length=36), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=400), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_outbox')),
    sa.UniqueConstraint('notice_id', name=op.f('uq_federation_outbox_notice_id'))
    )
    with op.batch_alter_table('federation_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_outbox_partner'), ['partner'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_outbox_sent_at'), ['sent_at'], unique=False)

    op.create_table('federation_hit_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owning_agency', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_hit_notices'))
    )
    with op.batch_alter_table('federation_hit_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_hit_notices_noticed_at'), ['noticed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_hit_notices_owning_agency'), ['owning_agency'], unique=False)

    op.create_table('federation_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('list_name', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=400), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_state')),
    sa.UniqueConstraint('partner', 'list_name', name='uq_federation_state_partner_list')
    )
    op.create_table('principal_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('border_points', sa.JSON(), nullable=False),
    sa.Column('clearance', sa.String(length=16), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_principal_scopes')),
    sa.UniqueConstraint('kind', 'name', name='uq_principal_scopes_kind_name')
    )
    with op.batch_alter_table('document_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owning_agency', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('handling_code', sa.String(length=1), nullable=False, server_default='P'))
        batch_op.add_column(sa.Column('handling_conditions', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('classification', sa.String(length=16), nullable=False, server_default='OFFICIAL'))
        batch_op.create_index(batch_op.f('ix_document_alerts_owning_agency'), ['owning_agency'], unique=False)

    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owning_agency', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_intel_reports_owning_agency'), ['owning_agency'], unique=False)

    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owning_agency', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('handling_code', sa.String(length=1), nullable=False, server_default='P'))
        batch_op.add_column(sa.Column('handling_conditions', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('classification', sa.String(length=16), nullable=False, server_default='OFFICIAL'))
        batch_op.create_index(batch_op.f('ix_person_alerts_owning_agency'), ['owning_agency'], unique=False)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owning_agency', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_referrals_owning_agency'), ['owning_agency'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_owning_agency'))
        batch_op.drop_column('owning_agency')

    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_alerts_owning_agency'))
        batch_op.drop_column('classification')
        batch_op.drop_column('handling_conditions')
        batch_op.drop_column('handling_code')
        batch_op.drop_column('owning_agency')

    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_reports_owning_agency'))
        batch_op.drop_column('owning_agency')

    with op.batch_alter_table('document_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_alerts_owning_agency'))
        batch_op.drop_column('classification')
        batch_op.drop_column('handling_conditions')
        batch_op.drop_column('handling_code')
        batch_op.drop_column('owning_agency')

    op.drop_table('principal_scopes')
    op.drop_table('federation_state')
    with op.batch_alter_table('federation_hit_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_hit_notices_owning_agency'))
        batch_op.drop_index(batch_op.f('ix_federation_hit_notices_noticed_at'))

    op.drop_table('federation_hit_notices')
    with op.batch_alter_table('federation_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_outbox_sent_at'))
        batch_op.drop_index(batch_op.f('ix_federation_outbox_partner'))

    op.drop_table('federation_outbox')
    op.drop_table('federation_bundles_seen')
    with op.batch_alter_table('federated_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federated_alerts_partner'))
        batch_op.drop_index(batch_op.f('ix_federated_alerts_match_key'))

    op.drop_table('federated_alerts')
