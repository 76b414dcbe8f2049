"""layout: warehouse layouts for routing (blocks, aisles, depot)

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('layout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('aisle_width', sa.Float(), nullable=False),
    sa.Column('rack_depth', sa.Float(), nullable=False),
    sa.Column('bay_width', sa.Float(), nullable=False),
    sa.Column('cross_aisle_width', sa.Float(), nullable=False),
    sa.Column('depot_x', sa.Float(), nullable=False),
    sa.Column('depot_cross', sa.Integer(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), server_default='', nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('aisle_width > 0 and bay_width > 0 and cross_aisle_width >= 0 and rack_depth >= 0', name='ck_layout_sizes'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('warehouse_id')
    )
    op.create_table('layout_block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layout_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('first_bay', sa.Integer(), nullable=False),
    sa.Column('last_bay', sa.Integer(), nullable=False),
    sa.Column('numbering', sa.String(length=16), server_default='sequential', nullable=False),
    sa.Column('bay_width', sa.Float(), nullable=False),
    sa.CheckConstraint("numbering in ('sequential','odd-even')", name='ck_layout_block_numbering'),
    sa.CheckConstraint('last_bay >= first_bay', name='ck_layout_block_bays'),
    sa.ForeignKeyConstraint(['layout_id'], ['layout.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('layout_id', 'idx', name='uq_layout_block_idx')
    )
    with op.batch_alter_table('layout_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_layout_block_layout_id'), ['layout_id'], unique=False)

    op.create_table('layout_aisle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('open_front', sa.Boolean(), nullable=False),
    sa.Column('open_back', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['layout_block.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('block_id', 'idx', name='uq_layout_aisle_idx'),
    sa.UniqueConstraint('block_id', 'name', name='uq_layout_aisle_name')
    )
    with op.batch_alter_table('layout_aisle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_layout_aisle_block_id'), ['block_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('layout_aisle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_layout_aisle_block_id'))

    op.drop_table('layout_aisle')
    with op.batch_alter_table('layout_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_layout_block_layout_id'))

    op.drop_table('layout_block')
    op.drop_table('layout')
