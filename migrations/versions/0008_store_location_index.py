"""nearby search: the location index includes the store id (index-only ranking)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 13:30:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_store_location', 'store', ['lat', 'lng'], unique=False, postgresql_include=['id'])
    op.drop_index('ix_store_lat_lng', table_name='store')


def downgrade() -> None:
    op.create_index('ix_store_lat_lng', 'store', ['lat', 'lng'], unique=False)
    op.drop_index('ix_store_location', table_name='store')
