"""referrals: the program, who invited whom, and the rewards of invitees' first paid orders

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 03:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_OLD_REASONS = "reason IN ('EARN', 'REDEEM', 'REVERSE_EARN', 'RETURN_REDEEM', 'OPENING_BALANCE')"
_NEW_REASONS = "reason IN ('EARN', 'REDEEM', 'REVERSE_EARN', 'RETURN_REDEEM', 'OPENING_BALANCE', 'REFERRAL')"


def upgrade() -> None:
    op.create_table(
        'referral_program',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inviter_points', sa.Integer(), nullable=False),
        sa.Column('invitee_points', sa.Integer(), nullable=False),
        sa.Column('monthly_limit', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_referral_program_one_program')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['staff.id'], name=op.f('fk_referral_program_updated_by_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_program')),
    )
    op.add_column('membership', sa.Column('referred_by_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_membership_referred_by_id_membership'), 'membership', 'membership',
                          ['referred_by_id'], ['id'])
    op.create_index(op.f('ix_membership_referred_by_id'), 'membership', ['referred_by_id'], unique=False)
    op.create_table(
        'referral_reward',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inviter_membership_id', sa.Integer(), nullable=False),
        sa.Column('invitee_membership_id', sa.Integer(), nullable=False),
        sa.Column('invitee_phone_index', sa.LargeBinary(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('inviter_points', sa.Integer(), nullable=False),
        sa.Column('invitee_points', sa.Integer(), nullable=False),
        sa.Column('rewarded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['inviter_membership_id'], ['membership.id'],
                                name=op.f('fk_referral_reward_inviter_membership_id_membership')),
        sa.ForeignKeyConstraint(['invitee_membership_id'], ['membership.id'],
                                name=op.f('fk_referral_reward_invitee_membership_id_membership')),
        sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_referral_reward_order_id_sales_order')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_reward')),
        sa.UniqueConstraint('invitee_membership_id', name=op.f('uq_referral_reward_invitee_membership_id')),
        sa.UniqueConstraint('invitee_phone_index', name=op.f('uq_referral_reward_invitee_phone_index')),
    )
    op.create_index('ix_referral_reward_inviter_month', 'referral_reward', ['inviter_membership_id', 'month'],
                    unique=False)
    op.drop_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', type_='check')
    op.create_check_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', _NEW_REASONS)


def downgrade() -> None:
    op.execute("DELETE FROM points_entry WHERE reason = 'REFERRAL'")
    op.drop_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', type_='check')
    op.create_check_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', _OLD_REASONS)
    op.drop_table('referral_reward')
    op.drop_index(op.f('ix_membership_referred_by_id'), table_name='membership')
    op.drop_constraint(op.f('fk_membership_referred_by_id_membership'), 'membership', type_='foreignkey')
    op.drop_column('membership', 'referred_by_id')
    op.drop_table('referral_program')
