"""marketing campaigns and each member's message of one (treated or held out)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 03:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'marketing_campaign',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('trigger', sa.String(length=24), nullable=False),
        sa.Column('audience', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('offer_campaign_id', sa.Integer(), nullable=True),
        sa.Column('template_id', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('control_share', sa.Float(), nullable=False),
        sa.Column('radius_m', sa.Integer(), nullable=True),
        sa.Column('delay_minutes', sa.Integer(), nullable=True),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('broadcast_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('LIVE', 'PAUSED', 'ENDED')", name=op.f('ck_marketing_campaign_state_known')),
        sa.CheckConstraint('control_share >= 0 AND control_share <= 0.5',
                           name=op.f('ck_marketing_campaign_control_share_range')),
        sa.ForeignKeyConstraint(['offer_campaign_id'], ['coupon_campaign.id'],
                                name=op.f('fk_marketing_campaign_offer_campaign_id_coupon_campaign')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_marketing_campaign_store_id_store')),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'],
                                name=op.f('fk_marketing_campaign_created_by_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_campaign')),
    )
    op.create_index('ix_marketing_campaign_live', 'marketing_campaign', ['trigger', 'starts_at'], unique=False,
                    postgresql_where="state = 'LIVE'")
    op.create_table(
        'marketing_message',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('guide_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('treated', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('template_id', sa.String(length=64), nullable=False),
        sa.Column('eligible_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('coupon_id', sa.Integer(), nullable=True),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('distance_band', sa.String(length=12), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.CheckConstraint("status IN ('PENDING', 'SENT', 'CONTROL', 'UNREACHABLE', 'SUPPRESSED', 'FAILED', "
                           "'CANCELLED')", name=op.f('ck_marketing_message_status_known')),
        sa.ForeignKeyConstraint(['campaign_id'], ['marketing_campaign.id'],
                                name=op.f('fk_marketing_message_campaign_id_marketing_campaign')),
        sa.ForeignKeyConstraint(['guide_id'], ['staff.id'], name=op.f('fk_marketing_message_guide_id_staff')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name=op.f('fk_marketing_message_customer_id_customer')),
        sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_marketing_message_coupon_id_coupon')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_marketing_message_store_id_store')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_message')),
    )
    op.create_index('uq_marketing_message_campaign_customer', 'marketing_message', ['campaign_id', 'customer_id'],
                    unique=True, postgresql_where='campaign_id IS NOT NULL')
    op.create_index('ix_marketing_message_due', 'marketing_message', ['due_at'], unique=False,
                    postgresql_where="status = 'PENDING'")
    op.create_index('ix_marketing_message_sent', 'marketing_message', ['customer_id', 'sent_at'], unique=False,
                    postgresql_where="status = 'SENT'")
    op.create_index(op.f('ix_marketing_message_customer_id'), 'marketing_message', ['customer_id'], unique=False)
    op.create_index('ix_appointment_checked_in', 'appointment', ['checked_in_at'], unique=False,
                    postgresql_where='checked_in_at IS NOT NULL')


def downgrade() -> None:
    op.drop_index('ix_appointment_checked_in', table_name='appointment')
    op.drop_table('marketing_message')
    op.drop_table('marketing_campaign')
