"""periodic jobs: job_runs (one row per job × period) and flag_results (flags computed by the worker)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Hand-written for both dialects. Written only by the worker (``python -m worker``, data_access/job_store.py); the
dashboard reads flag_results and never computes the flags itself.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'ok', 'failed')", name=op.f("ck_job_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period_key", name=op.f("uq_job_runs_job_period_key")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_job_started", ["job", "started_at"], unique=False)

    op.create_table(
        "flag_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("method_version", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_results")),
    )
    with op.batch_alter_table("flag_results", schema=None) as batch_op:
        batch_op.create_index("ix_flag_results_version", ["method_version", "computed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag_results", schema=None) as batch_op:
        batch_op.drop_index("ix_flag_results_version")
    op.drop_table("flag_results")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_job_started")
    op.drop_table("job_runs")
