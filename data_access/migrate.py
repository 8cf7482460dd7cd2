"""Create or upgrade the schema (Alembic) and fill the working calendar.

    python -m data_access.migrate [--db URL]

Safe to run on every start: an up-to-date database is left as it is.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, insert, select

from core import settings
from core.workcal import calendar_rows
from data_access.engine import make_engine
from data_access.schema import Workday

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` and make sure the working calendar covers the configured years."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    if revision == "head":
        ensure_calendar(engine)


def ensure_calendar(engine: Engine, first_year: int | None = None) -> int:
    """(Re)fill the ``workdays`` table when it does not cover the configured years (or from ``first_year``, which a
    seed with a long history asks for). A table already covering them is kept, so a wider calendar made for old
    data survives later migrations. Returns rows written."""
    first = min(settings.get("calendar_first_year"), first_year or 9999)
    last = settings.get("calendar_last_year")
    with engine.begin() as conn:
        lo, hi, n = conn.execute(select(func.min(Workday.day), func.max(Workday.day), func.count())).one()
        if (
            n
            and str(lo) <= f"{first}-01-01"
            and str(hi) >= f"{last}-12-31"
            and n == (date.fromisoformat(str(hi)[:10]) - date.fromisoformat(str(lo)[:10])).days + 1
        ):
            return 0
        want = calendar_rows(first, last)
        conn.execute(Workday.__table__.delete())
        conn.execute(insert(Workday), want)
        return len(want)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: setting db_url)")
    args = ap.parse_args(argv)
    engine = make_engine(args.db, read_only=False)
    upgrade(engine)
    print(f"schema up to date on {engine.url.render_as_string(hide_password=True)}")


if __name__ == "__main__":
    main()
