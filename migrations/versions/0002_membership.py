"""membership

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:11:51.005840
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('PRIVACY', 'MARKETING')", name=op.f('ck_consent_record_kind_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_consent_record_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record'))
    )
    op.create_index(op.f('ix_consent_record_customer_id'), 'consent_record', ['customer_id'], unique=False)
    op.create_table('join_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=True),
    sa.Column('campaign', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(kind = 'GUIDE') = (guide_id IS NOT NULL)", name=op.f('ck_join_code_guide_matches_kind')),
    sa.CheckConstraint("kind IN ('STORE', 'GUIDE', 'CAMPAIGN')", name=op.f('ck_join_code_kind_known')),
    sa.CheckConstraint('max_uses IS NULL OR uses <= max_uses', name=op.f('ck_join_code_uses_within_max')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_join_code_created_by_id_staff')),
    sa.ForeignKeyConstraint(['guide_id'], ['staff.id'], name=op.f('fk_join_code_guide_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_join_code_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_code')),
    sa.UniqueConstraint('code', name=op.f('uq_join_code_code'))
    )
    op.create_index(op.f('ix_join_code_store_id'), 'join_code', ['store_id'], unique=False)
    op.create_index('uq_join_code_personal_guide', 'join_code', ['guide_id'], unique=True, postgresql_where='personal AND active')
    op.create_table('member_code',
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at_store_id', sa.Integer(), nullable=True),
    sa.Column('used_by_staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_member_code_customer_id_customer')),
    sa.ForeignKeyConstraint(['used_at_store_id'], ['store.id'], name=op.f('fk_member_code_used_at_store_id_store')),
    sa.ForeignKeyConstraint(['used_by_staff_id'], ['staff.id'], name=op.f('fk_member_code_used_by_staff_id_staff')),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_member_code'))
    )
    op.create_index(op.f('ix_member_code_customer_id'), 'member_code', ['customer_id'], unique=False)
    op.create_table('join_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('join_code_id', sa.Integer(), nullable=True),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_join_scan_customer_id_customer')),
    sa.ForeignKeyConstraint(['join_code_id'], ['join_code.id'], name=op.f('fk_join_scan_join_code_id_join_code')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_join_scan_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_scan'))
    )
    op.create_index(op.f('ix_join_scan_customer_id'), 'join_scan', ['customer_id'], unique=False)
    op.create_index(op.f('ix_join_scan_join_code_id'), 'join_scan', ['join_code_id'], unique=False)
    op.create_index(op.f('ix_join_scan_store_id'), 'join_scan', ['store_id'], unique=False)
    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('member_no', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('join_channel', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('join_store_id', sa.Integer(), nullable=True),
    sa.Column('join_code_id', sa.Integer(), nullable=True),
    sa.Column('recruited_by_id', sa.Integer(), nullable=True),
    sa.Column('guide_id', sa.Integer(), nullable=True),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_membership_customer_id_customer')),
    sa.ForeignKeyConstraint(['guide_id'], ['staff.id'], name=op.f('fk_membership_guide_id_staff')),
    sa.ForeignKeyConstraint(['join_code_id'], ['join_code.id'], name=op.f('fk_membership_join_code_id_join_code')),
    sa.ForeignKeyConstraint(['join_store_id'], ['store.id'], name=op.f('fk_membership_join_store_id_store')),
    sa.ForeignKeyConstraint(['recruited_by_id'], ['staff.id'], name=op.f('fk_membership_recruited_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_membership_customer_id')),
    sa.UniqueConstraint('member_no', name=op.f('uq_membership_member_no'))
    )
    op.create_index('ix_membership_guide_id', 'membership', ['guide_id'], unique=False)
    op.create_index(op.f('ix_membership_join_store_id'), 'membership', ['join_store_id'], unique=False)
    op.create_index(op.f('ix_membership_recruited_by_id'), 'membership', ['recruited_by_id'], unique=False)
    op.create_table('binding_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('from_guide_id', sa.Integer(), nullable=True),
    sa.Column('to_guide_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['staff.id'], name=op.f('fk_binding_change_changed_by_id_staff')),
    sa.ForeignKeyConstraint(['from_guide_id'], ['staff.id'], name=op.f('fk_binding_change_from_guide_id_staff')),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], name=op.f('fk_binding_change_membership_id_membership')),
    sa.ForeignKeyConstraint(['to_guide_id'], ['staff.id'], name=op.f('fk_binding_change_to_guide_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_change'))
    )
    op.create_index(op.f('ix_binding_change_membership_id'), 'binding_change', ['membership_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_binding_change_membership_id'), table_name='binding_change')
    op.drop_table('binding_change')
    op.drop_index(op.f('ix_membership_recruited_by_id'), table_name='membership')
    op.drop_index(op.f('ix_membership_join_store_id'), table_name='membership')
    op.drop_index('ix_membership_guide_id', table_name='membership')
    op.drop_table('membership')
    op.drop_index(op.f('ix_join_scan_store_id'), table_name='join_scan')
    op.drop_index(op.f('ix_join_scan_join_code_id'), table_name='join_scan')
    op.drop_index(op.f('ix_join_scan_customer_id'), table_name='join_scan')
    op.drop_table('join_scan')
    op.drop_index(op.f('ix_member_code_customer_id'), table_name='member_code')
    op.drop_table('member_code')
    op.drop_index('uq_join_code_personal_guide', table_name='join_code', postgresql_where='personal AND active')
    op.drop_index(op.f('ix_join_code_store_id'), table_name='join_code')
    op.drop_table('join_code')
    op.drop_index(op.f('ix_consent_record_customer_id'), table_name='consent_record')
    op.drop_table('consent_record')
