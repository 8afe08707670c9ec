"""supply-demand docking: buyers' needs, exhibitors' offers, docking sessions, meetings (the three no-double-booking
unique constraints per session and slot: table, buyer, exhibitor), busy periods for the scheduler, meeting outcomes

Reviewed by hand: new tables only; check constraints hold on SQLite and PostgreSQL (boolean comparisons of IS NULL).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 08:53:53.803137

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exhibitor_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('products', sa.String(length=200), nullable=False),
    sa.Column('min_order_pairs', sa.Integer(), nullable=False),
    sa.Column('monthly_capacity_pairs', sa.Integer(), nullable=False),
    sa.Column('price_band', sa.String(length=10), nullable=False),
    sa.Column('oem', sa.Boolean(), nullable=False),
    sa.Column('odm', sa.Boolean(), nullable=False),
    sa.Column('certifications', sa.JSON(), nullable=False),
    sa.Column('markets', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_exhibitor_offers_category_id_product_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_exhibitor_offers_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_exhibitor_offers_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibitor_offers'))
    )
    with op.batch_alter_table('exhibitor_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibitor_offers_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index('ix_exhibitor_offers_expo_category', ['expo_id', 'category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exhibitor_offers_expo_id'), ['expo_id'], unique=False)

    op.create_table('docking_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('room', sa.String(length=100), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('pavilion_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('slot_count', sa.Integer(), nullable=False),
    sa.Column('table_count', sa.Integer(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('table_count > 0 AND slot_count > 0 AND slot_minutes > 0', name=op.f('ck_docking_sessions_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_docking_sessions_category_id_product_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_docking_sessions_checkpoint_id_checkpoints'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_docking_sessions_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pavilion_id'], ['pavilions.id'], name=op.f('fk_docking_sessions_pavilion_id_pavilions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_docking_sessions'))
    )
    with op.batch_alter_table('docking_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_docking_sessions_checkpoint_id'), ['checkpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_docking_sessions_expo_id'), ['expo_id'], unique=False)
        batch_op.create_index('ix_docking_sessions_expo_start', ['expo_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_docking_sessions_pavilion_id'), ['pavilion_id'], unique=False)

    op.create_table('busy_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('exhibitor_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint('(buyer_id IS NULL) <> (exhibitor_id IS NULL)', name=op.f('ck_busy_periods_one_party')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_busy_periods_ordered')),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], name=op.f('fk_busy_periods_buyer_id_buyers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_busy_periods_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_busy_periods_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_busy_periods'))
    )
    with op.batch_alter_table('busy_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_busy_periods_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_busy_periods_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_busy_periods_expo_id'), ['expo_id'], unique=False)

    op.create_table('buyer_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('quantity_pairs', sa.Integer(), nullable=False),
    sa.Column('price_band', sa.String(length=10), nullable=False),
    sa.Column('delivery_from', sa.Date(), nullable=True),
    sa.Column('delivery_until', sa.Date(), nullable=True),
    sa.Column('markets', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(buyer_id IS NULL) <> (delegation_id IS NULL)', name=op.f('ck_buyer_needs_one_owner')),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], name=op.f('fk_buyer_needs_buyer_id_buyers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_buyer_needs_category_id_product_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], name=op.f('fk_buyer_needs_delegation_id_delegations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_buyer_needs_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_needs'))
    )
    with op.batch_alter_table('buyer_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyer_needs_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buyer_needs_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index('ix_buyer_needs_expo_category', ['expo_id', 'category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buyer_needs_expo_id'), ['expo_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=10), nullable=False),
    sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answer_note', sa.Text(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('slot', sa.Integer(), nullable=True),
    sa.Column('table_no', sa.Integer(), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(session_id IS NULL) = (slot IS NULL) AND (slot IS NULL) = (table_no IS NULL)', name=op.f('ck_meetings_placed_whole')),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], name=op.f('fk_meetings_buyer_id_buyers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_meetings_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_meetings_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['buyer_needs.id'], name=op.f('fk_meetings_need_id_buyer_needs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['exhibitor_offers.id'], name=op.f('fk_meetings_offer_id_exhibitor_offers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'], name=op.f('fk_meetings_requested_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['docking_sessions.id'], name=op.f('fk_meetings_session_id_docking_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('expo_id', 'buyer_id', 'exhibitor_id', name=op.f('uq_meetings_expo_id_buyer_id_exhibitor_id')),
    sa.UniqueConstraint('session_id', 'slot', 'buyer_id', name='uq_meetings_buyer_slot'),
    sa.UniqueConstraint('session_id', 'slot', 'exhibitor_id', name='uq_meetings_exhibitor_slot'),
    sa.UniqueConstraint('session_id', 'slot', 'table_no', name='uq_meetings_table_slot')
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_expo_id'), ['expo_id'], unique=False)
        batch_op.create_index('ix_meetings_expo_status', ['expo_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_session_id'), ['session_id'], unique=False)

    op.create_table('meeting_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('products', sa.String(length=200), nullable=False),
    sa.Column('quantity_pairs', sa.BigInteger(), nullable=False),
    sa.Column('value', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('value_cny', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('expected_order_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_outcomes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_meeting_outcomes_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_outcomes')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_meeting_outcomes_meeting_id'))
    )


def downgrade():
    op.drop_table('meeting_outcomes')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_session_id'))
        batch_op.drop_index('ix_meetings_expo_status')
        batch_op.drop_index(batch_op.f('ix_meetings_expo_id'))
        batch_op.drop_index(batch_op.f('ix_meetings_exhibitor_id'))
        batch_op.drop_index(batch_op.f('ix_meetings_buyer_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('buyer_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buyer_needs_expo_id'))
        batch_op.drop_index('ix_buyer_needs_expo_category')
        batch_op.drop_index(batch_op.f('ix_buyer_needs_delegation_id'))
        batch_op.drop_index(batch_op.f('ix_buyer_needs_buyer_id'))

    op.drop_table('buyer_needs')
    with op.batch_alter_table('busy_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_busy_periods_expo_id'))
        batch_op.drop_index(batch_op.f('ix_busy_periods_exhibitor_id'))
        batch_op.drop_index(batch_op.f('ix_busy_periods_buyer_id'))

    op.drop_table('busy_periods')
    with op.batch_alter_table('docking_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_docking_sessions_pavilion_id'))
        batch_op.drop_index('ix_docking_sessions_expo_start')
        batch_op.drop_index(batch_op.f('ix_docking_sessions_expo_id'))
        batch_op.drop_index(batch_op.f('ix_docking_sessions_checkpoint_id'))

    op.drop_table('docking_sessions')
    with op.batch_alter_table('exhibitor_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibitor_offers_expo_id'))
        batch_op.drop_index('ix_exhibitor_offers_expo_category')
        batch_op.drop_index(batch_op.f('ix_exhibitor_offers_exhibitor_id'))

    op.drop_table('exhibitor_offers')
