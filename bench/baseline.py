"""The common way, for comparison: read the whole case table into pandas once (cached), aggregate there.

    python -m bench baseline --db URL [--repeat 3] [--mem-limit-gb 8] [--timeout 900] [--json PATH]

The wall's figures (the same queries as ``bench/page_queries.py`` times for the wall: backlog totals and as of 24 h
ago, today's new cases, 30-day disposal counts overall and per department, closed count, satisfaction, open backlog
per grid, the last 24 h of case points, channel mix, daily new/closed) computed the way a dashboard is often first
written: ``pd.read_sql`` of every case (the columns those figures need) inside ``st.cache_data``, then pandas
filters and group-bys on the cached frame.

- **cold** = the first call: the read (``read_sql`` + storing the frame in the cache) plus the aggregates;
- **warm** = a cache hit (``st.cache_data`` returns a copy: it unpickles the stored frame) plus the aggregates,
  median of ``--repeat``; both parts are reported;
- **peak memory** = the child process's peak RSS.

In the same run, Gridscope's own data layer computes the same figures (``page_queries``, wall only; first run cold,
median of the rest warm) and the speed-up is baseline / Gridscope: cold, warm, and **refresh** = baseline cold /
Gridscope warm — what each cache expiry costs while the wall must stay live (the cached table goes stale: it is read
again, where Gridscope re-runs its window queries). A digest of each figure from both sides shows
whether the numbers are the same (``tests/test_bench_baseline.py`` checks it on the tiny world).

The baseline runs in a child process that is stopped when its RSS exceeds ``--mem-limit-gb`` or it runs longer than
``--timeout`` (it is then reported as "failed: ..."); an address-space limit (``RLIMIT_AS``) backs this up.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from core.domain import CLOSED_STATUSES, OPEN_STATUSES, PUBLIC_CHANNELS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

COLUMNS = [
    "id",
    "status",
    "channel",
    "grid_id",
    "street_id",
    "department_id",
    "category_id",
    "lat",
    "lon",
    "reported_at",
    "disposed_at",
    "closed_at",
    "parked_at",
    "deadline_at",
    "extended_deadline_at",
    "rework_count",
    "extension_count",
    "satisfaction",
    "duplicate_of",
]
DATES = ["reported_at", "disposed_at", "closed_at", "parked_at", "deadline_at", "extended_deadline_at"]
QUERY = f"SELECT {', '.join(COLUMNS)} FROM cases"
POINT_COLUMNS = ["id", "lat", "lon", "status", "channel", "category_id", "grid_id", "reported_at"]


# --- the baseline: whole table in, pandas aggregates ---------------------------------------------------------------
def read_cases(engine) -> pd.DataFrame:
    """Every case, the columns the wall's figures need (``pd.read_sql``, dates parsed)."""
    with engine.connect() as conn:
        return pd.read_sql(QUERY, conn, parse_dates=DATES)


def _counted(c: pd.DataFrame) -> pd.Series:
    return (c["status"] != "cancelled") & c["duplicate_of"].isna()


def _deadline(c: pd.DataFrame) -> pd.Series:
    return c["extended_deadline_at"].fillna(c["deadline_at"])


def _between(s: pd.Series, start, end) -> pd.Series:
    return (s >= start) & (s < end)


def _backlog_by_grid(c: pd.DataFrame, now) -> pd.DataFrame:
    o = c[c["status"].isin(OPEN_STATUSES)]
    return (
        o.assign(overdue=(_deadline(o) < now).astype(int))
        .groupby("grid_id", as_index=False)
        .agg(open=("id", "size"), overdue=("overdue", "sum"))
    )


