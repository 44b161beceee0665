"""store: a GiST index on point(lng, lat), for the nearby search's nearest-first walk (with id,
lat and lng: an index-only scan)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 19:00:00
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_store_spot ON store USING gist (point(lng, lat)) INCLUDE (id, lat, lng)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_store_spot")
