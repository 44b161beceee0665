"""fulfilment and returns: shipments, routing rules, returns, refunds; order delivery fee,
refunded amount and address location; order line returned quantity

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 23:55:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_STATUSES = "'PENDING_PAYMENT', 'PAID', 'READY_FOR_PICKUP', 'COMPLETED', 'CANCELLED', 'REFUNDED'"
NEW_STATUSES = ("'PENDING_PAYMENT', 'PAID', 'READY_FOR_PICKUP', 'SHIPPED', 'COMPLETED', 'CANCELLED', "
                "'PARTIALLY_REFUNDED', 'REFUNDED'")


def upgrade() -> None:
    op.add_column('sales_order', sa.Column('address_lat', sa.Float(), nullable=True))
    op.add_column('sales_order', sa.Column('address_lng', sa.Float(), nullable=True))
    op.add_column('sales_order', sa.Column('delivery_fee_fen', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('sales_order', sa.Column('refunded_fen', sa.Integer(), nullable=False, server_default='0'))
    # Orders refunded before this revision gave back everything they had cost.
    op.execute("UPDATE sales_order SET refunded_fen = total_fen WHERE status = 'REFUNDED'")
    op.drop_constraint(op.f('ck_sales_order_status_known'), 'sales_order', type_='check')
    op.create_check_constraint(op.f('ck_sales_order_status_known'), 'sales_order', f"status IN ({NEW_STATUSES})")
    op.drop_constraint(op.f('ck_sales_order_totals_add_up'), 'sales_order', type_='check')
    op.create_check_constraint(op.f('ck_sales_order_totals_add_up'), 'sales_order',
        "total_fen >= 0 AND discount_fen >= 0 AND delivery_fee_fen >= 0 "
        "AND total_fen = subtotal_fen - discount_fen + delivery_fee_fen")
    op.create_check_constraint(op.f('ck_sales_order_refund_within_total'), 'sales_order',
                               "refunded_fen BETWEEN 0 AND total_fen")
    op.add_column('order_line', sa.Column('returned_quantity', sa.Integer(), nullable=False, server_default='0'))
    op.create_check_constraint(op.f('ck_order_line_returned_within_quantity'), 'order_line',
                               "returned_quantity BETWEEN 0 AND quantity")

    op.create_table(
        'order_routing',
        sa.Column('id', sa.SmallInteger(), nullable=False),
        sa.Column('rules', postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_routing')),
    )
    op.create_table(
        'shipment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('from_store_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('carrier', sa.String(length=50), nullable=True),
        sa.Column('tracking_no', sa.String(length=64), nullable=True),
        sa.Column('reject_reason', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('packed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('ALLOCATED', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED')",
                           name=op.f('ck_shipment_status_known')),
        sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_shipment_order_id_sales_order')),
        sa.ForeignKeyConstraint(['from_store_id'], ['store.id'], name=op.f('fk_shipment_from_store_id_store')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
    )
    op.create_index('ix_shipment_order_id', 'shipment', ['order_id'], unique=False)
    op.create_index('ix_shipment_queue', 'shipment', ['from_store_id', 'status', 'id'], unique=False)
    op.create_table(
        'shipment_line',
        sa.Column('shipment_id', sa.Integer(), nullable=False),
        sa.Column('order_line_id', sa.Integer(), nullable=False),
        sa.Column('sku_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_shipment_line_quantity_positive')),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_line_shipment_id_shipment')),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'],
                                name=op.f('fk_shipment_line_order_line_id_order_line')),
        sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_shipment_line_sku_id_sku')),
        sa.PrimaryKeyConstraint('shipment_id', 'order_line_id', name=op.f('pk_shipment_line')),
    )
    op.create_table(
        'return_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('refund_fen', sa.Integer(), nullable=False),
        sa.Column('received_store_id', sa.Integer(), nullable=True),
        sa.Column('received_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('REQUESTED', 'RECEIVED', 'REFUNDED', 'REJECTED')",
                           name=op.f('ck_return_request_status_known')),
        sa.CheckConstraint('refund_fen >= 0', name=op.f('ck_return_request_refund_not_negative')),
        sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_return_request_order_id_sales_order')),
        sa.ForeignKeyConstraint(['received_store_id'], ['store.id'],
                                name=op.f('fk_return_request_received_store_id_store')),
        sa.ForeignKeyConstraint(['received_by_id'], ['staff.id'], name=op.f('fk_return_request_received_by_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_request')),
    )
    op.create_index('ix_return_request_order_id', 'return_request', ['order_id'], unique=False)
    op.create_table(
        'return_line',
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('order_line_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_return_line_quantity_positive')),
        sa.ForeignKeyConstraint(['return_id'], ['return_request.id'],
                                name=op.f('fk_return_line_return_id_return_request')),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'],
                                name=op.f('fk_return_line_order_line_id_order_line')),
        sa.PrimaryKeyConstraint('return_id', 'order_line_id', name=op.f('pk_return_line')),
    )
    op.create_index('ix_return_line_order_line_id', 'return_line', ['order_line_id'], unique=False)
    op.create_table(
        'refund',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('refund_no', sa.String(length=32), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=True),
        sa.Column('amount_fen', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('provider', sa.String(length=16), nullable=True),
        sa.Column('provider_refund_id', sa.String(length=64), nullable=True),
        sa.Column('failure_reason', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('PENDING', 'SUCCEEDED', 'FAILED')", name=op.f('ck_refund_status_known')),
        sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_refund_amount_not_negative')),
        sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_refund_order_id_sales_order')),
        sa.ForeignKeyConstraint(['return_id'], ['return_request.id'], name=op.f('fk_refund_return_id_return_request')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund')),
        sa.UniqueConstraint('refund_no', name=op.f('uq_refund_refund_no')),
        sa.UniqueConstraint('return_id', name='uq_refund_return'),
    )
    op.create_index('ix_refund_order_id', 'refund', ['order_id'], unique=False)
    op.create_index('ix_refund_pending', 'refund', ['id'], unique=False, postgresql_where="status = 'PENDING'")


def downgrade() -> None:
    op.drop_table('refund')
    op.drop_table('return_line')
    op.drop_table('return_request')
    op.drop_table('shipment_line')
    op.drop_table('shipment')
    op.drop_table('order_routing')
    op.drop_constraint(op.f('ck_order_line_returned_within_quantity'), 'order_line', type_='check')
    op.drop_column('order_line', 'returned_quantity')
    op.drop_constraint(op.f('ck_sales_order_refund_within_total'), 'sales_order', type_='check')
    op.drop_constraint(op.f('ck_sales_order_totals_add_up'), 'sales_order', type_='check')
    op.create_check_constraint(op.f('ck_sales_order_totals_add_up'), 'sales_order',
                               "total_fen >= 0 AND discount_fen >= 0 AND total_fen = subtotal_fen - discount_fen")
    op.drop_constraint(op.f('ck_sales_order_status_known'), 'sales_order', type_='check')
    op.create_check_constraint(op.f('ck_sales_order_status_known'), 'sales_order', f"status IN ({OLD_STATUSES})")
    for column in ('refunded_fen', 'delivery_fee_fen', 'address_lng', 'address_lat'):
        op.drop_column('sales_order', column)
