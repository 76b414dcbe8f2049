"""stocktake: counts, their locations and lines, scan entries, issues, approvals

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('count_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.String(length=12), server_default='open', nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('tol_qty', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('tol_pct', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('tol_value', sa.BigInteger(), nullable=True),
    sa.Column('sample_seed', sa.BigInteger(), nullable=True),
    sa.Column('sample_population', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('loc_counted', sa.Integer(), nullable=True),
    sa.Column('loc_accurate', sa.Integer(), nullable=True),
    sa.Column('lines_counted', sa.Integer(), nullable=True),
    sa.Column('lines_accurate', sa.Integer(), nullable=True),
    sa.Column('value_expected', sa.BigInteger(), nullable=True),
    sa.Column('value_abs_variance', sa.BigInteger(), nullable=True),
    sa.Column('value_net_variance', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind in ('full','spot','cycle','sample')", name='ck_count_session_kind'),
    sa.CheckConstraint("status in ('open','closed','cancelled')", name='ck_count_session_status'),
    sa.ForeignKeyConstraint(['created_by'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('count_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_session_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('count_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locations', sa.Integer(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint("decision in ('approve','reject')", name='ck_count_approval_decision'),
    sa.ForeignKeyConstraint(['actor_id'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['count_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('count_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_approval_session_id'), ['session_id'], unique=False)

    op.create_table('count_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raw_scan', sa.Text(), server_default='', nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['count_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('count_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_issue_session_id'), ['session_id'], unique=False)

    op.create_table('count_location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('abc', sa.String(length=1), server_default='', nullable=False),
    sa.Column('counted_by', sa.Integer(), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recount_by', sa.Integer(), nullable=True),
    sa.Column('recount_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('has_variance', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint("status in ('pending','recount','counted','approved','rejected')", name='ck_count_location_status'),
    sa.ForeignKeyConstraint(['counted_by'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['recount_by'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['count_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('count_location', schema=None) as batch_op:
        batch_op.create_index('ix_count_location_loc_status', ['location_id', 'status'], unique=False)
        batch_op.create_index('uq_count_location', ['session_id', 'location_id'], unique=True)

    op.create_table('count_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('count_location_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('expected_qty', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('counted_qty', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recount_expected', sa.BigInteger(), nullable=True),
    sa.Column('recount_qty', sa.BigInteger(), nullable=True),
    sa.Column('recount_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('variance', sa.BigInteger(), nullable=True),
    sa.Column('unexpected', sa.Boolean(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['approval_id'], ['count_approval.id'], ),
    sa.ForeignKeyConstraint(['count_location_id'], ['count_location.id'], ),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['count_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('count_line', schema=None) as batch_op:
        batch_op.create_index('ix_count_line_approval', ['approval_id'], unique=False)
        batch_op.create_index('ix_count_line_session', ['session_id', 'location_id'], unique=False)
    # expression index (autogenerate cannot compare these): one line per location, product and lot
    op.create_index('uq_count_line_key', 'count_line', ['count_location_id', 'product_id', sa.text('coalesce(lot_id, 0)')],
                    unique=True)

    op.create_table('count_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('op_id', sa.String(length=80), nullable=False),
    sa.Column('count_line_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=4), server_default='add', nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('terminal', sa.String(length=64), server_default='', nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw_scan', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['wsms_user.id'], ),
    sa.ForeignKeyConstraint(['count_line_id'], ['count_line.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('op_id')
    )
    with op.batch_alter_table('count_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_entry_count_line_id'), ['count_line_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('count_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_entry_count_line_id'))

    op.drop_table('count_entry')
    op.drop_index('uq_count_line_key', table_name='count_line')
    with op.batch_alter_table('count_line', schema=None) as batch_op:
        batch_op.drop_index('ix_count_line_session')
        batch_op.drop_index('ix_count_line_approval')

    op.drop_table('count_line')
    with op.batch_alter_table('count_location', schema=None) as batch_op:
        batch_op.drop_index('uq_count_location')
        batch_op.drop_index('ix_count_location_loc_status')

    op.drop_table('count_location')
    with op.batch_alter_table('count_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_issue_session_id'))

    op.drop_table('count_issue')
    with op.batch_alter_table('count_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_approval_session_id'))

    op.drop_table('count_approval')
    with op.batch_alter_table('count_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_session_warehouse_id'))

    op.drop_table('count_session')
