"""mini-program codes of join codes, kept once WeChat drew them

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mini_program_code',
        sa.Column('join_code_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.String(length=100), nullable=False),
        sa.Column('image', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['join_code_id'], ['join_code.id'], name=op.f('fk_mini_program_code_join_code_id_join_code'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('join_code_id', name=op.f('pk_mini_program_code')),
    )


def downgrade() -> None:
    op.drop_table('mini_program_code')
