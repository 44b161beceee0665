"""phones encrypted at rest: sealed value, key id, blind index and masked form replace the number

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 14:00:00

Existing numbers are sealed under the current PHONE_ENCRYPTION_KEY (phone_cipher); a database
with phones therefore needs the key set when it migrates (DEBUG uses the development key).
"""
import sqlalchemy as sa
from alembic import op

from storelink import phone_cipher

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column('customer', sa.Column('phone_sealed', sa.LargeBinary(), nullable=True))
    op.add_column('customer', sa.Column('phone_key_id', sa.String(length=16), nullable=True))
    op.add_column('customer', sa.Column('phone_index', sa.LargeBinary(), nullable=True))
    op.add_column('customer', sa.Column('phone_masked', sa.String(length=20), nullable=True))
    conn = op.get_bind()
    last_id = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, phone FROM customer WHERE phone IS NOT NULL AND id > :last ORDER BY id LIMIT :n"),
            {"last": last_id, "n": _BATCH}).all()
        if not rows:
            break
        keyring = phone_cipher.keyring()
        sealed = [(row.id, keyring.seal(row.phone)) for row in rows]
        conn.execute(sa.text(
            "UPDATE customer SET phone_sealed = :c, phone_key_id = :k, phone_index = :i, phone_masked = :m "
            "WHERE id = :id"),
            [{"id": id_, "c": s.cipher, "k": s.key_id, "i": s.index, "m": s.masked} for id_, s in sealed])
        last_id = rows[-1].id
    op.drop_index('ix_customer_phone', table_name='customer')
    op.drop_column('customer', 'phone')
    op.create_index('ix_customer_phone_index', 'customer', ['phone_index'], unique=False,
                    postgresql_where='deleted_at IS NULL AND phone_index IS NOT NULL')


def downgrade() -> None:
    op.add_column('customer', sa.Column('phone', sa.String(length=20), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, phone_sealed, phone_key_id FROM customer WHERE phone_sealed IS NOT NULL")).all()
    keyring = phone_cipher.keyring()
    if rows:
        conn.execute(sa.text("UPDATE customer SET phone = :p WHERE id = :id"),
                     [{"id": r.id, "p": keyring.open(r.phone_sealed, r.phone_key_id)} for r in rows])
    op.drop_index('ix_customer_phone_index', table_name='customer')
    for column in ('phone_masked', 'phone_index', 'phone_key_id', 'phone_sealed'):
        op.drop_column('customer', column)
    op.create_index('ix_customer_phone', 'customer', ['phone'], unique=False,
                    postgresql_where='deleted_at IS NULL AND phone IS NOT NULL')
