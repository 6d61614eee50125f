"""International notices on person alerts, lost/stolen categories on document alerts, and person
alerts' names in MRZ letters (for names typed in Cyrillic, Greek or Arabic script).

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table('document_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', _enum('STOLEN_BLANK', 'STOLEN_ISSUED', 'LOST', 'REVOKED',
                                                        'INVALIDATED', name='documentalertcategory'), nullable=True))
    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice', _enum('RED', 'YELLOW', 'BLUE', 'BLACK', 'GREEN', 'ORANGE', 'PURPLE',
                                                      name='personnotice'), nullable=True))
        batch_op.add_column(sa.Column('notice_kind', _enum('NOTICE', 'DIFFUSION', name='noticekind'), nullable=True))
        batch_op.add_column(sa.Column('name_mrz', sa.String(length=1200), nullable=False, server_default=''))
    _fill_name_mrz()
    # The default served only the rows already there: the models give every new row its key.
    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.alter_column('name_mrz', server_default=None)


def _fill_name_mrz() -> None:
    """The alerts already issued get their names' MRZ key, as new ones do (central.alerts.lists)."""
    from drivers.alertmatch.normalize import name_key

    name_mrz_length = 1200  # as the column (models.NAME_MRZ_LENGTH at this revision)

    connection = op.get_bind()
    alerts = sa.table('person_alerts', sa.column('id', sa.Integer), sa.column('surname', sa.String),
                      sa.column('given_names', sa.String), sa.column('name_mrz', sa.String))
    for row in connection.execute(sa.select(alerts.c.id, alerts.c.surname, alerts.c.given_names)).all():
        connection.execute(alerts.update().where(alerts.c.id == row.id)
                           .values(name_mrz=name_key(row.surname, row.given_names)[:name_mrz_length]))


def downgrade() -> None:
    with op.batch_alter_table('person_alerts', schema=None) as batch_op:
        batch_op.drop_column('name_mrz')
        batch_op.drop_column('notice_kind')
        batch_op.drop_column('notice')
    with op.batch_alter_table('document_alerts', schema=None) as batch_op:
        batch_op.drop_column('category')
