"""Dialect-neutral SQL functions (SQLite and PostgreSQL), compiled per dialect, used by every query module."""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Date, Float, Integer


class day_of(FunctionElement):
    """Calendar day of a timestamp, comparable with ``workdays.day`` on both dialects."""

    type = Date()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return "date(%s)" % compiler.process(element.clauses, **kw)


@compiles(day_of)
def _day_of_default(element, compiler, **kw):
    return "CAST(%s AS DATE)" % compiler.process(element.clauses, **kw)


class hour_of(FunctionElement):
    """Hour of day (0–23) of a timestamp."""

    type = Integer()
    inherit_cache = True


@compiles(hour_of, "sqlite")
def _hour_of_sqlite(element, compiler, **kw):
    return "CAST(strftime('%%H', %s) AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(hour_of)
def _hour_of_default(element, compiler, **kw):
    return "CAST(EXTRACT(HOUR FROM %s) AS INTEGER)" % compiler.process(element.clauses, **kw)


class epoch_seconds(FunctionElement):
    """Seconds since 1970-01-01 of a (naive) timestamp, as a float, on both dialects."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


@compiles(epoch_seconds)
def _epoch_default(element, compiler, **kw):
    return "CAST(EXTRACT(EPOCH FROM %s) AS DOUBLE PRECISION)" % compiler.process(element.clauses, **kw)


class shifted(FunctionElement):
    """``timestamp + seconds`` (seconds a literal integer), keeping the raw column comparable so indexes apply."""

    inherit_cache = False

    def __init__(self, expr, seconds: int):
        self.seconds = int(seconds)
        super().__init__(expr)
        self.type = expr.type


@compiles(shifted, "sqlite")
def _shifted_sqlite(element, compiler, **kw):
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime keeps the same text format, so comparisons stay exact.
    return "strftime('%%Y-%%m-%%d %%H:%%M:%%f000', %s, '%+d seconds')" % (
        compiler.process(element.clauses, **kw),
        element.seconds,
    )


@compiles(shifted)
def _shifted_default(element, compiler, **kw):
    return "(%s + INTERVAL '%d seconds')" % (compiler.process(element.clauses, **kw), element.seconds)


class int_floor(FunctionElement):
    """Integer floor of a non-negative number (SQLite CAST truncates, PostgreSQL needs FLOOR)."""

    type = Integer()
    inherit_cache = True


@compiles(int_floor, "sqlite")
def _int_floor_sqlite(element, compiler, **kw):
    return "CAST(%s AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(int_floor)
def _int_floor_default(element, compiler, **kw):
    return "CAST(FLOOR(%s) AS INTEGER)" % compiler.process(element.clauses, **kw)


class weekday_of(FunctionElement):
    """Day of the week of a timestamp, 0 = Monday … 6 = Sunday, on both dialects."""

    type = Integer()
    inherit_cache = True


@compiles(weekday_of, "sqlite")
def _weekday_of_sqlite(element, compiler, **kw):
    # strftime('%w') is 0 = Sunday; shift so Monday is 0.
    return "((CAST(strftime('%%w', %s) AS INTEGER) + 6) %% 7)" % compiler.process(element.clauses, **kw)


@compiles(weekday_of)
def _weekday_of_default(element, compiler, **kw):
    return "(CAST(EXTRACT(ISODOW FROM %s) AS INTEGER) - 1)" % compiler.process(element.clauses, **kw)
