"""The shared case database: typed SQLAlchemy 2.x models.

Times are naive local times in the district's zone (setting ``timezone``): the source systems export local times and
every indicator is defined on the local working calendar. Codes and statuses are stored as short English keys; their
Chinese labels live in ``ui/i18n.py`` and in ``data_access/domain.py``.

The schema is created and upgraded only by Alembic (``data_access/migrations``); ``tests/test_migrations.py`` fails
when these models and the migrations drift apart.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.domain import OPEN_STATUSES

# Stable constraint names, so migrations can address them on both dialects.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The predicate of the partial "open cases" indexes. Queries over open cases must use exactly
# ``data_access.queries.is_open()`` so that both SQLite and PostgreSQL pick these indexes.
OPEN_PREDICATE = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Street(Base):
    """街道/镇: street-level unit (街道 subdistrict, 镇 town, or 工业区 industrial zone)."""

    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)  # 6-digit district + 3
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # subdistrict | town | industrial
    polygon_geojson: Mapped[str] = mapped_column(Text)
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer)


class Community(Base):
    """社区/村: residents' committee (居委), village committee (村委) or small industrial park."""

    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(11), unique=True)  # street code + 2
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # neighborhood | village | park
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    polygon_geojson: Mapped[str] = mapped_column(Text)
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer)


class Grid(Base):
    """网格: the smallest unit of management; code in the 6+3+2+4 style (district, street, community, grid)."""

    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # urban | rural
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    polygon_geojson: Mapped[str] = mapped_column(Text)
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer)
    land_use: Mapped[str] = mapped_column(String(16))  # residential | commercial | industrial | ...


class Department(Base):
    """处置单位: district bureau, utility, or street office."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(16))  # bureau | utility | street
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))


class Category(Base):
    """案件类别 (CJ/T 214 / GB/T 30428.2): 部件 component or 事件 event, major + minor class."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # 2-digit major + 2/3-digit minor
    kind: Mapped[str] = mapped_column(String(16))  # component (部件) | event (事件)
    major_code: Mapped[str] = mapped_column(String(4))
    major_name: Mapped[str] = mapped_column(String(32))
    minor_name: Mapped[str] = mapped_column(String(48))
    major_name_en: Mapped[str | None] = mapped_column(String(64))
    minor_name_en: Mapped[str | None] = mapped_column(String(96))
    difficulty: Mapped[str] = mapped_column(String(8))  # simple | complex
    multi_department: Mapped[bool] = mapped_column(Boolean, default=False)
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    time_limit_work_hours: Mapped[float] = mapped_column(Float)  # 处置时限, in working hours


class Case(Base):
    """案件: one report of a problem, through the lifecycle of docs/domain.md §2."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(12))  # patrol | hotline | app | video | sensor | superior | media
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))  # denormalised for grouping
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))  # denormalised for grouping
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    reporter_id: Mapped[str | None] = mapped_column(String(32))  # citizen / app account (personal data)
    inspector_id: Mapped[str | None] = mapped_column(String(32))  # 监督员/网格员 who found or verified it
    verifier_id: Mapped[str | None] = mapped_column(String(32))  # who did the 核查 (disposal check)
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)  # 立案
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)  # 派遣 (latest dispatch)
    disposed_at: Mapped[datetime | None] = mapped_column(DateTime)  # 处置反馈
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)  # 核查
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # 结案 / 作废 / 强制结案
    parked_at: Mapped[datetime | None] = mapped_column(DateTime)  # 挂账: leaves on-time denominators from here
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime)  # original disposal deadline
    extended_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)  # after approved 延期 (else NULL)
    disposal_work_hours: Mapped[float | None] = mapped_column(Float)  # first dispatch → disposal, working hours
    status: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    return_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))  # 回退
    rework_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))  # 返工
    extension_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))  # 延期
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))  # 大循环
    satisfaction: Mapped[str | None] = mapped_column(String(12))  # satisfied | basic | unsatisfied (回访)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str | None] = mapped_column(String(32))  # import profile's source; NULL for seeded cases (0002)

    __table_args__ = (
        # Time-leading indexes: "the last N days" costs the same whatever the length of history.
        Index("ix_cases_reported_at", "reported_at", "street_id"),
        Index("ix_cases_closed_at", "closed_at"),
        Index("ix_cases_parked_at", "parked_at"),
        Index("ix_cases_disposed_at", "disposed_at", "department_id"),
        Index("ix_cases_registered_at", "registered_at"),
        Index("ix_cases_updated_at", "updated_at"),
        Index("ix_cases_verified_at", "verified_at"),  # the flags job's checks (核查) of a window
        Index("ix_cases_dept_reported", "department_id", "reported_at"),
        Index("ix_cases_grid_reported", "grid_id", "reported_at"),
        # Partial indexes over open cases only: the backlog stays small while history grows.
        Index(
            "ix_cases_open_grid",
            "grid_id",
            "deadline_at",
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        Index(
            "ix_cases_open_dept",
            "department_id",
            "deadline_at",
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        # 挂账 is never resolved, so it is scattered over all of history: the unit columns make its counts index-only
        Index(
            "ix_cases_parked",
            "grid_id",
            "community_id",
            "street_id",
            sqlite_where=text("status = 'parked'"),
            postgresql_where=text("status = 'parked'"),
        ),
    )


class CaseEvent(Base):
    """案件流转记录: every state change of a case (the audit trail)."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(16))  # see core.domain.ACTIONS
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_case_events_case_at", "case_id", "at"),
        Index("ix_case_events_at_action", "at", "action"),
    )


