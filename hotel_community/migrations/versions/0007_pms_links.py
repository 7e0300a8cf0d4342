"""pms links: per-property PMS settings and the webhook notification inbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 05:56:59.916400
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_pms_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('adapter', sa.String(length=50), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('secrets_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('check_ok', sa.Boolean(), nullable=True),
    sa.Column('check_message', sa.Text(), nullable=False),
    sa.Column('synced_at', sa.DateTime(), nullable=True),
    sa.Column('sync_summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_pms_link_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_pms_link')),
    sa.UniqueConstraint('property_id', name=op.f('uq_hc_pms_link_property_id'))
    )
    op.create_table('hc_pms_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('adapter', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('pending', 'done', 'failed', name='pms_notification_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('last_received_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_pms_notification_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_pms_notification'))
    )
    with op.batch_alter_table('hc_pms_notification', schema=None) as batch_op:
        batch_op.create_index('ix_hc_pms_notification_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_hc_pms_notification_property', ['property_id', 'id'], unique=False)
        batch_op.create_index('uq_hc_pms_notification_pending', ['property_id', 'kind', 'ref'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))



def downgrade() -> None:
    with op.batch_alter_table('hc_pms_notification', schema=None) as batch_op:
        batch_op.drop_index('uq_hc_pms_notification_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_hc_pms_notification_property')
        batch_op.drop_index('ix_hc_pms_notification_due')

    op.drop_table('hc_pms_notification')
    op.drop_table('hc_pms_link')
