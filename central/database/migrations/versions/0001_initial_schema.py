"""Initial schema: border points, stations, travellers, documents, crossings,
alerts and their version counter, referrals, officer decisions, audit log.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 06:30:51.834181
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_version'))
    )
    # The counter's single row: no alert yet, version 0.
    op.bulk_insert(sa.table('alert_version', sa.column('id', sa.Integer), sa.column('value', sa.Integer)),
                   [{'id': 1, 'value': 0}])
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=400), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('border_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_border_points')),
    sa.UniqueConstraint('code', name=op.f('uq_border_points_code'))
    )
    op.create_table('document_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('number_norm', sa.String(length=40), nullable=False),
    sa.Column('number_ocr_key', sa.String(length=40), nullable=False),
    sa.Column('doc_type', sa.String(length=2), nullable=False),
    sa.Column('issuing_state', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.Enum('LOST', 'STOLEN', 'REVOKED', 'INVALIDATED', name='documentalertreason', native_enum=False, length=16), nullable=False),
    sa.Column('handling_instruction', sa.Text(), nullable=False),
    sa.Column('issuing_agency', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_alerts')),
    sa.UniqueConstraint('alert_id', name=op.f('uq_document_alerts_alert_id'))
    )
    with op.batch_alter_table('document_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_alerts_number_norm'), ['number_norm'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_alerts_number_ocr_key'), ['number_ocr_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_alerts_version'), ['version'], unique=False)

    op.create_table('person_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('surname', sa.String(length=200), nullable=False),
    sa.Column('given_names', sa.String(length=200), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('nationality', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.Enum('ENTRY_BAN', 'ARREST', 'MISSING_PERSON', 'DISCREET_CHECK', name='personalertreason', native_enum=False, length=16), nullable=False),
    sa.Column('handling_instruction', sa.Text(), nullable=False),
    sa.Column('issuing_agency', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('matcher_subject_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_alerts')),
    sa.UniqueConstraint('alert_id', name=op.f('uq_person_alerts_alert_id'))
    )
    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_alerts_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_alerts_version'), ['version'], unique=False)

    op.create_table('travellers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('surname', sa.String(length=200), nullable=False),
    sa.Column('given_names', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('nationality', sa.String(length=3), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travellers'))
    )
    with op.batch_alter_table('travellers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travellers_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_travellers_name_key'), ['name_key'], unique=False)

    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('border_point_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['border_point_id'], ['border_points.id'], name=op.f('fk_stations_border_point_id_border_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('code', name=op.f('uq_stations_code'))
    )
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stations_border_point_id'), ['border_point_id'], unique=False)

    op.create_table('travel_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('number_norm', sa.String(length=40), nullable=False),
    sa.Column('issuing_state', sa.String(length=3), nullable=False),
    sa.Column('doc_type', sa.String(length=2), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('traveller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['traveller_id'], ['travellers.id'], name=op.f('fk_travel_documents_traveller_id_travellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_documents')),
    sa.UniqueConstraint('issuing_state', 'number_norm', name='uq_travel_documents_state_number')
    )
    with op.batch_alter_table('travel_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_documents_number_norm'), ['number_norm'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_documents_traveller_id'), ['traveller_id'], unique=False)

    op.create_table('crossings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crossing_id', sa.String(length=36), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('border_point_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('ENTRY', 'EXIT', name='direction', native_enum=False, length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('traveller_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('OPEN', 'REFER', name='gatedecision', native_enum=False, length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('face_score', sa.Float(), nullable=True),
    sa.Column('risk_score', sa.Float(), nullable=False),
    sa.Column('risk_rules_fired', sa.JSON(), nullable=False),
    sa.Column('risk_rules_version', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['border_point_id'], ['border_points.id'], name=op.f('fk_crossings_border_point_id_border_points')),
    sa.ForeignKeyConstraint(['document_id'], ['travel_documents.id'], name=op.f('fk_crossings_document_id_travel_documents')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_crossings_station_id_stations')),
    sa.ForeignKeyConstraint(['traveller_id'], ['travellers.id'], name=op.f('fk_crossings_traveller_id_travellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crossings')),
    sa.UniqueConstraint('crossing_id', name=op.f('uq_crossings_crossing_id'))
    )
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crossings_border_point_id'), ['border_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crossings_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crossings_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crossings_station_id'), ['station_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crossings_traveller_id'), ['traveller_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('crossing_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'ADMITTED', 'REFUSED', 'ESCALATED', name='referralstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['crossing_id'], ['crossings.id'], name=op.f('fk_referrals_crossing_id_crossings')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_referrals_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_referrals_referral_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_crossing_id'), ['crossing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_station_id'), ['station_id'], unique=False)

    op.create_table('officer_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('officer', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.Enum('OPEN', 'ADMITTED', 'REFUSED', 'ESCALATED', name='referralstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_officer_decisions_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_decisions'))
    )
    with op.batch_alter_table('officer_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_decisions_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('officer_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_decisions_referral_id'))

    op.drop_table('officer_decisions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_station_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_crossing_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crossings_traveller_id'))
        batch_op.drop_index(batch_op.f('ix_crossings_station_id'))
        batch_op.drop_index(batch_op.f('ix_crossings_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_crossings_document_id'))
        batch_op.drop_index(batch_op.f('ix_crossings_border_point_id'))

    op.drop_table('crossings')
    with op.batch_alter_table('travel_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_documents_traveller_id'))
        batch_op.drop_index(batch_op.f('ix_travel_documents_number_norm'))

    op.drop_table('travel_documents')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stations_border_point_id'))

    op.drop_table('stations')
    with op.batch_alter_table('travellers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travellers_name_key'))
        batch_op.drop_index(batch_op.f('ix_travellers_birth_date'))

    op.drop_table('travellers')
    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_alerts_version'))
        batch_op.drop_index(batch_op.f('ix_person_alerts_birth_date'))

    op.drop_table('person_alerts')
    with op.batch_alter_table('document_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_alerts_version'))
        batch_op.drop_index(batch_op.f('ix_document_alerts_number_ocr_key'))
        batch_op.drop_index(batch_op.f('ix_document_alerts_number_norm'))

    op.drop_table('document_alerts')
    op.drop_table('border_points')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('alert_version')
