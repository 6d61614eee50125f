"""Advance passenger data (central.passengers): flights, manifest versions, persons and their documents,
PNRs and the values they share (pnr_links).

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_flights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flight_key', sa.String(length=80), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('carrier', sa.String(length=3), nullable=False),
    sa.Column('departure_airport', sa.String(length=5), nullable=False),
    sa.Column('arrival_airport', sa.String(length=5), nullable=False),
    sa.Column('departure_time', sa.String(length=16), nullable=False),
    sa.Column('arrival_time', sa.String(length=16), nullable=False),
    sa.Column('flight_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_flights')),
    sa.UniqueConstraint('flight_key', name=op.f('uq_api_flights_flight_key'))
    )
    with op.batch_alter_table('api_flights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_flights_flight_date'), ['flight_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_flights_number'), ['number'], unique=False)

    op.create_table('api_manifests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.Integer(), nullable=False),
    sa.Column('list_kind', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('message_type', sa.String(length=8), nullable=False),
    sa.Column('message_version', sa.String(length=8), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('person_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['flight_id'], ['api_flights.id'], name=op.f('fk_api_manifests_flight_id_api_flights')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_manifests')),
    sa.UniqueConstraint('flight_id', 'list_kind', 'version', name='uq_api_manifests_version')
    )
    with op.batch_alter_table('api_manifests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_manifests_current'), ['current'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_manifests_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_manifests_received_at'), ['received_at'], unique=False)

    op.create_table('pnr_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('locator', sa.String(length=16), nullable=False),
    sa.Column('carrier', sa.String(length=3), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('depersonalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['manifest_id'], ['api_manifests.id'], name=op.f('fk_pnr_records_manifest_id_api_manifests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pnr_records'))
    )
    with op.batch_alter_table('pnr_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pnr_records_locator'), ['locator'], unique=False)
        batch_op.create_index(batch_op.f('ix_pnr_records_manifest_id'), ['manifest_id'], unique=False)

    op.create_table('api_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('pnr_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('surname', sa.String(length=200), nullable=False),
    sa.Column('given_names', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('nationality', sa.String(length=3), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['api_manifests.id'], name=op.f('fk_api_persons_manifest_id_api_manifests')),
    sa.ForeignKeyConstraint(['pnr_id'], ['pnr_records.id'], name=op.f('fk_api_persons_pnr_id_pnr_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_persons'))
    )
    with op.batch_alter_table('api_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_persons_manifest_id'), ['manifest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_persons_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_persons_pnr_id'), ['pnr_id'], unique=False)

    op.create_table('pnr_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pnr_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['pnr_id'], ['pnr_records.id'], name=op.f('fk_pnr_links_pnr_id_pnr_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pnr_links'))
    )
    with op.batch_alter_table('pnr_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pnr_links_pnr_id'), ['pnr_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pnr_links_value'), ['value'], unique=False)

    op.create_table('api_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sa.String(length=4), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('number_norm', sa.String(length=40), nullable=False),
    sa.Column('issuing_state', sa.String(length=3), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['api_persons.id'], name=op.f('fk_api_documents_person_id_api_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_documents'))
    )
    with op.batch_alter_table('api_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_documents_number_norm'), ['number_norm'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_documents_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('api_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_documents_person_id'))
        batch_op.drop_index(batch_op.f('ix_api_documents_number_norm'))

    op.drop_table('api_documents')
    with op.batch_alter_table('pnr_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pnr_links_value'))
        batch_op.drop_index(batch_op.f('ix_pnr_links_pnr_id'))

    op.drop_table('pnr_links')
    with op.batch_alter_table('api_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_persons_pnr_id'))
        batch_op.drop_index(batch_op.f('ix_api_persons_name_key'))
        batch_op.drop_index(batch_op.f('ix_api_persons_manifest_id'))

    op.drop_table('api_persons')
    with op.batch_alter_table('pnr_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pnr_records_manifest_id'))
        batch_op.drop_index(batch_op.f('ix_pnr_records_locator'))

    op.drop_table('pnr_records')
    with op.batch_alter_table('api_manifests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_manifests_received_at'))
        batch_op.drop_index(batch_op.f('ix_api_manifests_flight_id'))
        batch_op.drop_index(batch_op.f('ix_api_manifests_current'))

    op.drop_table('api_manifests')
    with op.batch_alter_table('api_flights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_flights_number'))
        batch_op.drop_index(batch_op.f('ix_api_flights_flight_date'))

    op.drop_table('api_flights')
