"""coupon campaigns limited by channel, stores and audience; subscribe-message credits

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 00:20:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('coupon_campaign', sa.Column('channel', sa.String(length=12), nullable=False, server_default='ANY'))
    op.add_column('coupon_campaign', sa.Column('store_ids', postgresql.ARRAY(sa.Integer()), nullable=False,
                                               server_default='{}'))
    op.add_column('coupon_campaign', sa.Column('audience', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_check_constraint(op.f('ck_coupon_campaign_channel_known'), 'coupon_campaign',
                               "channel IN ('ANY', 'ONLINE_ONLY', 'STORE_ONLY')")
    op.create_table(
        'message_credit',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.String(length=64), nullable=False),
        sa.Column('credits', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('credits >= 0', name=op.f('ck_message_credit_credits_not_negative')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_message_credit_customer_id_customer')),
        sa.PrimaryKeyConstraint('customer_id', 'template_id', name=op.f('pk_message_credit')),
    )


def downgrade() -> None:
    op.drop_table('message_credit')
    op.drop_constraint(op.f('ck_coupon_campaign_channel_known'), 'coupon_campaign', type_='check')
    for column in ('audience', 'store_ids', 'channel'):
        op.drop_column('coupon_campaign', column)
