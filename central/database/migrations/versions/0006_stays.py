"""Authorised stays: the `stays` table kept by RecordCrossing, an exit's overstay flag on the crossing,
and the kind, entries, duration and holder of a permitted stay (short-stay visas).

Permitted stays recorded before this revision were "may stay until valid_to": they become residence
permits (no limit while valid), the closest kind.

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('traveller_id', sa.Integer(), nullable=False),
    sa.Column('entry_day', sa.Date(), nullable=False),
    sa.Column('exit_day', sa.Date(), nullable=True),
    sa.Column('entry_crossing_id', sa.Integer(), nullable=True),
    sa.Column('exit_crossing_id', sa.Integer(), nullable=True),
    sa.Column('border_point_id', sa.Integer(), nullable=False),
    sa.Column('nationality', sa.String(length=3), nullable=False),
    sa.Column('regime', sa.String(length=16), nullable=False),
    sa.Column('allowed_until', sa.Date(), nullable=True),
    sa.Column('overstay_days', sa.Integer(), nullable=False),
    sa.Column('alerted_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['border_point_id'], ['border_points.id'], name=op.f('fk_stays_border_point_id_border_points')),
    sa.ForeignKeyConstraint(['entry_crossing_id'], ['crossings.id'], name=op.f('fk_stays_entry_crossing_id_crossings')),
    sa.ForeignKeyConstraint(['exit_crossing_id'], ['crossings.id'], name=op.f('fk_stays_exit_crossing_id_crossings')),
    sa.ForeignKeyConstraint(['traveller_id'], ['travellers.id'], name=op.f('fk_stays_traveller_id_travellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stays'))
    )
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stays_traveller_id'), ['traveller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stays_allowed_until'), ['allowed_until'], unique=False)
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overstay_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('permitted_stays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('RESIDENCE_PERMIT', 'LONG_STAY_VISA', 'SHORT_STAY_VISA',
                                                      name='permitkind', native_enum=False, create_constraint=False,
                                                      length=16),
                                      nullable=False, server_default='RESIDENCE_PERMIT'))
        batch_op.add_column(sa.Column('entries', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duration_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('traveller_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_permitted_stays_traveller_id'), ['traveller_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_permitted_stays_traveller_id_travellers'), 'travellers',
                                    ['traveller_id'], ['id'])
    # The default served only the rows already there: the models give every new row its kind.
    with op.batch_alter_table('permitted_stays', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('permitted_stays', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_permitted_stays_traveller_id_travellers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_permitted_stays_traveller_id'))
        batch_op.drop_column('traveller_id')
        batch_op.drop_column('duration_days')
        batch_op.drop_column('entries')
        batch_op.drop_column('kind')
    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.drop_column('overstay_days')
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stays_allowed_until'))
        batch_op.drop_index(batch_op.f('ix_stays_traveller_id'))
    op.drop_table('stays')
