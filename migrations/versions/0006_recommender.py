"""the recommender: neighbours, popularity, trainings, shown recommendations; lines keep theirs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 11:02:57.919212
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reco_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('products', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reco_model'))
    )
    op.create_table('reco_neighbour',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('neighbour_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('product_id', 'kind', 'neighbour_id', name=op.f('pk_reco_neighbour'))
    )
    op.create_table('reco_popular',
    sa.Column('store_key', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('store_key', 'product_id', name=op.f('pk_reco_popular'))
    )
    op.create_table('reco_shown',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('context', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('attributed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_reco_shown_customer_id_customer')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_reco_shown_order_id_sales_order')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_reco_shown_product_id_product')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_reco_shown_sku_id_sku')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_reco_shown_staff_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_reco_shown_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reco_shown'))
    )
    op.create_index('ix_reco_shown_customer_sku', 'reco_shown', ['customer_id', 'sku_id', 'created_at'], unique=False)
    op.add_column('cart_line', sa.Column('recommendation_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_cart_line_recommendation_id_reco_shown'), 'cart_line', 'reco_shown', ['recommendation_id'], ['id'])
    op.add_column('order_line', sa.Column('recommendation_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_order_line_recommendation_id_reco_shown'), 'order_line', 'reco_shown', ['recommendation_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_order_line_recommendation_id_reco_shown'), 'order_line', type_='foreignkey')
    op.drop_column('order_line', 'recommendation_id')
    op.drop_constraint(op.f('fk_cart_line_recommendation_id_reco_shown'), 'cart_line', type_='foreignkey')
    op.drop_column('cart_line', 'recommendation_id')
    op.drop_index('ix_reco_shown_customer_sku', table_name='reco_shown')
    op.drop_table('reco_shown')
    op.drop_table('reco_popular')
    op.drop_table('reco_neighbour')
    op.drop_table('reco_model')
