"""the spine: properties, members, stays, groups, PMS inbox, API keys, staff

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 23:27:32.027228
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_member')),
    sa.UniqueConstraint('email', name=op.f('uq_hc_member_email'))
    )
    op.create_table('hc_property',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('welcome_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_property')),
    sa.UniqueConstraint('code', name=op.f('uq_hc_property_code'))
    )
    op.create_table('hc_staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_hc_staff_user_username'))
    )
    op.create_table('hc_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=500), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_api_key_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_api_key')),
    sa.UniqueConstraint('key_id', name=op.f('uq_hc_api_key_key_id'))
    )
    with op.batch_alter_table('hc_api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_api_key_property_id'), ['property_id'], unique=False)

    op.create_table('hc_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('stay', 'alumni', name='group_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_group_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_group')),
    sa.UniqueConstraint('property_id', 'kind', name=op.f('uq_hc_group_property_id_kind'))
    )
    op.create_table('hc_guest_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('pms_guest_id', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_guest_identity_member_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_guest_identity_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_guest_identity')),
    sa.UniqueConstraint('property_id', 'pms_guest_id', name=op.f('uq_hc_guest_identity_property_id_pms_guest_id'))
    )
    with op.batch_alter_table('hc_guest_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_guest_identity_member_id'), ['member_id'], unique=False)

    op.create_table('hc_pms_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('reservation_id', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_pms_event_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_pms_event')),
    sa.UniqueConstraint('property_id', 'event_id', name=op.f('uq_hc_pms_event_property_id_event_id'))
    )
    with op.batch_alter_table('hc_pms_event', schema=None) as batch_op:
        batch_op.create_index('ix_hc_pms_event_received', ['property_id', 'received_at'], unique=False)

    op.create_table('hc_stay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.String(length=100), nullable=False),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('arrival', sa.Date(), nullable=False),
    sa.Column('departure', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('expected', 'in_house', 'checked_out', 'cancelled', 'no_show', name='stay_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('snapshot_at', sa.DateTime(), nullable=False),
    sa.Column('last_event_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_stay_property_id_hc_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_stay')),
    sa.UniqueConstraint('property_id', 'reservation_id', name=op.f('uq_hc_stay_property_id_reservation_id'))
    )
    with op.batch_alter_table('hc_stay', schema=None) as batch_op:
        batch_op.create_index('ix_hc_stay_property_status_room', ['property_id', 'status', 'room'], unique=False)

    op.create_table('hc_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['hc_group.id'], name=op.f('fk_hc_membership_group_id_hc_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_membership_member_id_hc_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_membership'))
    )
    with op.batch_alter_table('hc_membership', schema=None) as batch_op:
        batch_op.create_index('ix_hc_membership_group_open', ['group_id', 'left_at', 'joined_at'], unique=False)
        batch_op.create_index('ix_hc_membership_member_open', ['member_id', 'left_at'], unique=False)
        batch_op.create_index('uq_hc_membership_open', ['group_id', 'member_id'], unique=True, sqlite_where=sa.text('left_at IS NULL'), postgresql_where=sa.text('left_at IS NULL'))

    op.create_table('hc_stay_guest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stay_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('pms_guest_id', sa.String(length=100), nullable=True),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_stay_guest_member_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stay_id'], ['hc_stay.id'], name=op.f('fk_hc_stay_guest_stay_id_hc_stay'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_stay_guest')),
    sa.UniqueConstraint('stay_id', 'member_id', name=op.f('uq_hc_stay_guest_stay_id_member_id'))
    )
    with op.batch_alter_table('hc_stay_guest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_stay_guest_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hc_stay_guest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_stay_guest_member_id'))

    op.drop_table('hc_stay_guest')
    with op.batch_alter_table('hc_membership', schema=None) as batch_op:
        batch_op.drop_index('uq_hc_membership_open', sqlite_where=sa.text('left_at IS NULL'), postgresql_where=sa.text('left_at IS NULL'))
        batch_op.drop_index('ix_hc_membership_member_open')
        batch_op.drop_index('ix_hc_membership_group_open')

    op.drop_table('hc_membership')
    with op.batch_alter_table('hc_stay', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_stay_property_status_room')

    op.drop_table('hc_stay')
    with op.batch_alter_table('hc_pms_event', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_pms_event_received')

    op.drop_table('hc_pms_event')
    with op.batch_alter_table('hc_guest_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_guest_identity_member_id'))

    op.drop_table('hc_guest_identity')
    op.drop_table('hc_group')
    with op.batch_alter_table('hc_api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_api_key_property_id'))

    op.drop_table('hc_api_key')
    op.drop_table('hc_staff_user')
    op.drop_table('hc_property')
    op.drop_table('hc_member')
