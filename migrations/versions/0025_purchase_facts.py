"""purchase_facts: a customer's paid orders summed up (how many ever, what they came to, the last
one, the last online, the last in a store), kept up to date by the database

A client book filtered by segment, and a campaign's audience, used to count every member's orders
on each request (one index range per member: 16 ms for a book of 2,000). This table holds the
same facts, one narrow row per customer who has paid. Triggers keep it, so every path that
writes an order (payment, store purchase, refund, OneID takeover, a test's UPDATE; orders are
never deleted) is covered in one place; a bulk writer (an import, generated history) sets
storelink.bulk_load around its load and refreshes the customers it touched with one statement
instead (kpi/segments.facts_paused).

"Paid" is orders/models.PAID_STATUSES, copied here as a migration must be; a test checks each
status.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 23:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

_PAID = "('PAID', 'READY_FOR_PICKUP', 'SHIPPED', 'COMPLETED', 'PARTIALLY_REFUNDED')"
_NOT_BULK = "current_setting('storelink.bulk_load', true) IS DISTINCT FROM 'on'"
_COLUMNS = "paid_orders, paid_fen, last_paid_at, last_online_paid_at, last_store_paid_at"
_SUMMED = ("count(o.id), coalesce(sum(o.total_fen), 0), max(o.paid_at), "
           "max(o.paid_at) FILTER (WHERE o.channel = 'ONLINE'), max(o.paid_at) FILTER (WHERE o.channel = 'STORE')")


def upgrade() -> None:
    op.create_table(
        'purchase_facts',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('paid_orders', sa.Integer(), nullable=False),
        sa.Column('paid_fen', sa.BigInteger(), nullable=False),
        sa.Column('last_paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_online_paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_store_paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_purchase_facts_customer_id_customer')),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_purchase_facts')),
    )
    # The customers are locked first and their orders summed after, by a statement of its own: in
    # READ COMMITTED that statement sees whatever the transaction that held the lock committed (two
    # orders of one customer paid at once both count); summed first, the second would overwrite
    # the first's sum with one that misses it. NO KEY UPDATE: foreign keys to the customer, which
    # take KEY SHARE, do not wait for it.
    op.execute(f"""
        CREATE FUNCTION purchase_facts_refresh(customers int[]) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM customer WHERE id = ANY(customers) ORDER BY id FOR NO KEY UPDATE;
            INSERT INTO purchase_facts (customer_id, {_COLUMNS})
            SELECT c.id, {_SUMMED}
            FROM (SELECT DISTINCT id FROM unnest(customers) AS u(id) WHERE id IS NOT NULL) c
            LEFT JOIN sales_order o ON o.customer_id = c.id AND o.status IN {_PAID}
            GROUP BY c.id
            ON CONFLICT (customer_id) DO UPDATE SET ({_COLUMNS}) = (
                EXCLUDED.paid_orders, EXCLUDED.paid_fen, EXCLUDED.last_paid_at, EXCLUDED.last_online_paid_at,
                EXCLUDED.last_store_paid_at)
            WHERE (purchase_facts.paid_orders, purchase_facts.paid_fen, purchase_facts.last_paid_at,
                   purchase_facts.last_online_paid_at, purchase_facts.last_store_paid_at)
                  IS DISTINCT FROM (EXCLUDED.paid_orders, EXCLUDED.paid_fen, EXCLUDED.last_paid_at,
                                    EXCLUDED.last_online_paid_at, EXCLUDED.last_store_paid_at);
        END $$""")
    op.execute("""
        CREATE FUNCTION sales_order_purchase_facts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM purchase_facts_refresh(ARRAY[NEW.customer_id]);
            ELSE
                PERFORM purchase_facts_refresh(ARRAY[OLD.customer_id, NEW.customer_id]);
            END IF;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER purchase_facts_insert AFTER INSERT ON sales_order FOR EACH ROW
        WHEN (NEW.customer_id IS NOT NULL AND NEW.status IN {_PAID} AND {_NOT_BULK})
        EXECUTE FUNCTION sales_order_purchase_facts()""")
    op.execute(f"""
        CREATE TRIGGER purchase_facts_update
        AFTER UPDATE OF status, customer_id, channel, paid_at, total_fen ON sales_order FOR EACH ROW
        WHEN ((OLD.status IN {_PAID} OR NEW.status IN {_PAID})
              AND (OLD.status, OLD.customer_id, OLD.channel, OLD.paid_at, OLD.total_fen)
                  IS DISTINCT FROM (NEW.status, NEW.customer_id, NEW.channel, NEW.paid_at, NEW.total_fen)
              AND {_NOT_BULK})
        EXECUTE FUNCTION sales_order_purchase_facts()""")
    op.execute(f"""
        INSERT INTO purchase_facts (customer_id, {_COLUMNS})
        SELECT o.customer_id, {_SUMMED} FROM sales_order o
        WHERE o.customer_id IS NOT NULL AND o.status IN {_PAID} GROUP BY o.customer_id""")


def downgrade() -> None:
    op.execute("DROP TRIGGER purchase_facts_update ON sales_order")
    op.execute("DROP TRIGGER purchase_facts_insert ON sales_order")
    op.execute("DROP FUNCTION sales_order_purchase_facts()")
    op.execute("DROP FUNCTION purchase_facts_refresh(int[])")
    op.drop_table('purchase_facts')
