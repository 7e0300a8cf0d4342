"""shop: products, product photos, placements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 01:12:18.047996
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_zh', sa.Text(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('price >= 0', name=op.f('ck_hc_product_price_not_negative')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_hc_product_stock_not_negative')),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_product_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_product')),
    sa.UniqueConstraint('property_id', 'sku', name=op.f('uq_hc_product_property_id_sku'))
    )
    with op.batch_alter_table('hc_product', schema=None) as batch_op:
        batch_op.create_index('ix_hc_product_property_active', ['property_id', 'active', 'id'], unique=False)

    op.create_table('hc_placement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=60), nullable=False),
    sa.Column('is_room', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['hc_product.id'], name=op.f('fk_hc_placement_product_id_hc_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_placement_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_placement')),
    sa.UniqueConstraint('code', name=op.f('uq_hc_placement_code')),
    sa.UniqueConstraint('product_id', 'location', name=op.f('uq_hc_placement_product_id_location'))
    )
    with op.batch_alter_table('hc_placement', schema=None) as batch_op:
        batch_op.create_index('ix_hc_placement_property_location', ['property_id', 'location'], unique=False)

    op.create_table('hc_product_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('photo', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['hc_product.id'], name=op.f('fk_hc_product_photo_product_id_hc_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_product_photo'))
    )
    with op.batch_alter_table('hc_product_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_product_photo_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hc_product_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_product_photo_product_id'))

    op.drop_table('hc_product_photo')
    with op.batch_alter_table('hc_placement', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_placement_property_location')

    op.drop_table('hc_placement')
    with op.batch_alter_table('hc_product', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_product_property_active')

    op.drop_table('hc_product')
