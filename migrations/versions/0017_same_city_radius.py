"""stores: same-city delivery radius

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 18:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('store', sa.Column('same_city_radius_m', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('store', 'same_city_radius_m')
