"""review queue at Canton-Fair size: indexes for its sorts; trigram indexes for its search on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SORTS = (
    ('ix_space_applications_by_status', ['expo_id', 'status', 'id']),
    ('ix_space_applications_by_booths', ['expo_id', 'booths_requested', 'id']),
    ('ix_space_applications_by_years', ['expo_id', 'years_exhibited', 'id']),
)
SEARCHED_COLUMNS = ('name_zh', 'name_en', 'contact_email', 'city')  # expo.exhibitors.models.SEARCHED_COLUMNS


def upgrade():
    # Reviewed by hand (bench/README.md has the measurements behind it). Names follow expo/db.py: ix_<table>_<what>.
    # The id closes each sort index because the queue orders ties by id: a deep page walks the index.
    with op.batch_alter_table('space_applications', schema=None) as batch_op:
        for name, columns in SORTS:
            batch_op.create_index(name, columns, unique=False)

    # ILIKE '%text%' can use a trigram (pg_trgm) GIN index on PostgreSQL; SQLite has none and scans.
    # pg_trgm is a trusted extension (PostgreSQL 13+): the owner of the database may create it.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for column in SEARCHED_COLUMNS:
            op.create_index(f'ix_exhibitors_{column}_trgm', 'exhibitors', [column], unique=False,
                            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for column in reversed(SEARCHED_COLUMNS):
            op.drop_index(f'ix_exhibitors_{column}_trgm', table_name='exhibitors')
        # The pg_trgm extension stays: other objects of the database may use it.

    with op.batch_alter_table('space_applications', schema=None) as batch_op:
        for name, _columns in reversed(SORTS):
            batch_op.drop_index(name)
