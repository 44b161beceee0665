"""orders keep the buyer's join channel; covering indexes for KPI periods

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 11:09:54.528748
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sales_order', sa.Column('member_channel', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
    # Orders placed by someone who was a member by then.
    op.execute("""
        UPDATE sales_order o SET member_channel = m.join_channel FROM membership m
        WHERE m.customer_id = o.customer_id AND m.joined_at <= o.created_at
    """)
    op.drop_index(op.f('ix_order_guide_paid'), table_name='sales_order')
    op.drop_index(op.f('ix_order_paid_at'), table_name='sales_order')
    op.drop_index(op.f('ix_order_store_paid'), table_name='sales_order')
    op.create_index('ix_order_guide_paid_kpi', 'sales_order', ['guide_id', 'paid_at'], unique=False, postgresql_include=['status', 'channel', 'customer_id', 'total_fen', 'member_channel'])
    op.create_index('ix_order_paid_kpi', 'sales_order', ['paid_at'], unique=False, postgresql_include=['guide_id', 'status', 'channel', 'customer_id', 'total_fen', 'member_channel'])
    op.create_index('ix_order_store_paid_kpi', 'sales_order', ['store_id', 'paid_at'], unique=False, postgresql_include=['status', 'channel', 'customer_id', 'total_fen', 'member_channel'])


def downgrade() -> None:
    op.drop_index('ix_order_store_paid_kpi', table_name='sales_order', postgresql_include=['status', 'channel', 'customer_id', 'total_fen', 'member_channel'])
    op.drop_index('ix_order_paid_kpi', table_name='sales_order', postgresql_include=['guide_id', 'status', 'channel', 'customer_id', 'total_fen', 'member_channel'])
    op.drop_index('ix_order_guide_paid_kpi', table_name='sales_order', postgresql_include=['status', 'channel', 'customer_id', 'total_fen', 'member_channel'])
    op.create_index(op.f('ix_order_store_paid'), 'sales_order', ['store_id', 'paid_at'], unique=False)
    op.create_index(op.f('ix_order_paid_at'), 'sales_order', ['paid_at'], unique=False)
    op.create_index(op.f('ix_order_guide_paid'), 'sales_order', ['guide_id', 'paid_at'], unique=False)
    op.drop_column('sales_order', 'member_channel')