def _disposal(c: pd.DataFrame, start, end, by: str | None) -> pd.DataFrame:
    d = c[_between(c["disposed_at"], start, end) & ~c["status"].isin(("cancelled", "self_handled", "parked"))]
    d = pd.DataFrame(
        {
            "key": d[by] if by else 0,
            "disposed": 1,
            "ontime": (d["disposed_at"] <= _deadline(d)).astype(int),
            "ontime_original": (d["disposed_at"] <= d["deadline_at"]).astype(int),
            "rework": (d["rework_count"] > 0).astype(int),
            "extended": (d["extension_count"] > 0).astype(int),
        }
    )
    out = d.groupby("key", dropna=False).sum().reset_index()
    if not by:
        cols = ["disposed", "ontime", "ontime_original", "rework", "extended"]
        return out[cols] if len(out) else pd.DataFrame([[0] * 5], columns=cols)
    return out.rename(columns={"key": by})


def _backlog_at(c: pd.DataFrame, then, now) -> dict:
    """As ``queries.backlog_then_by``: open now and reported by then, plus reported by then and left the backlog
    in (then, now] (closed, or else parked)."""
    is_open, before = c["status"].isin(OPEN_STATUSES), c["reported_at"] <= then
    deadline = _deadline(c)
    closed = (c["closed_at"] > then) & (c["closed_at"] <= now)
    parked = (
        (c["parked_at"] > then)
        & (c["parked_at"] <= now)
        & (c["closed_at"].isna() | (c["closed_at"] <= then) | (c["closed_at"] > now))
    )
    ended = [left & before for left in (closed, parked)]
    open_then = int((is_open & before).sum()) + sum(int(e.sum()) for e in ended)
    overdue_then = int((is_open & (deadline < then)).sum()) + sum(int((e & (deadline < then)).sum()) for e in ended)
    return {"open": open_then, "overdue": overdue_then}


def _satisfaction(c: pd.DataFrame, start, end) -> dict:
    s = c[_between(c["closed_at"], start, end) & c["satisfaction"].notna() & c["channel"].isin(PUBLIC_CHANNELS)]
    counts = {k: int(v) for k, v in s["satisfaction"].value_counts().items()}
    # the call-back answer counts (the 满意率 itself is analytics.indicators.satisfaction_rate, on both sides)
    return {
        "counts": counts,
        "satisfied": counts.get("satisfied", 0),
        "basic": counts.get("basic", 0),
        "answered": sum(counts.values()),
    }


def _daily(c: pd.DataFrame, start, end) -> pd.DataFrame:
    days = pd.DataFrame(
        {"day": pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end), freq="D", inclusive="left").date}
    )
    new = c.loc[_counted(c) & _between(c["reported_at"], start, end), "reported_at"].dt.date.value_counts()
    closed = c.loc[
        _between(c["closed_at"], start, end) & c["status"].isin(CLOSED_STATUSES), "closed_at"
    ].dt.date.value_counts()
    days["new"] = days["day"].map(new).fillna(0).astype(int)
    days["closed"] = days["day"].map(closed).fillna(0).astype(int)
    return days


def _window(now):
    now = pd.Timestamp(now)
    return now, now - timedelta(days=1), now - timedelta(days=30)


def _recent(c, now):
    now, day, _ = _window(now)
    recent = c[(c["reported_at"] >= day) & (c["status"] != "cancelled")].sort_values("reported_at", ascending=False)
    return recent[POINT_COLUMNS].head(100_000).reset_index(drop=True)


def _channel_mix(c, now):
    now, _, month = _window(now)
    mix = c[_counted(c) & _between(c["reported_at"], month, now)].groupby("channel").size().rename("n").reset_index()
    mix["share"] = mix["n"] / mix["n"].sum()
    return mix.sort_values("n", ascending=False, ignore_index=True)


def _totals(c, now):
    by_grid = _backlog_by_grid(c, pd.Timestamp(now))
    return {
        "open": int(by_grid["open"].sum()),
        "overdue": int(by_grid["overdue"].sum()),
        "parked": int((c["status"] == "parked").sum()),
    }


