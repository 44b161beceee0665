"""catalog, cart, orders, payments, points and coupons; membership tier is now derived

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:15:41.560890
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=30)), nullable=False),
    sa.Column('image_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('search_grams', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('code', name=op.f('uq_product_code'))
    )
    op.create_index('ix_product_category_id', 'product', ['category', 'id'], unique=False)
    op.create_index('ix_product_search_grams', 'product', ['search_grams'], unique=False, postgresql_using='gin')
    op.create_table('sku',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('online_stock', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('online_stock >= 0', name=op.f('ck_sku_online_stock_not_negative')),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_sku_price_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sku_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sku')),
    sa.UniqueConstraint('code', name=op.f('uq_sku_code'))
    )
    op.create_index(op.f('ix_sku_product_id'), 'sku', ['product_id'], unique=False)
    op.create_table('cart_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('added_by_guide_id', sa.Integer(), nullable=True),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cart_line_quantity_positive')),
    sa.ForeignKeyConstraint(['added_by_guide_id'], ['staff.id'], name=op.f('fk_cart_line_added_by_guide_id_staff')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_cart_line_customer_id_customer')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_cart_line_sku_id_sku')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_line')),
    sa.UniqueConstraint('customer_id', 'sku_id', name='uq_cart_line_customer_sku')
    )
    op.create_table('coupon_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('discount_fen', sa.Integer(), nullable=False),
    sa.Column('min_spend_fen', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total_quantity', sa.Integer(), nullable=True),
    sa.Column('claimed', sa.Integer(), nullable=False),
    sa.Column('per_customer_limit', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_quantity IS NULL OR claimed <= total_quantity', name=op.f('ck_coupon_campaign_claims_within_total')),
    sa.CheckConstraint('valid_until > valid_from', name=op.f('ck_coupon_campaign_valid_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_coupon_campaign_created_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_campaign'))
    )
    op.create_table('store_stock',
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_store_stock_quantity_not_negative')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_store_stock_sku_id_sku')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_store_stock_store_id_store')),
    sa.PrimaryKeyConstraint('sku_id', 'store_id', name=op.f('pk_store_stock'))
    )
    op.create_index('ix_store_stock_sku_in_stock', 'store_stock', ['sku_id', 'store_id'], unique=False, postgresql_where='quantity > 0')
    op.create_table('coupon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('AVAILABLE', 'REDEEMED')", name=op.f('ck_coupon_status_known')),
    sa.ForeignKeyConstraint(['campaign_id'], ['coupon_campaign.id'], name=op.f('fk_coupon_campaign_id_coupon_campaign')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_coupon_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon')),
    sa.UniqueConstraint('token', name=op.f('uq_coupon_token'))
    )
    op.create_index('ix_coupon_customer_campaign', 'coupon', ['customer_id', 'campaign_id'], unique=False)
    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('fulfilment', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('guide_id', sa.Integer(), nullable=True),
    sa.Column('service_guide_id', sa.Integer(), nullable=True),
    sa.Column('stock_store_id', sa.Integer(), nullable=True),
    sa.Column('pickup_store_id', sa.Integer(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('subtotal_fen', sa.Integer(), nullable=False),
    sa.Column('discount_fen', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=True),
    sa.Column('points_redeemed', sa.Integer(), nullable=False),
    sa.Column('points_earned', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('receipt_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('pickup_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('payment_provider', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('refunded_by_id', sa.Integer(), nullable=True),
    sa.Column('refund_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('ONLINE', 'STORE')", name=op.f('ck_sales_order_channel_known')),
    sa.CheckConstraint("status IN ('PENDING_PAYMENT', 'PAID', 'READY_FOR_PICKUP', 'COMPLETED', 'CANCELLED', 'REFUNDED')", name=op.f('ck_sales_order_status_known')),
    sa.CheckConstraint('total_fen >= 0 AND discount_fen >= 0 AND total_fen = subtotal_fen - discount_fen', name=op.f('ck_sales_order_totals_add_up')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_sales_order_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_sales_order_customer_id_customer')),
    sa.ForeignKeyConstraint(['guide_id'], ['staff.id'], name=op.f('fk_sales_order_guide_id_staff')),
    sa.ForeignKeyConstraint(['pickup_store_id'], ['store.id'], name=op.f('fk_sales_order_pickup_store_id_store')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_sales_order_recorded_by_id_staff')),
    sa.ForeignKeyConstraint(['refunded_by_id'], ['staff.id'], name=op.f('fk_sales_order_refunded_by_id_staff')),
    sa.ForeignKeyConstraint(['service_guide_id'], ['staff.id'], name=op.f('fk_sales_order_service_guide_id_staff')),
    sa.ForeignKeyConstraint(['stock_store_id'], ['store.id'], name=op.f('fk_sales_order_stock_store_id_store')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_sales_order_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order')),
    sa.UniqueConstraint('customer_id', 'idempotency_key', name='uq_order_idempotency'),
    sa.UniqueConstraint('order_no', name=op.f('uq_sales_order_order_no')),
    sa.UniqueConstraint('pickup_token', name=op.f('uq_sales_order_pickup_token')),
    sa.UniqueConstraint('store_id', 'receipt_no', name='uq_order_receipt')
    )
    op.create_index('ix_order_customer_id', 'sales_order', ['customer_id', 'id'], unique=False)
    op.create_index('ix_order_expiry', 'sales_order', ['expires_at'], unique=False, postgresql_where="status = 'PENDING_PAYMENT'")
    op.create_index('ix_order_guide_paid', 'sales_order', ['guide_id', 'paid_at'], unique=False)
    op.create_index('ix_order_store_paid', 'sales_order', ['store_id', 'paid_at'], unique=False)
    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.Integer(), nullable=False),
    sa.Column('line_total_fen', sa.Integer(), nullable=False),
    sa.Column('pushed_by_guide_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_line_quantity_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_order_line_order_id_sales_order')),
    sa.ForeignKeyConstraint(['pushed_by_guide_id'], ['staff.id'], name=op.f('fk_order_line_pushed_by_guide_id_staff')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_order_line_sku_id_sku')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    op.create_index(op.f('ix_order_line_order_id'), 'order_line', ['order_id'], unique=False)
    op.create_index(op.f('ix_order_line_sku_id'), 'order_line', ['sku_id'], unique=False)
    op.create_table('payment_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_payment_notice_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_notice')),
    sa.UniqueConstraint('provider', 'transaction_id', name='uq_payment_notice_transaction')
    )
    op.create_index(op.f('ix_payment_notice_order_id'), 'payment_notice', ['order_id'], unique=False)
    op.create_table('points_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('EARN', 'REDEEM', 'REVERSE_EARN', 'RETURN_REDEEM')", name=op.f('ck_points_entry_reason_known')),
    sa.CheckConstraint('delta <> 0', name=op.f('ck_points_entry_delta_not_zero')),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], name=op.f('fk_points_entry_membership_id_membership')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_points_entry_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entry'))
    )
    op.create_index('ix_points_entry_membership_id', 'points_entry', ['membership_id', 'delta'], unique=False)
    op.create_index(op.f('ix_points_entry_order_id'), 'points_entry', ['order_id'], unique=False)
    op.drop_column('membership', 'tier')


def downgrade() -> None:
    op.add_column('membership', sa.Column('tier', sa.VARCHAR(length=10), server_default='REGULAR', nullable=False))
    op.drop_index(op.f('ix_points_entry_order_id'), table_name='points_entry')
    op.drop_index('ix_points_entry_membership_id', table_name='points_entry')
    op.drop_table('points_entry')
    op.drop_index(op.f('ix_payment_notice_order_id'), table_name='payment_notice')
    op.drop_table('payment_notice')
    op.drop_index(op.f('ix_order_line_sku_id'), table_name='order_line')
    op.drop_index(op.f('ix_order_line_order_id'), table_name='order_line')
    op.drop_table('order_line')
    op.drop_index('ix_order_store_paid', table_name='sales_order')
    op.drop_index('ix_order_guide_paid', table_name='sales_order')
    op.drop_index('ix_order_expiry', table_name='sales_order', postgresql_where="status = 'PENDING_PAYMENT'")
    op.drop_index('ix_order_customer_id', table_name='sales_order')
    op.drop_table('sales_order')
    op.drop_index('ix_coupon_customer_campaign', table_name='coupon')
    op.drop_table('coupon')
    op.drop_index('ix_store_stock_sku_in_stock', table_name='store_stock', postgresql_where='quantity > 0')
    op.drop_table('store_stock')
    op.drop_table('coupon_campaign')
    op.drop_table('cart_line')
    op.drop_index(op.f('ix_sku_product_id'), table_name='sku')
    op.drop_table('sku')
    op.drop_index('ix_product_search_grams', table_name='product', postgresql_using='gin')
    op.drop_index('ix_product_category_id', table_name='product')
    op.drop_table('product')
