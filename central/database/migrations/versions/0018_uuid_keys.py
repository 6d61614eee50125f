"""UUID keys on the tables border posts write (issue 23; docs/SITES.md, Keys).

Each post makes its keys itself, as time-ordered UUIDs (central.database.keys), instead of drawing
integers from a range of its own: no post number has to be given out for keys, and no two posts can
make the same key however their databases were prepared, restored or copied.

Rows already stored get the key `central.database.keys.from_integer` makes of their old one: the same at
headquarters as at the post that wrote the row (each migrates its copy on its own, and the post's later
updates must find the row at headquarters), and in the order of the old keys. Every column, and every
intelligence link, that referred to an old key refers to the new one: nothing is lost.

Replication: the tables it changes replicate up (posts -> headquarters), so headquarters, their
subscriber, is migrated first (`limes central sites migrate` does it in that order). Run it on every
site while no post is writing, after headquarters has caught up (docs/SITES.md, Migrations): a post's
rows keyed the old way cannot be applied at a migrated headquarters.

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.database.keys import from_integer

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

subscribers_first = 'hq'

# The tables posts write (central.sites.tables.UP at this revision), parents first.
KEYED = ('border_points', 'stations', 'travellers', 'travel_documents', 'crossings', 'referrals',
         'officer_decisions', 'stays', 'crossing_aggregates', 'risk_profile_selections')
# (table, column, the table it refers to, may it be empty)
REFERENCES = (
    ('stations', 'border_point_id', 'border_points', False),
    ('travel_documents', 'traveller_id', 'travellers', False),
    ('crossings', 'station_id', 'stations', False),
    ('crossings', 'border_point_id', 'border_points', False),
    ('crossings', 'document_id', 'travel_documents', False),
    ('crossings', 'traveller_id', 'travellers', False),
    ('referrals', 'crossing_id', 'crossings', False),
    ('referrals', 'station_id', 'stations', False),
    ('officer_decisions', 'referral_id', 'referrals', False),
    ('stays', 'traveller_id', 'travellers', False),
    ('stays', 'entry_crossing_id', 'crossings', True),
    ('stays', 'exit_crossing_id', 'crossings', True),
    ('stays', 'border_point_id', 'border_points', False),
    ('permitted_stays', 'traveller_id', 'travellers', True),
    ('traveller_files', 'traveller_id', 'travellers', False),
    ('traveller_files', 'first_crossing_id', 'crossings', True),
    ('traveller_files', 'border_point_id', 'border_points', False),
    ('face_images', 'referral_id', 'referrals', True),
)
# The indexes and unique keys on those columns: (name, table, columns, unique)
INDEXES = (
    ('ix_stations_border_point_id', 'stations', ['border_point_id'], False),
    ('ix_travel_documents_traveller_id', 'travel_documents', ['traveller_id'], False),
    ('ix_crossings_station_id', 'crossings', ['station_id'], False),
    ('ix_crossings_border_point_id', 'crossings', ['border_point_id'], False),
    ('ix_crossings_point_time', 'crossings', ['border_point_id', 'occurred_at'], False),
    ('ix_crossings_document_id', 'crossings', ['document_id'], False),
    ('ix_crossings_traveller_id', 'crossings', ['traveller_id'], False),
    ('ix_referrals_crossing_id', 'referrals', ['crossing_id'], False),
    ('ix_referrals_station_id', 'referrals', ['station_id'], False),
    ('ix_officer_decisions_referral_id', 'officer_decisions', ['referral_id'], False),
    ('ix_stays_traveller_id', 'stays', ['traveller_id'], False),
    ('ix_permitted_stays_traveller_id', 'permitted_stays', ['traveller_id'], False),
    ('ix_traveller_files_first_crossing_id', 'traveller_files', ['first_crossing_id'], False),
    ('ix_face_images_referral_id', 'face_images', ['referral_id'], False),
)
UNIQUES = (('uq_traveller_files_traveller_id', 'traveller_files', ['traveller_id']),)
# Intelligence reports link to a person or a document by its key, written as text.
LINKED = {'person': 'travellers', 'document': 'travel_documents'}
CHUNK = 10_000


def _fk_name(table: str, column: str, parent: str) -> str:
    return f'fk_{table}_{column}_{parent}'


def _tables() -> list[str]:
    return list(dict.fromkeys([*KEYED, *(table for table, *_ in REFERENCES)]))


def _renumber(old_type: sa.types.TypeEngine, new_type: sa.types.TypeEngine, make_key) -> None:
    """Give every row of KEYED a new key (`make_key(old key, its position in the order of the old keys)`),
    point every reference at it, and put the new columns in the old ones' places."""
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # The tables are copied and swapped below; their references are checked once, at commit.
        op.execute('PRAGMA defer_foreign_keys = ON')
    for table in KEYED:
        op.add_column(table, sa.Column('new_id', new_type, nullable=True))
    for table, column, _parent, _empty in REFERENCES:
        op.add_column(table, sa.Column(f'new_{column}', new_type, nullable=True))
    for table in KEYED:
        update = sa.text(f'UPDATE {table} SET new_id = :new WHERE id = :old').bindparams(
            sa.bindparam('new', type_=new_type), sa.bindparam('old', type_=old_type))
        old_keys = list(bind.scalars(sa.text(f'SELECT id FROM {table} ORDER BY id').columns(sa.column('id', old_type))))
        for start in range(0, len(old_keys), CHUNK):
            bind.execute(update, [{'new': make_key(old, start + i), 'old': old}
                                  for i, old in enumerate(old_keys[start:start + CHUNK])])
    for table, column, parent, _empty in REFERENCES:
        op.execute(f'UPDATE {table} SET new_{column} = (SELECT p.new_id FROM {parent} p WHERE p.id = {table}.{column})')
    _relink(bind, old_type, new_type)

    for name, table, _columns, _unique in INDEXES:
        op.drop_index(name, table_name=table)
    for table in reversed(_tables()):
        with op.batch_alter_table(table) as batch:
            for child, column, parent, _empty in REFERENCES:
                if child == table:
                    batch.drop_constraint(_fk_name(child, column, parent), type_='foreignkey')
            for name, unique_table, _columns in UNIQUES:
                if unique_table == table:
                    batch.drop_constraint(name, type_='unique')
    for table in _tables():
        with op.batch_alter_table(table) as batch:
            if table in KEYED:  # the primary key goes with the column, and comes back below
                batch.drop_column('id')
                batch.alter_column('new_id', new_column_name='id', existing_type=new_type, nullable=False)
            for child, column, _parent, empty in REFERENCES:
                if child == table:
                    batch.drop_column(column)
                    batch.alter_column(f'new_{column}', new_column_name=column, existing_type=new_type,
                                       nullable=empty)
    for table in _tables():
        with op.batch_alter_table(table) as batch:
            if table in KEYED:
                batch.create_primary_key(f'pk_{table}', ['id'])
            for child, column, parent, _empty in REFERENCES:
                if child == table:
                    batch.create_foreign_key(_fk_name(child, column, parent), parent, [column], ['id'])
            for name, unique_table, columns in UNIQUES:
                if unique_table == table:
                    batch.create_unique_constraint(name, columns)
    for name, table, columns, unique in INDEXES:
        op.create_index(name, table, columns, unique=unique)


