"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_info",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dataset_info")),
    )
    op.create_table(
        "seed_truth",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_type", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("behaviour", sa.String(length=8), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=True),
        sa.Column("start_at", sa.DateTime(), nullable=True),
        sa.Column("end_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seed_truth")),
    )
    op.create_table(
        "streets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("polygon_geojson", sa.Text(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streets")),
        sa.UniqueConstraint("code", name=op.f("uq_streets_code")),
    )
    op.create_table(
        "workdays",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("holiday_name", sa.String(length=32), nullable=True),
        sa.Column("is_makeup_workday", sa.Boolean(), nullable=False),
        sa.Column("workday_seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_workdays")),
    )
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=11), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("polygon_geojson", sa.Text(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["street_id"], ["streets.id"], name=op.f("fk_communities_street_id_streets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("code", name=op.f("uq_communities_code")),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_communities_street_id"), ["street_id"], unique=False)

    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=96), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["street_id"], ["streets.id"], name=op.f("fk_departments_street_id_streets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("major_code", sa.String(length=4), nullable=False),
        sa.Column("major_name", sa.String(length=32), nullable=False),
        sa.Column("minor_name", sa.String(length=48), nullable=False),
        sa.Column("major_name_en", sa.String(length=64), nullable=True),
        sa.Column("minor_name_en", sa.String(length=96), nullable=True),
        sa.Column("difficulty", sa.String(length=8), nullable=False),
        sa.Column("multi_department", sa.Boolean(), nullable=False),
        sa.Column("default_department_id", sa.Integer(), nullable=True),
        sa.Column("time_limit_work_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_department_id"], ["departments.id"], name=op.f("fk_categories_default_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_categories_code")),
    )
    op.create_table(
        "grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("polygon_geojson", sa.Text(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("land_use", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_grids_community_id_communities")),
        sa.ForeignKeyConstraint(["street_id"], ["streets.id"], name=op.f("fk_grids_street_id_streets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
        sa.UniqueConstraint("code", name=op.f("uq_grids_code")),
    )
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grids_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grids_street_id"), ["street_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reporter_id", sa.String(length=32), nullable=True),
        sa.Column("inspector_id", sa.String(length=32), nullable=True),
        sa.Column("verifier_id", sa.String(length=32), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("disposed_at", sa.DateTime(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("parked_at", sa.DateTime(), nullable=True),
        sa.Column("deadline_at", sa.DateTime(), nullable=True),
        sa.Column("extended_deadline_at", sa.DateTime(), nullable=True),
        sa.Column("disposal_work_hours", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("return_count", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rework_count", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("extension_count", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("escalated", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("satisfaction", sa.String(length=12), nullable=True),
        sa.Column("duplicate_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_cases_category_id_categories")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_cases_community_id_communities")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_cases_department_id_departments")),
        sa.ForeignKeyConstraint(["duplicate_of"], ["cases.id"], name=op.f("fk_cases_duplicate_of_cases")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_cases_grid_id_grids")),
        sa.ForeignKeyConstraint(["street_id"], ["streets.id"], name=op.f("fk_cases_street_id_streets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_no", name=op.f("uq_cases_case_no")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_cases_parked_at", ["parked_at"], unique=False)
        batch_op.create_index("ix_cases_dept_reported", ["department_id", "reported_at"], unique=False)
        batch_op.create_index("ix_cases_disposed_at", ["disposed_at", "department_id"], unique=False)
        batch_op.create_index("ix_cases_grid_reported", ["grid_id", "reported_at"], unique=False)
        batch_op.create_index(
            "ix_cases_open_dept",
            ["department_id", "deadline_at"],
            unique=False,
            sqlite_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
            postgresql_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
        )
        batch_op.create_index(
            "ix_cases_open_grid",
            ["grid_id", "deadline_at"],
            unique=False,
            sqlite_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
            postgresql_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
        )
        batch_op.create_index(
            "ix_cases_parked",
            ["grid_id"],
            unique=False,
            sqlite_where=sa.text("status = 'parked'"),
            postgresql_where=sa.text("status = 'parked'"),
        )
        batch_op.create_index("ix_cases_registered_at", ["registered_at"], unique=False)
        batch_op.create_index("ix_cases_reported_at", ["reported_at", "street_id"], unique=False)
        batch_op.create_index("ix_cases_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_case_events_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index("ix_case_events_at_action", ["at", "action"], unique=False)
        batch_op.create_index("ix_case_events_case_at", ["case_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_case_at")
        batch_op.drop_index("ix_case_events_at_action")

    op.drop_table("case_events")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_updated_at")
        batch_op.drop_index("ix_cases_reported_at")
        batch_op.drop_index("ix_cases_registered_at")
        batch_op.drop_index(
            "ix_cases_parked", sqlite_where=sa.text("status = 'parked'"), postgresql_where=sa.text("status = 'parked'")
        )
        batch_op.drop_index(
            "ix_cases_open_grid",
            sqlite_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
            postgresql_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
        )
        batch_op.drop_index(
            "ix_cases_open_dept",
            sqlite_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
            postgresql_where=sa.text(
                "status IN ('pending_verify', 'pending_register', 'pending_dispatch', 'in_disposal', 'pending_check')"
            ),
        )
        batch_op.drop_index("ix_cases_grid_reported")
        batch_op.drop_index("ix_cases_disposed_at")
        batch_op.drop_index("ix_cases_dept_reported")
        batch_op.drop_index("ix_cases_parked_at")
        batch_op.drop_index("ix_cases_closed_at")

    op.drop_table("cases")
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grids_street_id"))
        batch_op.drop_index(batch_op.f("ix_grids_community_id"))

    op.drop_table("grids")
    op.drop_table("categories")
    op.drop_table("departments")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_communities_street_id"))

    op.drop_table("communities")
    op.drop_table("workdays")
    op.drop_table("streets")
    op.drop_table("seed_truth")
    op.drop_table("dataset_info")
