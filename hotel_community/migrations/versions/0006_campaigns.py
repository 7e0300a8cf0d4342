"""campaigns: campaigns, reward tiers, pledges, updates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 03:53:01.303468
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('story_en', sa.Text(), nullable=False),
    sa.Column('story_zh', sa.Text(), nullable=False),
    sa.Column('cover', sa.String(length=200), nullable=True),
    sa.Column('goal', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('eligibility', sa.Enum('stayed', 'members', name='campaign_eligibility', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('disclaimer_en', sa.Text(), nullable=False),
    sa.Column('disclaimer_zh', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'live', 'succeeded', 'failed', 'cancelled', name='campaign_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('goal > 0', name=op.f('ck_hc_campaign_goal_positive')),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_campaign_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_campaign'))
    )
    with op.batch_alter_table('hc_campaign', schema=None) as batch_op:
        batch_op.create_index('ix_hc_campaign_due', ['status', 'deadline'], unique=False)
        batch_op.create_index('ix_hc_campaign_property', ['property_id', 'id'], unique=False)

    op.create_table('hc_campaign_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_zh', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['hc_campaign.id'], name=op.f('fk_hc_campaign_update_campaign_id_hc_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_campaign_update'))
    )
    with op.batch_alter_table('hc_campaign_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_campaign_update_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('hc_reward_tier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('minimum', sa.Integer(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_zh', sa.Text(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('claimed', sa.Integer(), nullable=False),
    sa.CheckConstraint('claimed >= 0 AND (quantity IS NULL OR claimed <= quantity)', name=op.f('ck_hc_reward_tier_claimed_within_quantity')),
    sa.CheckConstraint('minimum > 0', name=op.f('ck_hc_reward_tier_minimum_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['hc_campaign.id'], name=op.f('fk_hc_reward_tier_campaign_id_hc_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_reward_tier'))
    )
    with op.batch_alter_table('hc_reward_tier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_reward_tier_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('hc_pledge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending_setup', 'active', 'cancelled', 'collected', 'payment_failed', 'uncollected', 'released', name='pledge_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('customer_ref', sa.String(length=200), nullable=True),
    sa.Column('setup_ref', sa.String(length=200), nullable=True),
    sa.Column('payment_method_ref', sa.String(length=200), nullable=True),
    sa.Column('charge_ref', sa.String(length=200), nullable=True),
    sa.Column('charge_attempts', sa.Integer(), nullable=False),
    sa.Column('collected_at', sa.DateTime(), nullable=True),
    sa.Column('retry_until', sa.DateTime(), nullable=True),
    sa.Column('card_updated_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_hc_pledge_amount_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['hc_campaign.id'], name=op.f('fk_hc_pledge_campaign_id_hc_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_pledge_member_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tier_id'], ['hc_reward_tier.id'], name=op.f('fk_hc_pledge_tier_id_hc_reward_tier'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_pledge'))
    )
    with op.batch_alter_table('hc_pledge', schema=None) as batch_op:
        batch_op.create_index('ix_hc_pledge_campaign_status', ['campaign_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_hc_pledge_member', ['member_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hc_pledge_tier_id'), ['tier_id'], unique=False)
        batch_op.create_index('uq_hc_pledge_open', ['campaign_id', 'member_id'], unique=True, sqlite_where=sa.text("status IN ('pending_setup', 'active')"), postgresql_where=sa.text("status IN ('pending_setup', 'active')"))



def downgrade() -> None:
    with op.batch_alter_table('hc_pledge', schema=None) as batch_op:
        batch_op.drop_index('uq_hc_pledge_open', sqlite_where=sa.text("status IN ('pending_setup', 'active')"), postgresql_where=sa.text("status IN ('pending_setup', 'active')"))
        batch_op.drop_index(batch_op.f('ix_hc_pledge_tier_id'))
        batch_op.drop_index('ix_hc_pledge_member')
        batch_op.drop_index('ix_hc_pledge_campaign_status')

    op.drop_table('hc_pledge')
    with op.batch_alter_table('hc_reward_tier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_reward_tier_campaign_id'))

    op.drop_table('hc_reward_tier')
    with op.batch_alter_table('hc_campaign_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_campaign_update_campaign_id'))

    op.drop_table('hc_campaign_update')
    with op.batch_alter_table('hc_campaign', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_campaign_property')
        batch_op.drop_index('ix_hc_campaign_due')

    op.drop_table('hc_campaign')
