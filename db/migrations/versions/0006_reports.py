"""reports: daily stock-flow snapshot (a ledger cache), its state row, saved reorder points

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0006'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stock_daily',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('qty_in', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('qty_out', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('qty_sold', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('qty_returned', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sales_lines', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('product_id', 'warehouse_id', 'day')
    )
    op.create_table('stock_daily_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO stock_daily_state (id, ledger_id) VALUES (1, 0)")
    op.create_table('reorder_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('reorder_point', sa.BigInteger(), nullable=False),
    sa.Column('safety_stock', sa.BigInteger(), nullable=False),
    sa.Column('order_up_to', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=16), server_default='', nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_reorder_point_key', 'reorder_point', ['product_id', sa.text('coalesce(warehouse_id, 0)')],
                    unique=True)


def downgrade() -> None:
    op.drop_index('uq_reorder_point_key', table_name='reorder_point')
    op.drop_table('reorder_point')
    op.drop_table('stock_daily_state')
    op.drop_table('stock_daily')
