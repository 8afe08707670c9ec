"""badges: badge types with access rights, visitors, badges with signed codes, prints, print jobs, signing keys

Reviewed by hand: new tables only, nothing added to tables that hold rows. badges.badge_type_id is RESTRICT: a badge
type in use cannot be deleted out from under its badges.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:32:04.554127

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('badge_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('layout', sa.String(length=20), nullable=False),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('days', sa.JSON(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_badge_types_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_types')),
    sa.UniqueConstraint('expo_id', 'code', name=op.f('uq_badge_types_expo_id_code'))
    )
    with op.batch_alter_table('badge_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_types_expo_id'), ['expo_id'], unique=False)

    op.create_table('signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('private_key_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_signing_keys_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys'))
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_keys_expo_id'), ['expo_id'], unique=False)

    op.create_table('visitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('registered_at_kiosk', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_visitors_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitors'))
    )
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitors_expo_id'), ['expo_id'], unique=False)
        batch_op.create_index('ix_visitors_expo_name', ['expo_id', 'name'], unique=False)

    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('layout', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_print_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_print_jobs_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_jobs_expo_id'), ['expo_id'], unique=False)

    op.create_table('badges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('badge_type_id', sa.Integer(), nullable=False),
    sa.Column('holder_kind', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_native', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=160), nullable=False),
    sa.Column('qr_modules', sa.LargeBinary(), nullable=True),
    sa.Column('confirmation', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=False),
    sa.Column('print_count', sa.Integer(), nullable=False),
    sa.Column('last_printed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['badge_type_id'], ['badge_types.id'], name=op.f('fk_badges_badge_type_id_badge_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], name=op.f('fk_badges_delegation_id_delegations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_badges_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_badges_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badges')),
    sa.UniqueConstraint('code', name=op.f('uq_badges_code')),
    sa.UniqueConstraint('confirmation', name=op.f('uq_badges_confirmation')),
    sa.UniqueConstraint('expo_id', 'holder_kind', 'holder_id', name=op.f('uq_badges_expo_id_holder_kind_holder_id'))
    )
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badges_badge_type_id'), ['badge_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_badges_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_badges_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_badges_expo_id'), ['expo_id'], unique=False)
        batch_op.create_index('ix_badges_expo_name', ['expo_id', 'name'], unique=False)
        batch_op.create_index('ix_badges_expo_type', ['expo_id', 'badge_type_id', 'id'], unique=False)

    op.create_table('badge_prints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('badge_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_badge_prints_badge_id_badges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_badge_prints_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['print_jobs.id'], name=op.f('fk_badge_prints_job_id_print_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_prints'))
    )
    with op.batch_alter_table('badge_prints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_prints_badge_id'), ['badge_id'], unique=False)



def downgrade():
    with op.batch_alter_table('badge_prints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_prints_badge_id'))

    op.drop_table('badge_prints')
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.drop_index('ix_badges_expo_type')
        batch_op.drop_index('ix_badges_expo_name')
        batch_op.drop_index(batch_op.f('ix_badges_expo_id'))
        batch_op.drop_index(batch_op.f('ix_badges_exhibitor_id'))
        batch_op.drop_index(batch_op.f('ix_badges_delegation_id'))
        batch_op.drop_index(batch_op.f('ix_badges_badge_type_id'))

    op.drop_table('badges')
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_expo_id'))

    op.drop_table('print_jobs')
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_index('ix_visitors_expo_name')
        batch_op.drop_index(batch_op.f('ix_visitors_expo_id'))

    op.drop_table('visitors')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_keys_expo_id'))

    op.drop_table('signing_keys')
    with op.batch_alter_table('badge_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_types_expo_id'))

    op.drop_table('badge_types')
