"""OneID: consent given at a till, customers found by phone

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('consent_record', sa.Column('store_id', sa.Integer(), nullable=True))
    op.add_column('consent_record', sa.Column('recorded_by_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_consent_record_store_id_store'), 'consent_record', 'store', ['store_id'], ['id'])
    op.create_foreign_key(op.f('fk_consent_record_recorded_by_id_staff'), 'consent_record', 'staff',
                          ['recorded_by_id'], ['id'])
    op.create_index('ix_customer_phone', 'customer', ['phone'], unique=False,
                    postgresql_where='deleted_at IS NULL AND phone IS NOT NULL')


def downgrade() -> None:
    op.drop_index('ix_customer_phone', table_name='customer')
    op.drop_constraint(op.f('fk_consent_record_recorded_by_id_staff'), 'consent_record', type_='foreignkey')
    op.drop_constraint(op.f('fk_consent_record_store_id_store'), 'consent_record', type_='foreignkey')
    op.drop_column('consent_record', 'recorded_by_id')
    op.drop_column('consent_record', 'store_id')