class Workday(Base):
    """工作日历: one row per calendar day, from the maintained `chinesecalendar` library.

    ``workday_seq`` counts working days since the calendar's first day, so working days between two dates is a
    subtraction in SQL on either dialect.
    """

    __tablename__ = "workdays"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    holiday_name: Mapped[str | None] = mapped_column(String(32))  # e.g. National Day; NULL on ordinary days
    is_makeup_workday: Mapped[bool] = mapped_column(Boolean)  # 调休上班 (a weekend day worked)
    workday_seq: Mapped[int] = mapped_column(Integer)  # working days up to and including this day
    source: Mapped[str] = mapped_column(String(16))  # chinese_calendar | weekday_fallback


class SeedTruth(Base):
    """Planted behaviour of the synthetic world (seed/). The dashboard never reads this table."""

    __tablename__ = "seed_truth"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_type: Mapped[str] = mapped_column(String(16))  # street | community | grid | department | verifier | ...
    unit_id: Mapped[str] = mapped_column(String(32))
    behaviour: Mapped[str] = mapped_column(String(8))  # G1..G7, C1..C4, weak_department, ...
    params_json: Mapped[str | None] = mapped_column(Text)
    start_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_at: Mapped[datetime | None] = mapped_column(DateTime)


class DatasetInfo(Base):
    """Key/value facts about the loaded data (e.g. ``origin = seed:demo``), read by the demo-data marker."""

    __tablename__ = "dataset_info"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- imports of real exports (data_access/importer.py; migration 0002) ---------------------------------------------


