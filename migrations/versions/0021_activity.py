"""what customers look at: product views, store views, searches (kept 180 days)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 00:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'activity',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=True),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('query', sa.String(length=100), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('PRODUCT_VIEW', 'STORE_VIEW', 'SEARCH')", name=op.f('ck_activity_kind_known')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_activity_customer_id_customer')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_activity_product_id_product')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_activity_store_id_store')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity')),
    )
    op.create_index('ix_activity_customer_at', 'activity', ['customer_id', 'at'], unique=False)
    op.create_index('ix_activity_at', 'activity', ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('activity')
