"""community: profiles, interests, posts, reactions, connections, blocks, reports, moderation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:04:37.940464
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hc_interest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('curated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_interest')),
    sa.UniqueConstraint('slug', name=op.f('uq_hc_interest_slug'))
    )
    op.create_table('hc_block',
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['blocked_id'], ['hc_member.id'], name=op.f('fk_hc_block_blocked_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['hc_member.id'], name=op.f('fk_hc_block_blocker_id_hc_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('blocker_id', 'blocked_id', name=op.f('pk_hc_block'))
    )
    with op.batch_alter_table('hc_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_block_blocked_id'), ['blocked_id'], unique=False)

    op.create_table('hc_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('addressee_id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', name='connection_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['addressee_id'], ['hc_member.id'], name=op.f('fk_hc_connection_addressee_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_connection_property_id_hc_property'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['hc_member.id'], name=op.f('fk_hc_connection_requester_id_hc_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_connection')),
    sa.UniqueConstraint('requester_id', 'addressee_id', name=op.f('uq_hc_connection_requester_id_addressee_id'))
    )
    with op.batch_alter_table('hc_connection', schema=None) as batch_op:
        batch_op.create_index('ix_hc_connection_addressee', ['addressee_id', 'status'], unique=False)
        batch_op.create_index('ix_hc_connection_property_created', ['property_id', 'created_at'], unique=False)

    op.create_table('hc_member_interest',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('interest_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['interest_id'], ['hc_interest.id'], name=op.f('fk_hc_member_interest_interest_id_hc_interest'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_member_interest_member_id_hc_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'interest_id', name=op.f('pk_hc_member_interest'))
    )
    with op.batch_alter_table('hc_member_interest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_member_interest_interest_id'), ['interest_id'], unique=False)

    op.create_table('hc_profile',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=60), nullable=True),
    sa.Column('photo', sa.String(length=200), nullable=True),
    sa.Column('home_city', sa.String(length=100), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('contact_kind', sa.String(length=20), nullable=True),
    sa.Column('contact_value', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_profile_member_id_hc_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_hc_profile'))
    )
    op.create_table('hc_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('post', 'announcement', name='post_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('staff_author', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('photo', sa.String(length=200), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['hc_member.id'], name=op.f('fk_hc_post_author_id_hc_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['hc_group.id'], name=op.f('fk_hc_post_group_id_hc_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['hc_post.id'], name=op.f('fk_hc_post_parent_id_hc_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_post'))
    )
    with op.batch_alter_table('hc_post', schema=None) as batch_op:
        batch_op.create_index('ix_hc_post_author', ['author_id', 'id'], unique=False)
        batch_op.create_index('ix_hc_post_group_created', ['group_id', 'created_at'], unique=False)
        batch_op.create_index('ix_hc_post_feed', ['group_id', 'parent_id', 'id'], unique=False)
        batch_op.create_index('ix_hc_post_replies', ['parent_id', 'id'], unique=False)

    op.create_table('hc_reaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['hc_member.id'], name=op.f('fk_hc_reaction_member_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['hc_post.id'], name=op.f('fk_hc_reaction_post_id_hc_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_reaction')),
    sa.UniqueConstraint('post_id', 'member_id', 'kind', name=op.f('uq_hc_reaction_post_id_member_id_kind'))
    )
    with op.batch_alter_table('hc_reaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hc_reaction_member_id'), ['member_id'], unique=False)

    op.create_table('hc_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('reported_member_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_by', sa.String(length=200), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['hc_post.id'], name=op.f('fk_hc_report_post_id_hc_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['hc_property.id'], name=op.f('fk_hc_report_property_id_hc_property'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_member_id'], ['hc_member.id'], name=op.f('fk_hc_report_reported_member_id_hc_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['hc_member.id'], name=op.f('fk_hc_report_reporter_id_hc_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hc_report'))
    )
    with op.batch_alter_table('hc_report', schema=None) as batch_op:
        batch_op.create_index('ix_hc_report_queue', ['property_id', 'handled_at', 'id'], unique=False)
        batch_op.create_index('uq_hc_report_open_post', ['reporter_id', 'post_id'], unique=True, sqlite_where=sa.text('handled_at IS NULL AND post_id IS NOT NULL'), postgresql_where=sa.text('handled_at IS NULL AND post_id IS NOT NULL'))
        batch_op.create_index('uq_hc_report_open_member', ['reporter_id', 'reported_member_id'], unique=True, sqlite_where=sa.text('handled_at IS NULL AND reported_member_id IS NOT NULL'), postgresql_where=sa.text('handled_at IS NULL AND reported_member_id IS NOT NULL'))

    with op.batch_alter_table('hc_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('hc_membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('muted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('hc_membership', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('muted_at')

    with op.batch_alter_table('hc_member', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')

    with op.batch_alter_table('hc_report', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_report_queue')

    op.drop_table('hc_report')
    with op.batch_alter_table('hc_reaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_reaction_member_id'))

    op.drop_table('hc_reaction')
    with op.batch_alter_table('hc_post', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_post_replies')
        batch_op.drop_index('ix_hc_post_feed')
        batch_op.drop_index('ix_hc_post_author')

    op.drop_table('hc_post')
    op.drop_table('hc_profile')
    with op.batch_alter_table('hc_member_interest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_member_interest_interest_id'))

    op.drop_table('hc_member_interest')
    with op.batch_alter_table('hc_connection', schema=None) as batch_op:
        batch_op.drop_index('ix_hc_connection_property_created')
        batch_op.drop_index('ix_hc_connection_addressee')

    op.drop_table('hc_connection')
    with op.batch_alter_table('hc_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hc_block_blocked_id'))

    op.drop_table('hc_block')
    op.drop_table('hc_interest')
