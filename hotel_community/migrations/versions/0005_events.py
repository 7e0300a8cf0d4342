"""events: events, occurrences, tickets, notifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 03:09:57.134648
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_notification_member_id_hc_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_notification'))
    )
    with op.batch_alter_table('hc_notification', schema=None) as batch_op:
        batch_op.create_index('ix_hc_notification_member', ['member_id', 'read_at', 'id'], unique=False)

    op.create_table('hc_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_zh', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.Enum('in_house', 'members', 'public', name='event_audience', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('plus_ones', sa.Boolean(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('repeat_daily_until', sa.Date(), nullable=True),
    sa.Column('rsvp_closes_minutes', sa.Integer(), nullable=False),
    sa.Column('announcement_post_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_hc_event_capacity_positive')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_hc_event_price_not_negative')),
    sa.ForeignKeyConstraint(['announcement_post_id'], ['hc_post.id'], name=op.f('fk_hc_event_announcement_post_id_hc_post'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_event_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_event'))
    )
    with op.batch_alter_table('hc_event', schema=None) as batch_op:
        batch_op.create_index('ix_hc_event_property', ['property_id', 'id'], unique=False)

    op.create_table('hc_event_occurrence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('taken >= 0 AND taken <= capacity', name=op.f('ck_hc_event_occurrence_taken_within_capacity')),
    sa.ForeignKeyConstraint(['event_id'], ['hc_event.id'], name=op.f('fk_hc_event_occurrence_event_id_hc_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_event_occurrence')),
    sa.UniqueConstraint('event_id', 'starts_at', name=op.f('uq_hc_event_occurrence_event_id_starts_at'))
    )
    with op.batch_alter_table('hc_event_occurrence', schema=None) as batch_op:
        batch_op.create_index('ix_hc_event_occurrence_starts', ['starts_at'], unique=False)

    op.create_table('hc_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending_payment', 'confirmed', 'waitlisted', 'offered', 'cancelled', name='ticket_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('offered_until', sa.DateTime(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_by', sa.String(length=100), nullable=True),
    sa.Column('check_in_scan', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('places IN (1, 2)', name=op.f('ck_hc_ticket_one_or_two_places')),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_ticket_member_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['occurrence_id'], ['hc_event_occurrence.id'], name=op.f('fk_hc_ticket_occurrence_id_hc_event_occurrence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['hc_order.id'], name=op.f('fk_hc_ticket_order_id_hc_order'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_ticket')),
    sa.UniqueConstraint('code', name=op.f('uq_hc_ticket_code'))
    )
    with op.batch_alter_table('hc_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_hc_ticket_member', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_hc_ticket_occurrence_status', ['occurrence_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hc_ticket_order_id'), ['order_id'], unique=False)
        batch_op.create_index('uq_hc_ticket_open', ['occurrence_id', 'member_id'], unique=True, sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))



def downgrade() -> None:
    with op.batch_alter_table('hc_ticket', schema=None) as batch_op:
        batch_op.drop_index('uq_hc_ticket_open', sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))
        batch_op.drop_index(batch_op.f('ix_hc_ticket_order_id'))
        batch_op.drop_index('ix_hc_ticket_occurrence_status')
        batch_op.drop_index('ix_hc_ticket_member')

    op.drop_table('hc_ticket')
    with op.batch_alter_table('hc_event_occurrence', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_event_occurrence_starts')

    op.drop_table('hc_event_occurrence')
    with op.batch_alter_table('hc_event', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_event_property')

    op.drop_table('hc_event')
    with op.batch_alter_table('hc_notification', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_notification_member')

    op.drop_table('hc_notification')
