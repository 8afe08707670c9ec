"""venue geometry, booths, stands, allocation proposals, payment status

Reviewed by hand: columns added to tables that may hold rows get server defaults (the same values as the models'
defaults), so the upgrade works on a live database; booth geometry is in metres as floats (0.01 m is plenty).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:36:17.303474

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_stands_exhibitor_id_exhibitors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_stands_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stands'))
    )
    with op.batch_alter_table('stands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stands_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stands_expo_id'), ['expo_id'], unique=False)

    op.create_table('allocation_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_allocation_proposals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_allocation_proposals_expo_id_expos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_proposals'))
    )
    with op.batch_alter_table('allocation_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_proposals_expo_id'), ['expo_id'], unique=False)

    op.create_table('booths',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expo_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('pavilion_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('x_m', sa.Float(), nullable=False),
    sa.Column('y_m', sa.Float(), nullable=False),
    sa.Column('width_m', sa.Float(), nullable=False),
    sa.Column('depth_m', sa.Float(), nullable=False),
    sa.Column('raw_space', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('open_sides', sa.String(length=4), nullable=False),
    sa.Column('price_cny', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=True),
    sa.Column('hold_expires_at', sa.DateTime(), nullable=True),
    sa.Column('stand_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['exhibitors.id'], name=op.f('fk_booths_exhibitor_id_exhibitors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expo_id'], ['expos.id'], name=op.f('fk_booths_expo_id_expos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], name=op.f('fk_booths_hall_id_halls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pavilion_id'], ['pavilions.id'], name=op.f('fk_booths_pavilion_id_pavilions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stand_id'], ['stands.id'], name=op.f('fk_booths_stand_id_stands'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booths')),
    sa.UniqueConstraint('expo_id', 'number', name=op.f('uq_booths_expo_id_number'))
    )
    with op.batch_alter_table('booths', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booths_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index('ix_booths_expo_status', ['expo_id', 'status'], unique=False)
        batch_op.create_index('ix_booths_hall_position', ['hall_id', 'y_m', 'x_m'], unique=False)
        batch_op.create_index(batch_op.f('ix_booths_pavilion_id'), ['pavilion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booths_stand_id'), ['stand_id'], unique=False)

    op.create_table('pavilion_categories',
    sa.Column('pavilion_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_pavilion_categories_category_id_product_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pavilion_id'], ['pavilions.id'], name=op.f('fk_pavilion_categories_pavilion_id_pavilions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pavilion_id', 'category_id', name=op.f('pk_pavilion_categories'))
    )
    with op.batch_alter_table('expos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corner_premium_percent', sa.Integer(), nullable=False, server_default='10'))
        batch_op.add_column(sa.Column('hold_minutes', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('self_selection_open', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('allocation_rule', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('halls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_x_m', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('plan_y_m', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('entrances', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('obstacles', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('space_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_status', sa.String(length=10), nullable=False, server_default='unpaid'))
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('priority_bonus', sa.Integer(), nullable=False, server_default='0'))



def downgrade():
    with op.batch_alter_table('space_applications', schema=None) as batch_op:
        batch_op.drop_column('priority_bonus')
        batch_op.drop_column('paid_at')
        batch_op.drop_column('payment_status')

    with op.batch_alter_table('halls', schema=None) as batch_op:
        batch_op.drop_column('obstacles')
        batch_op.drop_column('entrances')
        batch_op.drop_column('plan_y_m')
        batch_op.drop_column('plan_x_m')

    with op.batch_alter_table('expos', schema=None) as batch_op:
        batch_op.drop_column('allocation_rule')
        batch_op.drop_column('self_selection_open')
        batch_op.drop_column('hold_minutes')
        batch_op.drop_column('corner_premium_percent')

    op.drop_table('pavilion_categories')
    with op.batch_alter_table('booths', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booths_stand_id'))
        batch_op.drop_index(batch_op.f('ix_booths_pavilion_id'))
        batch_op.drop_index('ix_booths_hall_position')
        batch_op.drop_index('ix_booths_expo_status')
        batch_op.drop_index(batch_op.f('ix_booths_exhibitor_id'))

    op.drop_table('booths')
    with op.batch_alter_table('allocation_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_proposals_expo_id'))

    op.drop_table('allocation_proposals')
    with op.batch_alter_table('stands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stands_expo_id'))
        batch_op.drop_index(batch_op.f('ix_stands_exhibitor_id'))

    op.drop_table('stands')
