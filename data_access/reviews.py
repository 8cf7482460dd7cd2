"""Reviews of selective-reporting flags (预警复核): the dashboard's only write besides action items.

A reviewer marks a flag (unit × family) **reviewed / confirmed / dismissed** with a note; every decision is a new
row of ``flag_reviews`` (append-only, who and when), and the latest row per unit × family is its current status.

Writes need a writer engine (``make_engine(url, read_only=False)``) used for this table only; reads work on the
dashboard's read-only engine. Every value is validated here and sent as a bound parameter (SQLAlchemy Core), so a
note like ``'); DROP TABLE cases; --`` is stored as text.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, and_, func, insert, select

from core.clock import local_now
from data_access.engine import fetch_frame, translate_error
from data_access.schema import FLAG_REVIEW_STATUSES, FlagReview

STATUSES = FLAG_REVIEW_STATUSES  # reviewed 已查看 | confirmed 已证实 | dismissed 已排除
UNIT_TYPES = ("street", "community", "verifier", "app_reporter")
FAMILIES = ("A", "B", "C", "D")
NOTE_MAX = 1000  # characters; a review is a note, not a report
REVIEWER_MAX = 64
UNIT_ID_MAX = 64
CODE_MAX = 64


class ReviewError(ValueError):
    """A review that cannot be stored as given (the message is safe to show to the reviewer)."""


def _clean_text(value, name: str, max_len: int, *, required: bool) -> str:
    """Strip, drop control characters (keep line breaks in notes), check the length."""
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if required and not text:
        raise ReviewError(f"{name} is required")
    if len(text) > max_len:
        raise ReviewError(f"{name} is longer than {max_len} characters")
    return text


def validate_review(
    *,
    unit_type: str,
    unit_id,
    family: str,
    status: str,
    note: str | None,
    reviewer: str,
    period_end: datetime,
    indicator: str | None = None,
    reason: str | None = None,
) -> dict:
    """Return the row to insert, or raise ``ReviewError``."""
    if unit_type not in UNIT_TYPES:
        raise ReviewError(f"unknown unit type {unit_type!r}")
    if family not in FAMILIES:
        raise ReviewError(f"unknown flag family {family!r}")
    if status not in STATUSES:
        raise ReviewError(f"status must be one of {', '.join(STATUSES)}")
    if not isinstance(period_end, datetime):
        raise ReviewError("period_end must be a datetime")
    uid = _clean_text(unit_key(unit_id), "unit_id", UNIT_ID_MAX, required=True)
    return dict(
        unit_type=unit_type,
        unit_id=uid,
        family=family,
        indicator=_clean_text(indicator, "indicator", 8, required=False) or None,
        reason=_clean_text(reason, "reason", CODE_MAX, required=False) or None,
        period_end=period_end.replace(tzinfo=None),
        status=status,
        note=_clean_text(note, "note", NOTE_MAX, required=False),
        reviewer=_clean_text(reviewer, "reviewer", REVIEWER_MAX, required=True),
    )


def unit_key(unit_id) -> str:
    """A unit id as ``flag_reviews.unit_id`` stores it: streets and communities have integer ids (which may arrive
    as 3.0 from a DataFrame), verifiers and app accounts text ids."""
    if isinstance(unit_id, float) and unit_id.is_integer():
        return str(int(unit_id))
    return "" if unit_id is None else str(unit_id)


def flag_key(unit_type: str, unit_id, family: str) -> tuple[str, str, str]:
    """The identity of a flag (unit × family) as reviews store it: ``(unit_type, unit_key(unit_id), family)``.
    Every screen that matches flags with reviews (the page's list, the wall's dismissed flags) uses this key."""
    return unit_type, unit_key(unit_id), family


def add_review(engine: Engine, *, now: datetime | None = None, **fields) -> int:
    """Validate and store one review (see ``validate_review`` for the fields); returns its id.

    ``engine`` must be a writer engine; the caller's read-only engine would refuse the insert.
    """
    row = validate_review(**fields)
    row["created_at"] = (now or local_now()).replace(tzinfo=None, microsecond=0)
    try:
        with engine.begin() as conn:
            return int(conn.execute(insert(FlagReview).values(**row).returning(FlagReview.id)).scalar_one())
    except Exception as err:
        from sqlalchemy import exc

        if isinstance(err, exc.DBAPIError):
            raise translate_error(err, engine) from err
        raise


_COLUMNS = (
    FlagReview.id,
    FlagReview.unit_type,
    FlagReview.unit_id,
    FlagReview.family,
    FlagReview.indicator,
    FlagReview.reason,
    FlagReview.period_end,
    FlagReview.status,
    FlagReview.note,
    FlagReview.reviewer,
    FlagReview.created_at,
)


def reviews_for_unit(engine: Engine, unit_type: str, unit_id, *, limit: int = 50) -> pd.DataFrame:
    """Reviews of one unit (all families), newest first, at most ``limit`` rows."""
    if unit_type not in UNIT_TYPES:
        raise ReviewError(f"unknown unit type {unit_type!r}")
    stmt = (
        select(*_COLUMNS)
        .where(FlagReview.unit_type == unit_type, FlagReview.unit_id == unit_key(unit_id))
        .order_by(FlagReview.created_at.desc(), FlagReview.id.desc())
        .limit(max(1, min(int(limit), 500)))
    )
    return fetch_frame(engine, stmt)


def latest_reviews(engine: Engine, since: datetime | None = None) -> pd.DataFrame:
    """The latest review of every unit × family (made at or after ``since``, if given): its current status.

    Columns as ``reviews_for_unit``. Bounded by the number of reviewed flags, not by history.
    """
    last = select(FlagReview.unit_type, FlagReview.unit_id, FlagReview.family, func.max(FlagReview.id).label("last_id"))
    if since is not None:
        last = last.where(FlagReview.created_at >= since)
    last = last.group_by(FlagReview.unit_type, FlagReview.unit_id, FlagReview.family).subquery()
    stmt = (
        select(*_COLUMNS)
        .join(last, and_(FlagReview.id == last.c.last_id))
        .order_by(FlagReview.created_at.desc(), FlagReview.id.desc())
    )
    return fetch_frame(engine, stmt)
