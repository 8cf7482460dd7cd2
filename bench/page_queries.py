"""Time every query each page issues, against a database URL.

    python -m bench queries --db URL [--repeat 3] [--json out.json]

For each page, each loader's queries run ``repeat`` times; the first run is "cold" (database caches as they are),
the rest "warm". Times are wall-clock seconds on this machine; compare ratios measured in one run.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from datetime import timedelta

from sqlalchemy import func, select

from core import periods
from data_access import backlog_queries, quality_queries, queries
from data_access import weekly_queries as wq
from data_access.case_filter import CaseFilter
from data_access.engine import make_engine
from data_access.schema import Case
from reports import departments, flags


def page_queries(engine, now):
    """(page, name, callable) for the queries of every page (the loaders' default views)."""
    day, week, month = now - timedelta(days=1), now - timedelta(days=7), now - timedelta(days=30)
    all_ = CaseFilter()
    monday = periods.last_complete_week(now)
    year = quality_queries.window_start(now, 12)
    return [
        ("wall", "backlog_totals", lambda: queries.backlog_totals(engine, now)),
        ("wall", "backlog_at_24h", lambda: queries.backlog_at(engine, day, now)),
        ("wall", "count_reported_today", lambda: queries.count_reported(engine, queries.now_floor(now), now)),
        ("wall", "disposal_counts_30d", lambda: queries.disposal_counts(engine, month, now, by=None)),
        ("wall", "count_closed_30d", lambda: queries.count_closed(engine, month, now)),
        ("wall", "satisfaction_30d", lambda: queries.satisfaction_counts(engine, month, now)),
        ("wall", "open_backlog_by_grid", lambda: queries.open_backlog_by_grid(engine, now)),
        ("wall", "recent_points_24h", lambda: queries.recent_case_points(engine, day)),
        ("wall", "dept_disposal_30d", lambda: queries.disposal_counts(engine, month, now)),
        ("wall", "channel_mix_30d", lambda: queries.channel_mix(engine, month, now)),
        ("wall", "daily_new_closed_30d", lambda: queries.daily_new_and_closed(engine, month, now)),
        ("map", "grid_measures_30d", lambda: backlog_queries.grid_measures(engine, now, month, now, all_)),
        ("map", "case_points_7d", lambda: backlog_queries.case_points(engine, week, now, all_)),
        ("map", "count_cases_7d", lambda: backlog_queries.count_cases(engine, week, now, all_)),
        (
            "backlog",
            "streets_with_week_change",
            lambda: backlog_queries.backlog_by_unit(engine, now, "street", week_ago=week),
        ),
        (
            "backlog",
            "grids_of_a_community",
            lambda: backlog_queries.backlog_by_unit(engine, now, "grid", 1, week_ago=week),
        ),
        ("backlog", "open_cases_of_a_grid", lambda: backlog_queries.open_cases(engine, now, grid_id=1)),
        ("departments", "department_scorecard_30d", lambda: departments.scorecard(engine, month, now, now=now)),
        ("departments", "street_scorecard_30d", lambda: departments.street_scorecard(engine, month, now, now=now)),
        ("weekly", "weekly_headline", lambda: wq.weekly_headline(engine, monday, now=now)),
        ("weekly", "department_week", lambda: wq.department_week(engine, monday, now=now)),
        ("weekly", "overdue_cases", lambda: wq.overdue_cases(engine, monday, now=now, limit=2000)),
        (
            "weekly",
            "event_cases",
            lambda: wq.event_cases(engine, monday, ("return", "check_fail", "escalate"), limit=2000),
        ),
        ("weekly", "repeat_problems", lambda: wq.repeat_problems(engine, monday)),
        ("weekly", "top_places", lambda: wq.top_places(engine, monday)),
        ("weekly", "weekday_hour_counts", lambda: wq.weekday_hour_counts(engine, monday)),
        # the page's default window: the last 12 months of data
        ("data_quality", "source_coverage_12m", lambda: quality_queries.source_coverage(engine, year)),
        ("data_quality", "monthly_volume_12m", lambda: quality_queries.monthly_volume(engine, since=year)),
        # the pages only read the flags the worker stores once an hour (reports/flags.py);
        # this is that background job, not a page render
        ("flags_job", "compute_with_history", lambda: flags.compute_with_history(engine, now)),
    ]


def run(url: str, repeat: int = 3, pages: set[str] | None = None) -> dict:
    engine = make_engine(url, timeout_s=600)
    with engine.connect() as conn:
        n_cases, last = conn.execute(select(func.count(), func.max(Case.reported_at))).one()
    now = last  # the data's own "now": the end of the seeded world
    rows = []
    for page, name, fn in page_queries(engine, now):
        if pages and page not in pages:
            continue
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "page": page,
                "query": name,
                "cold_s": times[0],
                "warm_s": statistics.median(times[1:]) if len(times) > 1 else times[0],
            }
        )
    return {
        "db": engine.url.render_as_string(hide_password=True),
        "dialect": engine.dialect.name,
        "cases": n_cases,
        "now": str(now),
        "machine": f"{platform.node()} {platform.machine()}",
        "python": platform.python_version(),
        "results": rows,
    }


def print_table(report: dict) -> None:
    print(f"{report['dialect']} · {report['cases']:,} cases · now = {report['now']}")
    print(f"{'page':8s} {'query':28s} {'cold s':>8s} {'warm s':>8s}")
    for r in report["results"]:
        print(f"{r['page']:8s} {r['query']:28s} {r['cold_s']:8.3f} {r['warm_s']:8.3f}")
    by_page = {}
    for r in report["results"]:
        by_page[r["page"]] = by_page.get(r["page"], 0) + r["warm_s"]
    print("warm total per page: " + ", ".join(f"{p} {t:.2f} s" for p, t in by_page.items()))


def main(args) -> None:
    report = run(args.db, args.repeat, set(args.pages.split(",")) if args.pages else None)
    print_table(report)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1, default=str)