def _relink(bind, old_type: sa.types.TypeEngine, new_type: sa.types.TypeEngine) -> None:
    """Intelligence links to a person or a document name its new key; a link naming no row is left as it was."""
    update = sa.text('UPDATE intel_links SET target = :target WHERE id = :id')
    for kind, table in LINKED.items():
        keys = sa.text(f'SELECT id, new_id FROM {table}').columns(sa.column('id', old_type), sa.column('new_id', new_type))
        renamed = {str(old): str(new) for old, new in bind.execute(keys)}
        links = bind.execute(sa.text('SELECT id, target FROM intel_links WHERE kind = :kind'), {'kind': kind}).all()
        changes = [{'target': renamed[target.strip()], 'id': link} for link, target in links if target.strip() in renamed]
        if changes:
            bind.execute(update, changes)


def upgrade() -> None:
    _renumber(sa.BigInteger(), sa.Uuid(), lambda old, _position: from_integer(old))


def downgrade() -> None:
    # Integers 1, 2, ... in the order of the UUIDs (which is the order they were made in), counted on
    # from there by a sequence (PostgreSQL) or the rowid (SQLite's INTEGER PRIMARY KEY). For one site:
    # posts and headquarters downgraded apart would number their copies differently.
    _renumber(sa.Uuid(), sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), lambda _old, position: position + 1)
    if op.get_bind().dialect.name == 'postgresql':
        for table in KEYED:
            op.execute(f'CREATE SEQUENCE {table}_id_seq AS BIGINT OWNED BY {table}.id')
            op.execute(f"SELECT setval('{table}_id_seq', COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
