"""action items: action_items, action_item_history (周例会督办事项)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Hand-written for both dialects. Written only by data_access/action_items.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_week", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("linked_case_ids", sa.Text(), nullable=False),
        sa.Column("flag_ref", sa.String(length=64), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_action_items_status")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_action_items_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index("ix_action_items_created_week", ["created_week", "status"], unique=False)
        batch_op.create_index("ix_action_items_department", ["department_id", "status"], unique=False)

    op.create_table(
        "action_item_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.CheckConstraint("action IN ('create', 'carry', 'done', 'edit')", name=op.f("ck_action_item_history_action")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["action_items.id"], name=op.f("fk_action_item_history_item_id_action_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item_history")),
    )
    with op.batch_alter_table("action_item_history", schema=None) as batch_op:
        batch_op.create_index("ix_action_item_history_item", ["item_id", "week", "action"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_item_history", schema=None) as batch_op:
        batch_op.drop_index("ix_action_item_history_item")
    op.drop_table("action_item_history")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index("ix_action_items_department")
        batch_op.drop_index("ix_action_items_created_week")
    op.drop_table("action_items")