# The wall's figures from the whole case frame, keyed like ``page_queries`` (page 'wall'): name → f(cases, now).
FIGURES = {
    "backlog_totals": _totals,
    "backlog_at_24h": lambda c, now: _backlog_at(c, _window(now)[1], _window(now)[0]),
    "count_reported_today": lambda c, now: int(
        (_counted(c) & _between(c["reported_at"], pd.Timestamp(now).normalize(), pd.Timestamp(now))).sum()
    ),
    "disposal_counts_30d": lambda c, now: _disposal(c, _window(now)[2], _window(now)[0], None),
    "count_closed_30d": lambda c, now: int(
        (
            _between(c["closed_at"], _window(now)[2], _window(now)[0]) & c["status"].isin(("closed", "force_closed"))
        ).sum()
    ),
    "satisfaction_30d": lambda c, now: _satisfaction(c, _window(now)[2], _window(now)[0]),
    "open_backlog_by_grid": lambda c, now: _backlog_by_grid(c, pd.Timestamp(now)),
    "recent_points_24h": _recent,
    "dept_disposal_30d": lambda c, now: _disposal(c, _window(now)[2], _window(now)[0], "department_id"),
    "channel_mix_30d": _channel_mix,
    "daily_new_closed_30d": lambda c, now: _daily(c, _window(now)[2], _window(now)[0]),
}


def wall_figures(c: pd.DataFrame, now: datetime, timings: dict | None = None) -> dict:
    """Every figure of ``FIGURES``; with ``timings``, each one's seconds are stored there."""
    out = {}
    for name, fn in FIGURES.items():
        t0 = time.perf_counter()
        out[name] = fn(c, now)
        if timings is not None:
            timings[name] = time.perf_counter() - t0
    return out


