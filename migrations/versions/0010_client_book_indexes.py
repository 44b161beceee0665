"""client book: a guide's members by (guide, id); a customer's orders cover what segments read

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:30:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_membership_guide_id', table_name='membership')
    op.create_index('ix_membership_guide_id', 'membership', ['guide_id', 'id'], unique=False)
    op.drop_index('ix_order_customer_id', table_name='sales_order')
    op.create_index('ix_order_customer_id', 'sales_order', ['customer_id', 'id'], unique=False,
                    postgresql_include=['status', 'channel', 'paid_at', 'total_fen'])
    op.create_index('ix_customer_deleted', 'customer', ['id'], unique=False,
                    postgresql_where='deleted_at IS NOT NULL')


def downgrade() -> None:
    op.drop_index('ix_customer_deleted', table_name='customer')
    op.drop_index('ix_membership_guide_id', table_name='membership')
    op.create_index('ix_membership_guide_id', 'membership', ['guide_id'], unique=False)
    op.drop_index('ix_order_customer_id', table_name='sales_order')
    op.create_index('ix_order_customer_id', 'sales_order', ['customer_id', 'id'], unique=False)
