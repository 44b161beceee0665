"""bulk import: the brand's old member number, opening points balances, stores that ship online

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_OLD_REASONS = "reason IN ('EARN', 'REDEEM', 'REVERSE_EARN', 'RETURN_REDEEM')"
_NEW_REASONS = "reason IN ('EARN', 'REDEEM', 'REVERSE_EARN', 'RETURN_REDEEM', 'OPENING_BALANCE')"


def upgrade() -> None:
    op.add_column('membership', sa.Column('former_no', sa.String(length=32), nullable=True))
    op.create_index('uq_membership_former_no', 'membership', ['former_no'], unique=True,
                    postgresql_where='former_no IS NOT NULL')
    op.drop_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', type_='check')
    op.create_check_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', _NEW_REASONS)
    op.add_column('store', sa.Column('ships_online_orders', sa.Boolean(), nullable=False,
                                     server_default=sa.true()))


def downgrade() -> None:
    op.drop_column('store', 'ships_online_orders')
    op.execute("DELETE FROM points_entry WHERE reason = 'OPENING_BALANCE'")
    op.drop_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', type_='check')
    op.create_check_constraint(op.f('ck_points_entry_reason_known'), 'points_entry', _OLD_REASONS)
    op.drop_index('uq_membership_former_no', table_name='membership')
    op.drop_column('membership', 'former_no')