# --- comparing the two sides ----------------------------------------------------------------------------------------
def _plain(v):
    """A JSON-able, order-free form of one cell."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, (np.integer, bool, np.bool_)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if float(v).is_integer() else round(float(v), 9)
    if isinstance(v, (pd.Timestamp, datetime)):
        return pd.Timestamp(v).isoformat()
    return v if isinstance(v, (int, str)) else str(v)


def canonical(value):
    """A comparable form of a figure: frames become rows sorted by their content (columns by name), numbers that
    are whole become ints, floats are rounded to 9 digits."""
    if isinstance(value, pd.DataFrame):
        rows = [{k: _plain(v) for k, v in zip(value.columns, row)} for row in value.itertuples(index=False)]
        return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    return _plain(value)


def digest(value) -> str:
    return hashlib.sha1(json.dumps(canonical(value), sort_keys=True).encode()).hexdigest()[:12]


# --- the guarded child ---------------------------------------------------------------------------------------------
def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_guarded(cmd: list[str], mem_limit_bytes: int, timeout_s: float, log_path: Path) -> dict:
    """Run ``cmd``; stop it when its RSS exceeds the limit or it runs too long. Returns status ('ok' or
    'failed'), error, seconds, peak RSS seen."""
    hard = mem_limit_bytes + 4 * 2**30  # backstop: address space (RSS polling is the real guard)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))

    start, peak = time.monotonic(), 0
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit)
        error = None
        try:
            while proc.poll() is None:
                rss = _rss(proc.pid)
                peak = max(peak, rss)
                if rss > mem_limit_bytes:
                    error = (
                        f"RSS above the {mem_limit_bytes / 2**30:.3g} GiB limit after {time.monotonic() - start:.0f} s"
                    )
                elif time.monotonic() - start > timeout_s:
                    error = f"still running after the {timeout_s:.0f} s limit"
                if error:
                    break
                time.sleep(0.1)
        finally:  # stopped, or this process interrupted: never leave it behind
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    seconds = time.monotonic() - start
    if error is None and proc.returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        error = f"exit code {proc.returncode}: {tail[0][:300]}"
    return {"status": "failed" if error else "ok", "error": error, "seconds": round(seconds, 1), "peak_rss_seen": peak}


def child(url: str, now: str, repeat: int, out: str) -> None:
    """The baseline itself (run in the guarded child): cached whole-table read, then the aggregates."""
    import logging

    import streamlit as st
    from sqlalchemy import create_engine

    from data_access.engine import resolve_url

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime": st.cache_data works in memory

    @st.cache_data(show_spinner=False)
    def load(db_url: str) -> pd.DataFrame:
        engine = create_engine(resolve_url(db_url))
        try:
            return read_cases(engine)
        finally:
            engine.dispose()

    at = datetime.fromisoformat(now)
    print("stage: read", flush=True)
    t0 = time.perf_counter()
    frame = load(url)
    read_s = time.perf_counter() - t0
    print(f"stage: aggregate (read {read_s:.1f} s, {len(frame):,} rows)", flush=True)
    t0 = time.perf_counter()
    figures = wall_figures(frame, at)
    aggregate_cold_s = time.perf_counter() - t0
    del frame
    hits, aggs, per_query = [], [], {name: [] for name in FIGURES}
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        frame = load(url)
        hits.append(time.perf_counter() - t0)
        timings: dict = {}
        t0 = time.perf_counter()
        wall_figures(frame, at, timings)
        aggs.append(time.perf_counter() - t0)
        for name, seconds in timings.items():
            per_query[name].append(seconds)
        del frame
    frame = load(url)
    result = {
        "rows": len(frame),
        "frame_bytes": int(frame.memory_usage(deep=True).sum()),
        "read_s": round(read_s, 3),
        "aggregate_cold_s": round(aggregate_cold_s, 3),
        "cold_s": round(read_s + aggregate_cold_s, 3),
        "cache_hit_s": round(statistics.median(hits), 3),
        "aggregate_warm_s": round(statistics.median(aggs), 3),
        "warm_s": round(statistics.median([h + a for h, a in zip(hits, aggs)]), 3),
        "per_query_warm_s": {k: round(statistics.median(v), 4) for k, v in per_query.items()},
        "digests": {k: digest(v) for k, v in figures.items()},
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


# --- Gridscope's side and the run ----------------------------------------------------------------------------------
def gridscope_side(url: str, now: datetime, repeat: int) -> dict:
    from bench.page_queries import page_queries
    from data_access.engine import make_engine

    engine = make_engine(url, timeout_s=600)
    rows, digests = [], {}
    try:
        for page, name, fn in page_queries(engine, now):
            if page != "wall":
                continue
            times = []
            for _ in range(max(2, repeat + 1)):
                t0 = time.perf_counter()
                value = fn()
                times.append(time.perf_counter() - t0)
            digests[name] = digest(value)
            rows.append({"query": name, "cold_s": round(times[0], 4), "warm_s": round(statistics.median(times[1:]), 4)})
    finally:
        engine.dispose()
    return {
        "cold_s": round(sum(r["cold_s"] for r in rows), 3),
        "warm_s": round(sum(r["warm_s"] for r in rows), 3),
        "queries": rows,
        "digests": digests,
    }


def speedups(gridscope: dict, baseline: dict) -> dict:
    """baseline / Gridscope: ``cold`` and ``warm`` like for like, and ``refresh``: what one cache refresh costs
    when the figures must stay live (the baseline reads the table again, Gridscope runs its queries again) —
    baseline cold / Gridscope warm. None when the baseline failed."""
    if baseline.get("status") != "ok":
        return {"cold": None, "warm": None, "refresh": None}
    ratio = lambda a, b: round(a / b, 1) if b else None  # noqa: E731
    return {
        "cold": ratio(baseline["cold_s"], gridscope["cold_s"]),
        "warm": ratio(baseline["warm_s"], gridscope["warm_s"]),
        "refresh": ratio(baseline["cold_s"], gridscope["warm_s"]),
    }


def run(url: str, repeat: int = 3, mem_limit_gb: float = 8.0, timeout_s: float = 900) -> dict:
    from bench.render import db_facts, machine_info

    facts = db_facts(url)
    now = datetime.fromisoformat(facts["last_report"])
    report = {
        **facts,
        **machine_info(),
        "now": str(now),
        "load_start": os.getloadavg(),
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "mem_limit_gb": mem_limit_gb,
        "timeout_s": timeout_s,
    }
    print(f"Gridscope data layer ({facts['dialect']}, {facts['cases']:,} cases) …", flush=True)
    report["gridscope"] = gridscope_side(url, now, repeat)
    print(f"  cold {report['gridscope']['cold_s']:.2f} s, warm {report['gridscope']['warm_s']:.2f} s", flush=True)
    print(f"baseline (whole table into pandas, limit {mem_limit_gb:g} GiB / {timeout_s:.0f} s) …", flush=True)
    with tempfile.TemporaryDirectory(prefix="gridscope-baseline-") as tmp:
        out = Path(tmp) / "result.json"
        log_path = Path(tmp) / "child.log"
        guard = run_guarded(
            [sys.executable, "-m", "bench.baseline", url, str(now), str(repeat), str(out)],
            int(mem_limit_gb * 2**30),
            timeout_s,
            log_path,
        )
        stages = [line for line in log_path.read_text(errors="replace").splitlines() if line.startswith("stage:")]
        baseline = {**guard, "last_stage": stages[-1][7:] if stages else None}
        if guard["status"] == "ok":
            baseline.update(json.loads(out.read_text(encoding="utf-8")))
    report["baseline"] = baseline
    if baseline["status"] == "ok":
        report["same_numbers"] = {k: baseline["digests"].get(k) == v for k, v in report["gridscope"]["digests"].items()}
    report["speedup"] = speedups(report["gridscope"], baseline)
    report["load_end"] = os.getloadavg()
    return report


def format_report(r: dict) -> str:
    g, b = r["gridscope"], r["baseline"]
    lines = [
        f"{r['dialect']} · {r['cases']:,} cases · {r['db_bytes'] / 1e9:.2f} GB · load {r['load_start'][0]:.2f}"
        f" → {r['load_end'][0]:.2f} · {r['cpu_count']} CPUs",
        f"Gridscope (wall queries): cold {g['cold_s']:.2f} s, warm {g['warm_s']:.3f} s",
    ]
    if b["status"] == "ok":
        lines += [
            f"baseline: read {b['read_s']:.2f} s ({b['rows']:,} rows, frame {b['frame_bytes'] / 2**20:.0f} MiB,"
            f" peak RSS {b['peak_rss_bytes'] / 2**30:.2f} GiB); cold {b['cold_s']:.2f} s; "
            f"warm {b['warm_s']:.2f} s (cache hit {b['cache_hit_s']:.2f} + aggregates "
            f"{b['aggregate_warm_s']:.2f})",
            f"speed-up (baseline / Gridscope): cold ×{r['speedup']['cold']}, warm ×{r['speedup']['warm']}, "
            f"live refresh (baseline re-read / Gridscope warm) ×{r['speedup']['refresh']}",
            "same numbers: "
            + (
                "all"
                if all(r["same_numbers"].values())
                else "DIFFERENT: " + ", ".join(k for k, v in r["same_numbers"].items() if not v)
            ),
        ]
    else:
        lines.append(
            f"baseline failed: {b['error']} (stage: {b['last_stage']}; peak RSS seen "
            f"{b['peak_rss_seen'] / 2**30:.2f} GiB)"
        )
    return "\n".join(lines)


def main(args) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run stops its child too
    report = run(args.db, args.repeat, args.mem_limit_gb, args.timeout)
    print(format_report(report))
    name = report["dbname"] or Path(report["db"].removeprefix("sqlite:///")).stem
    path = Path(args.json) if args.json else RESULTS / f"baseline_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"written {path}")


if __name__ == "__main__":  # the guarded child: python -m bench.baseline URL NOW REPEAT OUT
    child(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
