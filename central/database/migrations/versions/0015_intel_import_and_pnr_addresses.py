"""Legacy intelligence import and PNR addresses for link analysis: intel_reports.legacy_reference (a record
imported from a 5x5x5 system keeps its old reference, unique), and pnr_links of kind "address" for the PNRs
already stored and not yet depersonalised (central.passengers.storage writes them for new PNRs).

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _address(address: dict) -> str:
    """As central.passengers.storage.address_link writes it (kept here as it was: a migration never changes)."""
    def part(key: str) -> str:
        return " ".join(str(address.get(key) or "").upper().split())
    street, postcode, city = part("street"), part("postcode"), part("city")
    if not street or not (city or postcode):
        return ""
    return f"{street}, {' '.join(p for p in (postcode, city) if p)}"[:200]


def upgrade() -> None:
    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_reference', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_intel_reports_legacy_reference'), ['legacy_reference'])

    bind = op.get_bind()
    records = sa.table('pnr_records', sa.column('id', sa.Integer), sa.column('data', sa.JSON),
                       sa.column('depersonalised_at', sa.DateTime(timezone=True)))
    links = sa.table('pnr_links', sa.column('pnr_id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('value', sa.String))
    rows = []
    for pnr_id, data in bind.execute(sa.select(records.c.id, records.c.data).where(
            records.c.depersonalised_at.is_(None))):
        values = {_address(a) for a in (data or {}).get('addresses') or [] if isinstance(a, dict)}
        rows += [{'pnr_id': pnr_id, 'kind': 'address', 'value': v} for v in sorted(values) if v]
    if rows:
        op.bulk_insert(links, rows)


def downgrade() -> None:
    op.execute("DELETE FROM pnr_links WHERE kind = 'address'")
    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_intel_reports_legacy_reference'), type_='unique')
        batch_op.drop_column('legacy_reference')
