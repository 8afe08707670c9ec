"""gate check-in: checkpoints with their rules, scans with the scanner's nonce (unique per device), presence per
badge and zone (the row the double-entry guard updates), exhibitors' leads

Reviewed by hand: new tables only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:39:10.481537

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('hall_code', sa.String(length=20), nullable=False),
    sa.Column('badge_type_ids', sa.JSON(), nullable=False),
    sa.Column('days', sa.JSON(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('reentry', sa.Boolean(), nullable=False),
    sa.Column('auto_checkout_at', sa.Time(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_checkpoints_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints')),
    sa.UniqueConstraint('expo_id', 'code', name=op.f('uq_checkpoints_expo_id_code'))
    )
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkpoints_expo_id'), ['expo_id'], unique=False)

    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('badge_id', sa.Integer(), nullable=False),
    sa.Column('scanned_by_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_leads_badge_id_badges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_leads_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_leads_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scanned_by_id'], ['users.id'], name=op.f('fk_leads_scanned_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('exhibitor_id', 'badge_id', name=op.f('uq_leads_exhibitor_id_badge_id'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_badge_id'), ['badge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_expo_id'), ['expo_id'], unique=False)

    op.create_table('presences',
    sa.Column('badge_id', sa.Integer(), nullable=False),
    sa.Column('zone', sa.String(length=40), nullable=False),
    sa.Column('inside', sa.Boolean(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=True),
    sa.Column('last_entry_day', sa.String(length=10), nullable=False),
    sa.Column('exited_on', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_presences_badge_id_badges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('badge_id', 'zone', name=op.f('pk_presences'))
    )
    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('badge_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('code_prefix', sa.String(length=24), nullable=False),
    sa.Column('scanned_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_scans_badge_id_badges'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_scans_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_scans_checkpoint_id_checkpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_scans_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans')),
    sa.UniqueConstraint('device_id', 'nonce', name=op.f('uq_scans_device_id_nonce'))
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scans_badge_id'), ['badge_id'], unique=False)
        batch_op.create_index('ix_scans_checkpoint_at', ['checkpoint_id', 'scanned_at'], unique=False)
        batch_op.create_index('ix_scans_expo_at', ['expo_id', 'scanned_at'], unique=False)



def downgrade():
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_expo_at')
        batch_op.drop_index('ix_scans_checkpoint_at')
        batch_op.drop_index(batch_op.f('ix_scans_badge_id'))

    op.drop_table('scans')
    op.drop_table('presences')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_expo_id'))
        batch_op.drop_index(batch_op.f('ix_leads_exhibitor_id'))
        batch_op.drop_index(batch_op.f('ix_leads_badge_id'))

    op.drop_table('leads')
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkpoints_expo_id'))

    op.drop_table('checkpoints')
