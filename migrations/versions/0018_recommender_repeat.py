"""recommender: repeat purchases per product and the weights chosen on validation

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 20:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reco_repeat',
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('rate', sa.Float(), nullable=False),
        sa.Column('interval_days', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('product_id'),
    )
    op.add_column('reco_model', sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                                          server_default='{}'))
    op.add_column('reco_model', sa.Column('window_days', sa.Integer(), nullable=False, server_default='365'))


def downgrade() -> None:
    op.drop_column('reco_model', 'window_days')
    op.drop_column('reco_model', 'weights')
    op.drop_table('reco_repeat')
