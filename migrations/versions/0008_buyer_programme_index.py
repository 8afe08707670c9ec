"""buyers: an index for the list filtered by hosted-buyer programme status, on SQLite

Reviewed by hand: one index, SQLite only (as ix_buyers_list of 0004): SQLite keeps no statistics and, without it,
reads the whole list index to find the 15,000 approved hosted buyers of 300,000 (bench/README.md, "Buyers at
scale"). It covers what the list's one-pass probe reads (id, name, country), so no table row is read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 15:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = ['expo_id', 'hosted_status', 'name', 'id', 'country', 'status']


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_buyers_hosted', 'buyers', COLUMNS, unique=False)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('ix_buyers_hosted', table_name='buyers')
