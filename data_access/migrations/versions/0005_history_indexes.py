"""indexes for history independence: a covering 挂账 index, and checks (核查) by time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The parked (挂账) stock is never resolved, so it is scattered over every year of the case table; counting it per
street or community read one heap page per case (17 k pages on a cold cache at 16 years of history). With the unit
columns in the partial index, the backlog page's parked counts are answered from the index alone.

The flags job's verifier indicators (C family) read the checks of a 60-day window by ``verified_at``, which had no
index: a scan of the whole table, 0.45 s at one year of history and 2.7 s at 16 years, three windows per job.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PARKED = sa.text("status = 'parked'")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_parked", sqlite_where=PARKED, postgresql_where=PARKED)
        batch_op.create_index(
            "ix_cases_parked",
            ["grid_id", "community_id", "street_id"],
            unique=False,
            sqlite_where=PARKED,
            postgresql_where=PARKED,
        )
        batch_op.create_index("ix_cases_verified_at", ["verified_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_verified_at")
        batch_op.drop_index("ix_cases_parked", sqlite_where=PARKED, postgresql_where=PARKED)
        batch_op.create_index(
            "ix_cases_parked", ["grid_id"], unique=False, sqlite_where=PARKED, postgresql_where=PARKED
        )
