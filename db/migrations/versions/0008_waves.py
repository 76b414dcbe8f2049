"""waves: carrier cutoffs, waves, pick tours, wave orders, pick tasks, replenishment rules and tasks;
the order status ``picked`` (picking done, waiting for the packing bench)

Revision ID: 0008
Revises: 0003, 0005
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = ('0003', '0005')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "status in ('new','hold','backorder','allocated','picking','packed','shipped','cancelled')"
_NEW = "status in ('new','hold','backorder','allocated','picking','picked','packed','shipped','cancelled')"


def _order_status_check(condition: str) -> None:
    """Replace the order status CHECK (SQLite: batch mode copies the table)."""
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_constraint('ck_sales_order_status', type_='check')
        batch_op.create_check_constraint('ck_sales_order_status', condition)


def upgrade() -> None:
    _order_status_check(_NEW)
    op.create_table('carrier_cutoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), server_default='', nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('cutoff', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('warehouse_id', 'country', 'carrier', name='uq_carrier_cutoff')
    )
    with op.batch_alter_table('carrier_cutoff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carrier_cutoff_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('wave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='planned', nullable=False),
    sa.Column('method', sa.String(length=16), server_default='savings', nullable=False),
    sa.Column('carrier', sa.String(length=32), server_default='', nullable=False),
    sa.Column('cutoff', sa.String(length=5), server_default='', nullable=False),
    sa.Column('zone', sa.String(length=32), server_default='', nullable=False),
    sa.Column('cap_lines', sa.Integer(), nullable=True),
    sa.Column('cap_orders', sa.Integer(), nullable=True),
    sa.Column('cap_volume', sa.Float(), nullable=True),
    sa.Column('cap_weight', sa.Float(), nullable=True),
    sa.Column('n_orders', sa.Integer(), nullable=False),
    sa.Column('n_lines', sa.Integer(), nullable=False),
    sa.Column('travel_m', sa.Float(), nullable=False),
    sa.Column('fcfs_travel_m', sa.Float(), nullable=False),
    sa.Column('name_travel_m', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('planned','released','done','cancelled')", name='ck_wave_status'),
    sa.ForeignKeyConstraint(['created_by'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.create_index('ix_wave_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wave_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('pick_tour',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='planned', nullable=False),
    sa.Column('length_m', sa.Float(), nullable=False),
    sa.Column('exact', sa.Boolean(), nullable=False),
    sa.Column('method', sa.String(length=24), server_default='', nullable=False),
    sa.Column('n_lines', sa.Integer(), nullable=False),
    sa.Column('volume', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('stops', sa.Text(), server_default='[]', nullable=False),
    sa.Column('picker_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status in ('planned','open','picking','done','cancelled')", name='ck_pick_tour_status'),
    sa.ForeignKeyConstraint(['picker_id'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('wave_id', 'number', name='uq_pick_tour_number')
    )
    with op.batch_alter_table('pick_tour', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pick_tour_wave_id'), ['wave_id'], unique=False)

    op.create_table('replen_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('min_qty', sa.BigInteger(), nullable=False),
    sa.Column('max_qty', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('min_qty >= 0 and max_qty > min_qty', name='ck_replen_rule_minmax'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('location_id', 'product_id', name='uq_replen_rule')
    )
    with op.batch_alter_table('replen_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replen_rule_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_replen_rule_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('replen_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('moved_qty', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reason', sa.String(length=16), server_default='below_min', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("status in ('open','done','cancelled')", name='ck_replen_task_status'),
    sa.CheckConstraint('qty > 0', name='ck_replen_task_qty'),
    sa.ForeignKeyConstraint(['done_by'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['rule_id'], ['replen_rule.id'], ),
    sa.ForeignKeyConstraint(['to_location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('replen_task', schema=None) as batch_op:
        batch_op.create_index('ix_replen_task_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_replen_task_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('wave_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('tour_id', sa.Integer(), nullable=True),
    sa.Column('tote', sa.String(length=32), server_default='', nullable=False),
    sa.Column('dropped', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.ForeignKeyConstraint(['tour_id'], ['pick_tour.id'], ),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('wave_id', 'order_id', name='uq_wave_order')
    )
    with op.batch_alter_table('wave_order', schema=None) as batch_op:
        batch_op.create_index('ix_wave_order_order', ['order_id'], unique=False)

    op.create_table('pick_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('tour_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('picked_qty', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('short_qty', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('tote', sa.String(length=32), server_default='', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('picker_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('open','skipped','picked','short','cancelled')", name='ck_pick_task_status'),
    sa.CheckConstraint('qty > 0', name='ck_pick_task_qty'),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocation.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], ),
    sa.ForeignKeyConstraint(['picker_id'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['tour_id'], ['pick_tour.id'], ),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pick_task', schema=None) as batch_op:
        batch_op.create_index('ix_pick_task_location_status', ['location_id', 'status'], unique=False)
        batch_op.create_index('ix_pick_task_order', ['order_id'], unique=False)
        batch_op.create_index('ix_pick_task_tour_seq', ['tour_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_task_wave_id'), ['wave_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pick_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pick_task_wave_id'))
        batch_op.drop_index('ix_pick_task_tour_seq')
        batch_op.drop_index('ix_pick_task_order')
        batch_op.drop_index('ix_pick_task_location_status')

    op.drop_table('pick_task')
    with op.batch_alter_table('wave_order', schema=None) as batch_op:
        batch_op.drop_index('ix_wave_order_order')

    op.drop_table('wave_order')
    with op.batch_alter_table('replen_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replen_task_warehouse_id'))
        batch_op.drop_index('ix_replen_task_status_id')

    op.drop_table('replen_task')
    with op.batch_alter_table('replen_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replen_rule_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_replen_rule_product_id'))

    op.drop_table('replen_rule')
    with op.batch_alter_table('pick_tour', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pick_tour_wave_id'))

    op.drop_table('pick_tour')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wave_warehouse_id'))
        batch_op.drop_index('ix_wave_status_id')

    op.drop_table('wave')
    with op.batch_alter_table('carrier_cutoff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carrier_cutoff_warehouse_id'))

    op.drop_table('carrier_cutoff')
    _order_status_check(_OLD)
