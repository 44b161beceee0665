"""trusted documents (persisted operations from the apps' manifests)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trusted_document',
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_document')),
    )
    op.create_index(op.f('ix_trusted_document_sha256'), 'trusted_document', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_trusted_document_sha256'), table_name='trusted_document')
    op.drop_table('trusted_document')
