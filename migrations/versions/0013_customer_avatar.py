"""customer avatar (updateProfile)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('customer', sa.Column('avatar_url', sa.String(length=1024), nullable=True))


def downgrade() -> None:
    op.drop_column('customer', 'avatar_url')
