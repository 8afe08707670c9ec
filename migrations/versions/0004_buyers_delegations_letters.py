"""buyers: profile, interests, hosted-buyer programme; delegations; passports; visa invitation letters; letterhead

Reviewed by hand: columns added to buyers and expos (tables that may hold rows) get server defaults equal to the
models' defaults, so the upgrade works on a live database; the buyer list's search gets trigram indexes on
PostgreSQL, as the exhibitors' did in 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:17:24.268809

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('organization', sa.String(length=200), nullable=False),
    sa.Column('leader_user_id', sa.Integer(), nullable=True),
    sa.Column('arrival_date', sa.Date(), nullable=True),
    sa.Column('departure_date', sa.Date(), nullable=True),
    sa.Column('arrival_flight', sa.String(length=20), nullable=False),
    sa.Column('departure_flight', sa.String(length=20), nullable=False),
    sa.Column('hotel', sa.String(length=200), nullable=False),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('interpreter_language', sa.String(length=40), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_delegations_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['leader_user_id'], ['users.id'], name=op.f('fk_delegations_leader_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_country'), ['country'], unique=False)
        batch_op.create_index('ix_delegations_expo_arrival', ['expo_id', 'arrival_date', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_expo_id'), ['expo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_leader_user_id'), ['leader_user_id'], unique=False)

    op.create_table('delegation_categories',
    sa.Column('delegation_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_delegation_categories_category_id_product_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], name=op.f('fk_delegation_categories_delegation_id_delegations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('delegation_id', 'category_id', name=op.f('pk_delegation_categories'))
    )
    with op.batch_alter_table('delegation_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_categories_category_id'), ['category_id'], unique=False)

    op.create_table('buyer_categories',
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], name=op.f('fk_buyer_categories_buyer_id_buyers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_buyer_categories_category_id_product_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('buyer_id', 'category_id', name=op.f('pk_buyer_categories'))
    )
    with op.batch_alter_table('buyer_categories', schema=None) as batch_op:
        # covers buyer_id: the buyer list's category filter reads this index alone
        batch_op.create_index('ix_buyer_categories_category_buyer', ['category_id', 'buyer_id'], unique=False)

    op.create_table('invitation_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('holders', sa.JSON(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], name=op.f('fk_invitation_letters_buyer_id_buyers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], name=op.f('fk_invitation_letters_delegation_id_delegations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_invitation_letters_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_invitation_letters_issued_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_letters')),
    sa.UniqueConstraint('reference', name=op.f('uq_invitation_letters_reference'))
    )
    with op.batch_alter_table('invitation_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_letters_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_letters_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_letters_expo_id'), ['expo_id'], unique=False)

    op.create_table('passports',
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('nationality', sa.String(length=2), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], name=op.f('fk_passports_buyer_id_buyers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('buyer_id', name=op.f('pk_passports'))
    )
    with op.batch_alter_table('buyers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('name_native', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('website', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('purchase_volume', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('products_sought', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_consent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=False, server_default='registered'))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('hosted_status', sa.String(length=10), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('hosted_hotel_nights', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('hosted_transfers', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('hosted_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hosted_decided_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_buyers_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index('ix_buyers_expo_country', ['expo_id', 'country', 'id'], unique=False)
        batch_op.create_index('ix_buyers_expo_name', ['expo_id', 'name', 'id'], unique=False)
        batch_op.create_index('ix_buyers_expo_company', ['expo_id', 'company', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_buyers_delegation_id_delegations'), 'delegations', ['delegation_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('expos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organizer_zh', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organizer_en', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organizer_address_zh', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organizer_address_en', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organizer_phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organizer_email', sa.String(length=254), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('letter_signatory', sa.String(length=200), nullable=False, server_default=''))

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for column in ('name', 'name_native', 'company', 'email'):
            op.create_index(f'ix_buyers_{column}_trgm', 'buyers', [column], unique=False,
                            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
    else:
        # SQLite has no statistics: the buyer list reads this covering index instead of the table (see the model)
        op.create_index('ix_buyers_list', 'buyers', ['expo_id', 'name', 'id', 'country', 'status', 'hosted_status',
                                                     'delegation_id', 'purchase_volume', 'company', 'name_native',
                                                     'email'], unique=False)
        if _sqlite_has_trigram_search():
            for statement in SQLITE_BUYER_SEARCH:
                op.execute(statement)


# SQLite: the buyer list's search (text anywhere in the name, native name, company or e-mail) through an FTS5
# trigram index, which PostgreSQL's pg_trgm indexes do there; without it every search reads all buyers (~120 ms of
# CPU at 300,000). An external-content table over buyers, kept in step by triggers; expo.buyers.queries uses it when
# it exists and the search text has three characters or more. Note: a batch (copy-and-move) alteration of the
# buyers table on SQLite drops these triggers; a migration doing one must create them again (and 'rebuild').
_SEARCHED = 'name, name_native, company, email'
SQLITE_BUYER_SEARCH = [
    f"CREATE VIRTUAL TABLE buyers_search USING fts5({_SEARCHED}, content='buyers', content_rowid='id', "
    "tokenize='trigram')",
    f"CREATE TRIGGER buyers_search_insert AFTER INSERT ON buyers BEGIN "
    f"INSERT INTO buyers_search(rowid, {_SEARCHED}) VALUES (new.id, new.name, new.name_native, new.company, new.email); "
    "END",
    f"CREATE TRIGGER buyers_search_delete AFTER DELETE ON buyers BEGIN "
    f"INSERT INTO buyers_search(buyers_search, rowid, {_SEARCHED}) "
    "VALUES ('delete', old.id, old.name, old.name_native, old.company, old.email); END",
    f"CREATE TRIGGER buyers_search_update AFTER UPDATE OF {_SEARCHED} ON buyers BEGIN "
    f"INSERT INTO buyers_search(buyers_search, rowid, {_SEARCHED}) "
    "VALUES ('delete', old.id, old.name, old.name_native, old.company, old.email); "
    f"INSERT INTO buyers_search(rowid, {_SEARCHED}) VALUES (new.id, new.name, new.name_native, new.company, new.email); "
    "END",
    "INSERT INTO buyers_search(buyers_search) VALUES ('rebuild')",
]
SQLITE_BUYER_SEARCH_DROP = ["DROP TRIGGER IF EXISTS buyers_search_update", "DROP TRIGGER IF EXISTS buyers_search_delete",
                            "DROP TRIGGER IF EXISTS buyers_search_insert", "DROP TABLE IF EXISTS buyers_search"]


def _sqlite_has_trigram_search() -> bool:
    """FTS5 with the trigram tokenizer: SQLite 3.34 or later, built with FTS5 (Python's own SQLite is)."""
    bind = op.get_bind()
    version = tuple(int(p) for p in bind.exec_driver_sql('SELECT sqlite_version()').scalar().split('.')[:2])
    options = {row[0] for row in bind.exec_driver_sql('PRAGMA compile_options')}
    return version >= (3, 34) and 'ENABLE_FTS5' in options


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for column in ('name', 'name_native', 'company', 'email'):
            op.drop_index(f'ix_buyers_{column}_trgm', table_name='buyers')
    else:
        for statement in SQLITE_BUYER_SEARCH_DROP:
            op.execute(statement)
        op.drop_index('ix_buyers_list', table_name='buyers')
    with op.batch_alter_table('expos', schema=None) as batch_op:
        batch_op.drop_column('letter_signatory')
        batch_op.drop_column('organizer_email')
        batch_op.drop_column('organizer_phone')
        batch_op.drop_column('organizer_address_en')
        batch_op.drop_column('organizer_address_zh')
        batch_op.drop_column('organizer_en')
        batch_op.drop_column('organizer_zh')

    with op.batch_alter_table('buyers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_buyers_delegation_id_delegations'), type_='foreignkey')
        batch_op.drop_index('ix_buyers_expo_company')
        batch_op.drop_index('ix_buyers_expo_name')
        batch_op.drop_index('ix_buyers_expo_country')
        batch_op.drop_index(batch_op.f('ix_buyers_delegation_id'))
        batch_op.drop_column('hosted_decided_at')
        batch_op.drop_column('hosted_note')
        batch_op.drop_column('hosted_transfers')
        batch_op.drop_column('hosted_hotel_nights')
        batch_op.drop_column('hosted_status')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('status')
        batch_op.drop_column('contact_consent')
        batch_op.drop_column('products_sought')
        batch_op.drop_column('purchase_volume')
        batch_op.drop_column('website')
        batch_op.drop_column('phone')
        batch_op.drop_column('name_native')
        batch_op.drop_column('delegation_id')

    op.drop_table('passports')
    with op.batch_alter_table('invitation_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_letters_expo_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_letters_delegation_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_letters_buyer_id'))

    op.drop_table('invitation_letters')
    with op.batch_alter_table('buyer_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_buyer_categories_category_buyer')

    op.drop_table('buyer_categories')
    with op.batch_alter_table('delegation_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_categories_category_id'))

    op.drop_table('delegation_categories')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_leader_user_id'))
        batch_op.drop_index(batch_op.f('ix_delegations_expo_id'))
        batch_op.drop_index('ix_delegations_expo_arrival')
        batch_op.drop_index(batch_op.f('ix_delegations_country'))

    op.drop_table('delegations')