class ImportRun(Base):
    """导入批次: one run of the importer over one file (an audit log: every non-dry run adds a row)."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # profile's source name
    profile: Mapped[str] = mapped_column(String(64))  # profile file name (without .toml)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)
    rows_total: Mapped[int] = mapped_column(Integer)  # data rows read (blank lines excluded)
    rows_inserted: Mapped[int] = mapped_column(Integer)
    rows_updated: Mapped[int] = mapped_column(Integer)
    rows_unchanged: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer)
    rows_blank: Mapped[int] = mapped_column(Integer)
    reasons_json: Mapped[str] = mapped_column(Text)  # quarantined rows per reason code
    warnings_json: Mapped[str] = mapped_column(Text)  # landed rows with a caveat, per warning code
    missing_json: Mapped[str] = mapped_column(Text)  # blank input values per mapped field
    min_reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    max_reported_at: Mapped[datetime | None] = mapped_column(DateTime)


class ImportQuarantine(Base):
    """隔离区: an input row that did not land, with its row number, reason and the raw values (nothing is lost).

    Keyed by (source, file hash, row): re-importing the same file updates these rows instead of adding copies.
    """

    __tablename__ = "import_quarantine"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)  # header is row 1 (as a spreadsheet shows it)
    reason_code: Mapped[str] = mapped_column(String(24))  # see data_access.importer.REASONS
    reason_text: Mapped[str] = mapped_column(Text)
    raw_json: Mapped[str] = mapped_column(Text)  # the row as read: {column: value}
    imported_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("source", "file_sha256", "row_number"),
        Index("ix_import_quarantine_source_reason", "source", "reason_code"),
    )


# --- flag reviews (选择性上报预警复核; data_access/reviews.py; migration 0003) ------------------------------------------

# The only dashboard write besides action items: a reviewer marks a flag reviewed / confirmed / dismissed.
FLAG_REVIEW_STATUSES = ("reviewed", "confirmed", "dismissed")


class FlagReview(Base):
    """预警复核记录: who looked at a flag (unit × family) of which period, what they concluded, and why.

    Append-only: a new decision is a new row; the latest row per unit × family is its current status.
    ``unit_id`` is text because verifiers and app accounts have text ids (streets/communities store their number).
    """

    __tablename__ = "flag_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_type: Mapped[str] = mapped_column(String(16))  # street | community | verifier | app_reporter
    unit_id: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(2))  # A | B | C | D
    indicator: Mapped[str | None] = mapped_column(String(8))  # lead indicator when reviewed, e.g. A1
    reason: Mapped[str | None] = mapped_column(String(64))  # machine reason code, e.g. A.A1.low
    period_end: Mapped[datetime] = mapped_column(DateTime)  # end of the flag window reviewed
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("status IN ('reviewed', 'confirmed', 'dismissed')", name="status"),
        Index("ix_flag_reviews_unit", "unit_type", "unit_id", "created_at"),
    )


# --- action items (督办事项 of the weekly meeting; data_access/action_items.py; migration 0004) ----------------------
# Written only by data_access/action_items.py. Carry-over into later weeks is computed by query (an item shows in
# every week from ``created_week`` until the week it was closed), never by copying rows.
ACTION_ITEM_STATUSES = ("open", "done")
ACTION_ITEM_ACTIONS = ("create", "carry", "done", "edit")


class ActionItem(Base):
    """督办事项: a commitment a department made at the weekly meeting (周例会), followed up week by week."""

    __tablename__ = "action_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    text: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    created_week: Mapped[date] = mapped_column(Date)  # Monday of the meeting week that created it
    status: Mapped[str] = mapped_column(String(8))  # open | done
    done_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    linked_case_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of cases.id
    flag_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. "street:3:A" (unit_type:unit_id:family)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'done')", name="status"),
        Index("ix_action_items_created_week", "created_week", "status"),
        Index("ix_action_items_department", "department_id", "status"),
    )


class ActionItemHistory(Base):
    """督办事项记录: one row per create / carry (first shown in a later week) / done / edit of an action item."""

    __tablename__ = "action_item_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    week: Mapped[date] = mapped_column(Date)  # Monday of the meeting week it belongs to
    action: Mapped[str] = mapped_column(String(8))  # create | carry | done | edit
    note: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("action IN ('create', 'carry', 'done', 'edit')", name="action"),
        Index("ix_action_item_history_item", "item_id", "week", "action"),
    )


# --- periodic jobs (worker/; data_access/job_store.py; migration 0006) ------------------------------------------------
# Written only by the worker. One row per job × period: the period key is unique per job, so a second worker that
# takes the job's lock after the first one finished sees the period is done and skips it.
JOB_RUN_STATUSES = ("running", "ok", "failed")


class JobRun(Base):
    """后台任务运行记录: one run of a periodic job (flags, later alerts, deliveries …) for one period."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))  # name in worker/jobs.py, e.g. flags
    period_key: Mapped[str] = mapped_column(String(64))  # e.g. 2026-12-05T10:00:00/v1 (hour, version)
    status: Mapped[str] = mapped_column(String(8))  # running | ok | failed
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer)  # a failed run is tried again in its period
    worker: Mapped[str | None] = mapped_column(String(128))  # host:pid of the worker that ran it last
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("job", "period_key"),
        CheckConstraint("status IN ('running', 'ok', 'failed')", name="status"),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )


class FlagResult(Base):
    """选择性上报预警 computed by the worker: the frames of one run (report flags, indicators, history) as gzip'd JSON
    (``data_access.job_store.encode_frames``), with the window they cover and the method version that made them.
    Pages read the latest row of the current method version; they never compute."""

    __tablename__ = "flag_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)  # end of the current window (day of latest data)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    window_end: Mapped[datetime] = mapped_column(DateTime)
    method_version: Mapped[int] = mapped_column(Integer)  # reports.flags.METHOD_VERSION
    seconds: Mapped[float] = mapped_column(Float)  # how long the computation took
    config: Mapped[str] = mapped_column(Text)  # JSON of the FlagConfig used
    payload: Mapped[bytes] = mapped_column()  # LargeBinary (BLOB / bytea): the frames

    __table_args__ = (Index("ix_flag_results_version", "method_version", "computed_at"),)
