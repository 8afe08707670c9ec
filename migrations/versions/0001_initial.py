"""initial schema: accounts, venue, exhibitors, applications, audit, outbox

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 05:09:36.509973

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: tables in dependency order, constraint names from the naming convention in expo.db.
    op.create_table('exhibitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=True),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('province', sa.String(length=100), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('logo_png', sa.LargeBinary(), nullable=True),
    sa.Column('logo_updated_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibitors'))
    )
    with op.batch_alter_table('exhibitors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibitors_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_exhibitors_name_en'), ['name_en'], unique=False)
        batch_op.create_index(batch_op.f('ix_exhibitors_name_zh'), ['name_zh'], unique=False)

    op.create_table('expos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('venue_zh', sa.String(length=200), nullable=False),
    sa.Column('venue_en', sa.String(length=200), nullable=False),
    sa.Column('city_zh', sa.String(length=100), nullable=False),
    sa.Column('city_en', sa.String(length=100), nullable=False),
    sa.Column('area_m2', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expos')),
    sa.UniqueConstraint('code', name=op.f('uq_expos_code'))
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_email_at', ['email', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)

    op.create_table('product_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['product_categories.id'], name=op.f('fk_product_categories_parent_id_product_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_product_categories_code'))
    )
    with op.batch_alter_table('product_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_categories_parent_id'), ['parent_id'], unique=False)

    op.create_table('exhibition_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_exhibition_areas_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibition_areas')),
    sa.UniqueConstraint('expo_id', 'code', name=op.f('uq_exhibition_areas_expo_id_code'))
    )
    with op.batch_alter_table('exhibition_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibition_areas_expo_id'), ['expo_id'], unique=False)

    op.create_table('exhibitor_categories',
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_exhibitor_categories_category_id_product_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_exhibitor_categories_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('exhibitor_id', 'category_id', name=op.f('pk_exhibitor_categories'))
    )
    with op.batch_alter_table('exhibitor_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibitor_categories_category_id'), ['category_id'], unique=False)

    op.create_table('exhibitor_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('id_number', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_exhibitor_staff_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibitor_staff'))
    )
    with op.batch_alter_table('exhibitor_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibitor_staff_exhibitor_id'), ['exhibitor_id'], unique=False)

    op.create_table('halls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('width_m', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('depth_m', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('standard_booth_capacity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_halls_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_halls')),
    sa.UniqueConstraint('expo_id', 'code', name=op.f('uq_halls_expo_id_code'))
    )
    with op.batch_alter_table('halls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_halls_expo_id'), ['expo_id'], unique=False)

    op.create_table('outbox_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_outbox_mail_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail'))
    )
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_mail_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_mail_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_mail_recipient'), ['recipient'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_users_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_role'), ['role'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=50), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('exhibitor_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_audit_entries_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id'], unique=False)

    op.create_table('buyers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('job_title', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_buyers_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_buyers_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyers'))
    )
    with op.batch_alter_table('buyers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyers_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_buyers_expo_id'), ['expo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buyers_user_id'), ['user_id'], unique=False)

    op.create_table('pavilions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['exhibition_areas.id'], name=op.f('fk_pavilions_area_id_exhibition_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_pavilions_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pavilions')),
    sa.UniqueConstraint('expo_id', 'code', name=op.f('uq_pavilions_expo_id_code'))
    )
    with op.batch_alter_table('pavilions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pavilions_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pavilions_expo_id'), ['expo_id'], unique=False)

    op.create_table('space_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('space_kind', sa.String(length=10), nullable=False),
    sa.Column('booths_requested', sa.Integer(), nullable=False),
    sa.Column('raw_space_m2', sa.Integer(), nullable=False),
    sa.Column('preferred_area_id', sa.Integer(), nullable=True),
    sa.Column('preferred_pavilion_id', sa.Integer(), nullable=True),
    sa.Column('corner_preference', sa.String(length=10), nullable=False),
    sa.Column('years_exhibited', sa.Integer(), nullable=False),
    sa.Column('competitors', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_space_applications_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_space_applications_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_space_applications_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['preferred_area_id'], ['exhibition_areas.id'], name=op.f('fk_space_applications_preferred_area_id_exhibition_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['preferred_pavilion_id'], ['pavilions.id'], name=op.f('fk_space_applications_preferred_pavilion_id_pavilions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space_applications')),
    sa.UniqueConstraint('expo_id', 'exhibitor_id', name=op.f('uq_space_applications_expo_id_exhibitor_id'))
    )
    with op.batch_alter_table('space_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_applications_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_space_applications_preferred_area_id'), ['preferred_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_space_applications_preferred_pavilion_id'), ['preferred_pavilion_id'], unique=False)
        batch_op.create_index('ix_space_applications_queue', ['expo_id', 'status', 'submitted_at'], unique=False)
        batch_op.create_index('ix_space_applications_submitted', ['expo_id', 'submitted_at'], unique=False)




def downgrade():
    # Reviewed: tables in dependency order, constraint names from the naming convention in expo.db.
    with op.batch_alter_table('space_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_space_applications_submitted')
        batch_op.drop_index('ix_space_applications_queue')
        batch_op.drop_index(batch_op.f('ix_space_applications_preferred_pavilion_id'))
        batch_op.drop_index(batch_op.f('ix_space_applications_preferred_area_id'))
        batch_op.drop_index(batch_op.f('ix_space_applications_exhibitor_id'))

    op.drop_table('space_applications')
    with op.batch_alter_table('pavilions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pavilions_expo_id'))
        batch_op.drop_index(batch_op.f('ix_pavilions_area_id'))

    op.drop_table('pavilions')
    with op.batch_alter_table('buyers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buyers_user_id'))
        batch_op.drop_index(batch_op.f('ix_buyers_expo_id'))
        batch_op.drop_index(batch_op.f('ix_buyers_country'))

    op.drop_table('buyers')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index(batch_op.f('ix_audit_entries_exhibitor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_role'))
        batch_op.drop_index(batch_op.f('ix_users_exhibitor_id'))

    op.drop_table('users')
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_mail_recipient'))
        batch_op.drop_index(batch_op.f('ix_outbox_mail_exhibitor_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_mail_created_at'))

    op.drop_table('outbox_mail')
    with op.batch_alter_table('halls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_halls_expo_id'))

    op.drop_table('halls')
    with op.batch_alter_table('exhibitor_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibitor_staff_exhibitor_id'))

    op.drop_table('exhibitor_staff')
    with op.batch_alter_table('exhibitor_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibitor_categories_category_id'))

    op.drop_table('exhibitor_categories')
    with op.batch_alter_table('exhibition_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibition_areas_expo_id'))

    op.drop_table('exhibition_areas')
    with op.batch_alter_table('product_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_categories_parent_id'))

    op.drop_table('product_categories')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_ip_at')
        batch_op.drop_index('ix_login_attempts_email_at')

    op.drop_table('login_attempts')
    op.drop_table('expos')
    with op.batch_alter_table('exhibitors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibitors_name_zh'))
        batch_op.drop_index(batch_op.f('ix_exhibitors_name_en'))
        batch_op.drop_index(batch_op.f('ix_exhibitors_country'))

    op.drop_table('exhibitors')

