"""Keys for border posts and headquarters (docs/SITES.md): 64-bit keys on the tables posts write, and the
site that recorded a travel document (headquarters keys its documents by site, issuing state and number:
central.sites.replication changes its unique key there, which SQLite could not do in a migration without
rebuilding a table that others refer to).

Replication: the tables it changes replicate up (posts -> headquarters), so headquarters, their
subscriber, is migrated first (`limes central sites migrate` does it in that order).

On PostgreSQL the keys of the tables posts write, and every column that refers to them, become
BIGINT (and their sequences too): each post draws its keys from a range of its own
(central.sites.replication), which a 32-bit key cannot hold. SQLite's INTEGER is 64-bit already.

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# Which subscriber must be migrated first (central.sites.migration): "hq" for tables that replicate up.
subscribers_first = 'hq'

# The tables posts write (central.sites.tables.UP at this revision) and the columns referring to them.
POST_WRITTEN = ('border_points', 'stations', 'travellers', 'travel_documents', 'crossings', 'referrals',
                'officer_decisions', 'stays', 'crossing_aggregates', 'risk_profile_selections')
REFERENCES = (
    ('permitted_stays', 'traveller_id'), ('stations', 'border_point_id'), ('travel_documents', 'traveller_id'),
    ('crossings', 'station_id'), ('crossings', 'border_point_id'), ('crossings', 'document_id'),
    ('crossings', 'traveller_id'), ('referrals', 'crossing_id'), ('referrals', 'station_id'),
    ('stays', 'traveller_id'), ('stays', 'entry_crossing_id'), ('stays', 'exit_crossing_id'),
    ('stays', 'border_point_id'), ('traveller_files', 'traveller_id'), ('traveller_files', 'first_crossing_id'),
    ('traveller_files', 'border_point_id'), ('face_images', 'referral_id'), ('officer_decisions', 'referral_id'),
)


def _key_type(type_name: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in POST_WRITTEN:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN id TYPE {type_name}')
        op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq AS {type_name}")
    for table, column in REFERENCES:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_name}')


def upgrade() -> None:
    _key_type('BIGINT')
    op.add_column('travel_documents', sa.Column('site', sa.String(length=32), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('travel_documents') as batch:
        batch.drop_column('site')
    _key_type('INTEGER')
