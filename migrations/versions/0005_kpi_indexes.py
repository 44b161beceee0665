"""indexes for the KPIs: joins by store or recruiter and day, scans by store and time, orders by paid time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:47:23.866454
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f('ix_join_scan_store_id'), table_name='join_scan')
    op.create_index('ix_join_scan_store_scanned', 'join_scan', ['store_id', 'scanned_at'], unique=False)
    op.drop_index(op.f('ix_membership_join_store_id'), table_name='membership')
    op.drop_index(op.f('ix_membership_recruited_by_id'), table_name='membership')
    op.create_index('ix_membership_join_store_joined', 'membership', ['join_store_id', 'joined_at'], unique=False)
    op.create_index('ix_membership_recruited_joined', 'membership', ['recruited_by_id', 'joined_at'], unique=False)
    op.create_index('ix_order_paid_at', 'sales_order', ['paid_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_order_paid_at', table_name='sales_order')
    op.drop_index('ix_membership_recruited_joined', table_name='membership')
    op.drop_index('ix_membership_join_store_joined', table_name='membership')
    op.create_index(op.f('ix_membership_recruited_by_id'), 'membership', ['recruited_by_id'], unique=False)
    op.create_index(op.f('ix_membership_join_store_id'), 'membership', ['join_store_id'], unique=False)
    op.drop_index('ix_join_scan_store_scanned', table_name='join_scan')
    op.create_index(op.f('ix_join_scan_store_id'), 'join_scan', ['store_id'], unique=False)
