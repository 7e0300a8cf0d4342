"""orders: orders, their history, the room charge outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 01:59:55.775568
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('stay_id', sa.Integer(), nullable=True),
    sa.Column('placement_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refunded', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending_payment', 'paid', 'fulfilled', 'cancelled', 'refunded', name='order_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('provider_ref', sa.String(length=200), nullable=True),
    sa.Column('delivery', sa.String(length=20), nullable=False),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('ship_name', sa.String(length=200), nullable=True),
    sa.Column('ship_phone', sa.String(length=40), nullable=True),
    sa.Column('ship_address', sa.String(length=500), nullable=True),
    sa.Column('ship_city', sa.String(length=100), nullable=True),
    sa.Column('ship_postcode', sa.String(length=20), nullable=True),
    sa.Column('ship_country', sa.String(length=100), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_hc_order_quantity_positive')),
    sa.CheckConstraint('refunded >= 0 AND refunded <= total', name=op.f('ck_hc_order_refund_within_total')),
    sa.CheckConstraint('total >= 0', name=op.f('ck_hc_order_total_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_order_member_id_hc_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['placement_id'], ['hc_placement.id'], name=op.f('fk_hc_order_placement_id_hc_placement'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['hc_product.id'], name=op.f('fk_hc_order_product_id_hc_product'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_order_property_id_hc_property'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stay_id'], ['hc_stay.id'], name=op.f('fk_hc_order_stay_id_hc_stay'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_order')),
    sa.UniqueConstraint('provider', 'provider_ref', name=op.f('uq_hc_order_provider_provider_ref')),
    sa.UniqueConstraint('token', name=op.f('uq_hc_order_token'))
    )
    with op.batch_alter_table('hc_order', schema=None) as batch_op:
        batch_op.create_index('ix_hc_order_expiry', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_hc_order_member', ['member_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hc_order_placement_id'), ['placement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hc_order_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_hc_order_property_status', ['property_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hc_order_stay_id'), ['stay_id'], unique=False)

    op.create_table('hc_order_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['hc_order.id'], name=op.f('fk_hc_order_event_order_id_hc_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_order_event'))
    )
    with op.batch_alter_table('hc_order_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_order_event_order_id'), ['order_id'], unique=False)

    op.create_table('hc_room_charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('stay_id', sa.Integer(), nullable=True),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('pending', 'posted', 'desk', 'desk_posted', name='room_charge_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('pms_charge_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=True),
    sa.Column('posted_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['hc_order.id'], name=op.f('fk_hc_room_charge_order_id_hc_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_room_charge_property_id_hc_property'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stay_id'], ['hc_stay.id'], name=op.f('fk_hc_room_charge_stay_id_hc_stay'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_room_charge')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_hc_room_charge_idempotency_key'))
    )
    with op.batch_alter_table('hc_room_charge', schema=None) as batch_op:
        batch_op.create_index('ix_hc_room_charge_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hc_room_charge_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hc_room_charge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_room_charge_order_id'))
        batch_op.drop_index('ix_hc_room_charge_due')

    op.drop_table('hc_room_charge')
    with op.batch_alter_table('hc_order_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_order_event_order_id'))

    op.drop_table('hc_order_event')
    with op.batch_alter_table('hc_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_order_stay_id'))
        batch_op.drop_index('ix_hc_order_property_status')
        batch_op.drop_index(batch_op.f('ix_hc_order_product_id'))
        batch_op.drop_index(batch_op.f('ix_hc_order_placement_id'))
        batch_op.drop_index('ix_hc_order_member')
        batch_op.drop_index('ix_hc_order_expiry')

    op.drop_table('hc_order')
