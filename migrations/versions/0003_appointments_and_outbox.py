"""appointments and outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:35:52.715828
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('PENDING', 'SENT', 'FAILED', 'CANCELLED')", name=op.f('ck_outbox_message_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    op.create_index('ix_outbox_message_due', 'outbox_message', ['next_attempt_at'], unique=False, postgresql_where="status = 'PENDING'")
    op.create_index(op.f('ix_outbox_message_subject'), 'outbox_message', ['subject'], unique=False)
    op.create_table('slot_usage',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('cell_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.CheckConstraint('used >= 0', name=op.f('ck_slot_usage_used_not_negative')),
    sa.ForeignKeyConstraint(['service_id'], ['service_type.id'], name=op.f('fk_slot_usage_service_id_service_type')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_slot_usage_store_id_store')),
    sa.PrimaryKeyConstraint('store_id', 'service_id', 'cell_start', name=op.f('pk_slot_usage'))
    )
    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=True),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('check_in_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('BOOKED', 'CANCELLED', 'CHECKED_IN', 'COMPLETED', 'NO_SHOW')", name=op.f('ck_appointment_status_known')),
    sa.CheckConstraint('end_at > start_at', name=op.f('ck_appointment_ends_after_start')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['staff.id'], name=op.f('fk_appointment_booked_by_id_staff')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_appointment_customer_id_customer')),
    sa.ForeignKeyConstraint(['guide_id'], ['staff.id'], name=op.f('fk_appointment_guide_id_staff')),
    sa.ForeignKeyConstraint(['service_id'], ['service_type.id'], name=op.f('fk_appointment_service_id_service_type')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_appointment_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment')),
    sa.UniqueConstraint('check_in_token', name=op.f('uq_appointment_check_in_token')),
    sa.UniqueConstraint('customer_id', 'idempotency_key', name='uq_appointment_idempotency')
    )
    op.create_index(op.f('ix_appointment_customer_id'), 'appointment', ['customer_id'], unique=False)
    op.create_index('ix_appointment_guide_start', 'appointment', ['guide_id', 'start_at'], unique=False)
    op.create_index('ix_appointment_store_day', 'appointment', ['store_id', 'local_day'], unique=False)
    op.create_index('uq_appointment_one_per_day', 'appointment', ['customer_id', 'service_id', 'local_day'], unique=True, postgresql_where="status IN ('BOOKED', 'CHECKED_IN')")


def downgrade() -> None:
    op.drop_index('uq_appointment_one_per_day', table_name='appointment', postgresql_where="status IN ('BOOKED', 'CHECKED_IN')")
    op.drop_index('ix_appointment_store_day', table_name='appointment')
    op.drop_index('ix_appointment_guide_start', table_name='appointment')
    op.drop_index(op.f('ix_appointment_customer_id'), table_name='appointment')
    op.drop_table('appointment')
    op.drop_table('slot_usage')
    op.drop_index(op.f('ix_outbox_message_subject'), table_name='outbox_message')
    op.drop_index('ix_outbox_message_due', table_name='outbox_message', postgresql_where="status = 'PENDING'")
    op.drop_table('outbox_message')
