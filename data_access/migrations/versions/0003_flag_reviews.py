"""flag reviews: flag_reviews (选择性上报预警复核)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Hand-written for both dialects. The dashboard's only write besides action items (data_access/reviews.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_type", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=2), nullable=False),
        sa.Column("indicator", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('reviewed', 'confirmed', 'dismissed')", name=op.f("ck_flag_reviews_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_reviews")),
    )
    with op.batch_alter_table("flag_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_flag_reviews_unit", ["unit_type", "unit_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_flag_reviews_unit")
    op.drop_table("flag_reviews")
