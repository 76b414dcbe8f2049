"""Drop ``ix_sales_order_line_order_id``: the unique index ``uq_sales_order_line_no`` on
(order_id, line_no) starts with the same column, so it already serves every lookup by order (and the
foreign key's checks on PostgreSQL). The second index only cost time: every order line imported wrote an
entry into both.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_sales_order_line_order_id', table_name='sales_order_line')


def downgrade() -> None:
    op.create_index('ix_sales_order_line_order_id', 'sales_order_line', ['order_id'], unique=False)
