"""Write bench/RESULTS.md from the JSON files in bench/results/ (``python -m bench report``)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = {
    "demo SQLite": "q_demo_sqlite",
    "district SQLite": "q_district_sqlite",
    "district PostgreSQL": "q_district_pg",
    "city PostgreSQL": "q_city_pg",
    "metro PostgreSQL (old run)": "q_metro_pg",
}

INTRO = """# Benchmark results

Machine: the project's 2-core / 24 GiB sandbox; Python 3.11.7, PostgreSQL 15.20, SQLite (Python's), SQLAlchemy
2.1.9, pandas 3.1.1, Streamlit 1.67.0, Chromium 156 (Debian). Each table says the load average it was measured at; compare ratios
measured in one run. Presets (docs/seed.md): demo = 90 days / 151 k cases; district = 1 year / 609 k cases (1,650 a
day); **city = the same district and daily volume over 16 years: 9.8 M cases / 56 M events** (seeded on PostgreSQL in
388 s on this session's machine, 633–710 s on earlier ones; target 15 min), so district vs city isolates the cost of history; metro (an older run, kept for reference) =
4 years at 6,850 a day (10.2 M cases), i.e. 4× the cases inside every window.

## Data layer: every query each page issues

`python -m bench queries --db URL --json bench/results/NAME.json`: first run "cold", median of the next two "warm".
`flags_job` is the background job that computes the flags once an hour (ui/flags_cache.py); the reporting page only
reads its result.
"""

NOTES = """
District vs city (same daily volume, 16× the history; one quiet run each, back to back, this session's machine,
PostgreSQL session settings `jit=off random_page_cost=1.1`, vacuumed tables, migration 0005's indexes): every page's
queries cost the same at 16 years as at one — wall 0.26 / 0.26 s, map 0.24 / 0.26, backlog 0.12 / 0.13 (the 挂账
stock, 17,520 vs 1,098 never-resolved cases, is now counted from a covering index), departments 1.34 / 1.30, weekly
0.88 / 0.66, data quality 1.11 / 0.87 (a window of 12 months, the page's default) — and the hourly flags job 7.9 /
8.3 s (13.2 / 13.8 s before the `verified_at` index, on the previous machine). Metro (older run) vs district: the page
totals grow 3–4× with the 4× larger daily volume inside the windows.

## Changes, with before → after

- **Wall sized in CSS, panels as `st.html`, one map image for every screen** (this session; `bench render --warm 5`,
  PostgreSQL). The viewport probe (a JavaScript component reporting the window's width so the server could scale
  sizes) is gone: every size is `clamp(x rem, x·0.833 vw, 2x rem)` (`ui.html_charts.screen_rem`), so a 4K screen runs
  the page once, like a 1080p one, and every screen gets the same HTML. The map is one 1,460 × 1,254 image
  (Streamlit's limit before it re-encodes on every run) drawn once per data refresh and fitted to its column by the
  browser (850 px on a 1080p kiosk, ~1,700 px on 4K, 680 px beside the sidebar, where the old 730-px-high map made the
  page 117 px too tall). The panels went from `st.markdown(unsafe_allow_html=True)` to `st.html` (no markdown parser
  in the browser); the trend line, which `st.html`'s sanitiser strips as inline SVG, is an SVG image (data URI).
  **This session's machine is faster** (the floor below: 0.94 s here, 1.18 s on the previous one), so before → after
  is measured here, in one sitting, the previous commit (ff1f742) against this one, 5 warm loads each, cold / warm /
  returning: district 2.25 / 1.37 / 1.01 → 2.76 / 1.17 / 0.97 s; **city (9.8 M) 2.56 / 1.32 / 1.08 → 2.40 / 1.31 /
  0.90 s** (the spread between warm loads is ±0.2 s; a warm load that meets a 30-s cache refresh runs 0.3–0.5 s of
  script). `st.html` against `st.markdown` alone (district, 7 warm loads each): warm 1.47 → 1.43 s, returning 1.10 →
  0.76 s, browser CPU per load 2.22 → 2.02 s. JavaScript fetched by a new screen 3.46 → 3.28 MB (no component
  chunk). The gain that the harness (1920×1080 only) does not show: a 4K screen no longer runs the page twice.
- **Memory over 500 refresh cycles** (10 viewers every 2 s, 2 processes; `ui/memory.py`): glibc's allocator kept
  the large short-lived buffers of each data refresh (map canvas and PNG, query results), freed in whichever session
  thread ran them: RSS +14.6 / +28.2 % on the previous machine. With a fixed 1 MiB mmap threshold and two arenas, set
  once per process from `app.py`: **+6.6 / +5.2 %** (293 → 313 / 294 → 310 MB); the same code without that call, same
  machine, same session: +31.0 / +25.4 % (298 → 390 / 292 → 366 MB). Both runs below.
- **Indexes for history independence** (migration 0005). The 挂账 stock is never resolved, so it lies scattered over
  16 years of heap pages; its per-unit counts now come from a covering partial index
  (`ix_cases_parked (grid_id, community_id, street_id) WHERE status = 'parked'`): per-street count with the OS and
  PostgreSQL caches dropped 1,905 ms (17,072 heap blocks read) → 5.9 ms (index only). The flags job's verifier
  indicators read a 60-day window by `verified_at`, which had no index (a full scan, three windows per job):
  flags job with caches dropped, city 18.3 → 11.8 s (its database time 10.5 → 4.0 s), district 11.1 → 10.1 s.
  End to end, cold, city: backlog 3.91 → 1.89 s, reporting 26.7 → 12.6 s; **cold ratios 10 M / 600 k: backlog
  1.59 → 0.89, reporting 1.51 → 0.95**.
- **Wall end to end** (district PostgreSQL, quiet machine, `bench render`): the map was 1,322 grid polygons for
  deck.gl (1.4 MB of JSON per run, drawn with software WebGL) and three plotly charts, and a 1080p screen ran the page
  twice (the viewport probe reported its width even when the scale stayed 1): cold 7.5 s, warm 4.3–4.5 s. Now the
  map is one 256-colour PNG drawn on the server (`ui/map_image.py`: 0.2 MB at 4K instead of 1 MB RGBA) and the charts
  are HTML/SVG (`ui/html_charts.py`), both once per data refresh for every screen (`ui.live.derived`); kiosk screens
  draw no sidebar widgets; the probe reports only a width that changes the scale: **cold 3.5 s, warm 1.6 s** at
  609 k cases and **cold 3.8 s, warm 1.5 s** at 9.8 M (websocket 0.03 MB, one run). The interactive map page keeps
  deck.gl.
- **PostgreSQL session settings** (setting `postgres_session_settings`, default `jit=off random_page_cost=1.1`):
  at 9.8 M cases the planner costs crossed the JIT threshold (0.3–0.8 s of compilation per large aggregate) and a
  12-month aggregate scanned the whole table instead of the `reported_at` index (data quality's coverage query 4.9 s
  → 1.1 s in EXPLAIN ANALYZE). Warm page totals, city: data quality 3.22 → 1.37 s, departments 2.15 → 1.78 s, weekly
  1.13 → 0.86 s, flags job 19.4 → 13.8 s; district: departments 2.00 → 1.59 s, flags job 15.7 → 13.2 s.
- **Seed ends with `VACUUM (ANALYZE)`** (was `ANALYZE`): without the visibility map PostgreSQL cannot count from an
  index alone; the wall's 挂账 count at 9.8 M cases read 17 k heap pages, 104 ms → 2.4 ms (35 s more seeding at 10 M).
- Data quality: coverage and monthly volume over a chosen window of months, default 12 (whole history was 22.5 s
  at 10 M vs 1.65 s at 600 k).
- Seeding on PostgreSQL (docs/seed.md): Arrow's CSV writer instead of Python's `csv`, and `COPY` on a loader thread
  overlapping generation: 638 k cases + 3.6 M events 86.5 s → 37.3 s; the 10 M city preset in 633–710 s.
- Wall, per viewer refresh (server CPU, demo district): the map and the three charts were rebuilt and re-encoded for
  every screen on every refresh, ≈ 0.55 s of CPU; now built once per data refresh and shared by every screen
  (`ui.live.derived`): the wall fragment's own time fell from 1.79 s to 0.08 s under the profiler (×22).
- Streamlit's full garbage collection after every script run (`runner.postScriptGC`) cost ≈ 100 ms per viewer
  refresh with the caches in memory; turned off in `.streamlit/config.toml` (memory checked over 500 cycles below).
- Earlier (district, SQLite, warm): `backlog_then_by` split an `OR` across two time columns (grids of a community
  4.4 s → 0.2 s); old-overdue counted on the open-case partial index (backlog a day ago 0.35 → 0.02 s);
  `ANALYZE` after the bulk load (wall 2.15 → 1.23 s); 挂账 counted with a literal predicate so its partial index
  applies.
"""


def main() -> None:
    data = {
        label: json.loads((HERE / "results" / f"{name}.json").read_text())
        for label, name in RUNS.items()
        if (HERE / "results" / f"{name}.json").exists()
    }
    labels = list(data)
    by = {k: {(r["page"], r["query"]): r for r in v["results"]} for k, v in data.items()}
    lines = [
        INTRO,
        "## Every page query (warm seconds)",
        "",
        "| page | query | " + " | ".join(labels) + " |",
        "|---|---|" + "---:|" * len(labels),
    ]
    keys = list(dict.fromkeys(key for k in labels for key in by[k]))  # every query any run measured
    for key in keys:
        lines.append(
            f"| {key[0]} | `{key[1]}` | "
            + " | ".join(f"{by[k][key]['warm_s']:.3f}" if key in by[k] else "—" for k in labels)
            + " |"
        )
    totals = {k: {} for k in labels}
    for k in labels:
        for (page, _), r in by[k].items():
            totals[k][page] = totals[k].get(page, 0) + r["warm_s"]
    lines += [
        "",
        "## Per page (all its queries, warm)",
        "",
        "| page | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for page in dict.fromkeys(page for page, _ in keys):
        lines.append(
            f"| {page} | " + " | ".join(f"{totals[k][page]:.2f} s" if page in totals[k] else "—" for k in labels) + " |"
        )
    lines.append(NOTES)
    lines += end_to_end_sections()
    lines += viewers_section()
    (HERE / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))


# --- end to end in Chromium, history independence, the pandas baseline (python -m bench render / ratio / baseline) --
# Result files (bench/results/NAME.json) shown, in this order; a missing file is left out.
RENDER_RUNS = {
    "demo SQLite": "render_demo_sqlite",
    "demo PostgreSQL": "render_demo_pg",
    "district SQLite": "render_district_sqlite",
    "city SQLite": "render_city_sqlite",
    "district PostgreSQL": "render_district_pg",
    "city PostgreSQL": "render_city_pg",
}
# History independence (same daily volume, district = 1 year / ~600 k cases, city = 16 years / ~10 M):
# (label, smaller history, larger history) → ratio per page.
HISTORY_PAIRS = [
    ("PostgreSQL", "render_district_pg", "render_city_pg"),
    ("SQLite", "render_district_sqlite", "render_city_sqlite"),
]
BASELINE_RUNS = {
    "demo SQLite": "baseline_demo_sqlite",
    "demo PostgreSQL": "baseline_demo_pg",
    "district SQLite": "baseline_district_sqlite",
    "district PostgreSQL": "baseline_district_pg",
    "city SQLite": "baseline_city_sqlite",
    "city PostgreSQL": "baseline_city_pg",
}
HISTORY_TARGET = 1.3

RENDER_INTRO = """
## End to end: each page in headless Chromium (1920×1080)

`python -m bench render --db URL --json bench/results/NAME.json` (definitions in `bench/render.py`): one server,
the wall opened first at the root URL; before each page the server's process-wide caches are emptied. **Cold** =
that page's first load (server caches empty; database caches as they are); **warm** = median of 5 loads (`--warm 5`; 3 before this session), each a new
browser context (a new viewer: new session, empty HTTP cache, so the browser fetches and compiles Streamlit's ~11 MB
of JavaScript again); **returning** = median of 2 loads in one context (HTTP cache warm, as a kiosk reloading).
Finished = script run over, no skeleton/spinner/stale element, every chart drawn, the page's main visual present
(the wall's map image loaded and its three HTML charts; deck.gl canvas, plotly SVGs, data-frame canvas elsewhere), held
1.5 s (not counted). The app's clock starts at the data's last
report, so "today" and "the last 24 h" are populated. The browser runs on the same 2 cores as the server.

For scale, the floor (`python -m bench floor`, `bench/results/floor.json`): the smallest Streamlit page
(`bench/floor_app.py`) loaded the same way, each load a new browser context. {floor}
"""


def _fmt(v, spec=".2f") -> str:
    return "—" if v is None else format(v, spec)


def floor_sentence(floor: dict | None) -> str:
    """What the floor measured (bench/results/floor.json), or that it was not measured."""
    if not floor:
        return "Not measured yet."
    return (
        f"Median of {len(floor['loads'])} loads: **{floor['floor_s']:.2f} s**, of which {floor['ws_open_s']:.2f} s "
        f"pass before the websocket opens (fetching and compiling Streamlit's own JavaScript, "
        f"{floor['http_bytes'] / 1e6:.1f} MB); measured {floor['started_at']}."
    )


def render_section(runs: dict[str, dict]) -> list[str]:
    """Markdown for ``{label: render report}``: the per-page table and one breakdown table per run."""
    if not runs:
        return []
    labels = list(runs)
    pages = list(dict.fromkeys(p for r in runs.values() for p in r["pages"]))
    lines = [
        RENDER_INTRO.format(floor=floor_sentence(_load("floor"))),
        "Seconds, cold / warm / returning:",
        "",
        "| page | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for page in pages:
        cells = []
        for k in labels:
            s = runs[k]["pages"].get(page)
            cells.append(
                "—" if s is None else f"{_fmt(s['cold_s'])} / {_fmt(s['warm_s'])} / {_fmt(s.get('returning_s'))}"
            )
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    lines.append(
        "| *first load after start (wall)* | "
        + " | ".join(_fmt((runs[k].get("first_load") or {}).get("done_s")) for k in labels)
        + " |"
    )
    lines += ["", "| run | cases | database | load avg start → end | measured |", "|---|---:|---:|---|---|"]
    for k in labels:
        r = runs[k]
        lines.append(
            f"| {k} | {r['cases']:,} | {r['db_bytes'] / 1e9:.2f} GB | {r['load_start'][0]:.1f} → "
            f"{r['load_end'][0]:.1f} | {r.get('started_at', '?')} |"
        )
    for k in labels:
        lines += [
            "",
            f"**{k}, where the time goes (warm medians):** script = seconds the server's script thread "
            "ran (all runs of the load); server done = arrival of the last `script_finished` in the "
            "browser, after which only the browser works; CPU seconds used during the load.",
            "",
            "| page | done s | script s | server done s | websocket MB | runs | CPU server / db / browser "
            "(GPU process) s | background after cold s | notes |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for page, s in runs[k]["pages"].items():
            cpu = s.get("warm_cpu_s") or {}
            notes = []
            if s.get("outside_requests"):
                notes.append(f"**{len(s['outside_requests'])} requests left the host**")
            if s.get("exceptions"):
                notes.append(f"{s['exceptions']} exceptions")
            if s.get("error_notices") or s.get("warning_notices"):
                notes.append(f"{s.get('error_notices', 0)} error / {s.get('warning_notices', 0)} warning notices")
            if s.get("visual_ok") is False:
                notes.append("main visual blank")
            if s.get("errors"):
                notes.append(f"failed: {'; '.join(s['errors'])}")
            lines.append(
                f"| {page} | {_fmt(s['warm_s'])} | {_fmt(s.get('warm_script_s'))} | "
                f"{_fmt(s.get('warm_server_done_s'))} | "
                f"{_fmt(s['warm_ws_bytes'] / 1e6 if s.get('warm_ws_bytes') else None)} | "
                f"{s.get('runs') or '—'} | {_fmt(cpu.get('server'))} / {_fmt(cpu.get('db'))} / "
                f"{_fmt(cpu.get('browser'))} ({_fmt(cpu.get('browser_gpu'))}) | "
                f"{_fmt(s.get('background_after_cold_s'), '.1f')} | "
                f"{', '.join(notes)} |"
            )
    return lines


def history_section(pairs: list[tuple[str, dict, dict]], target: float = HISTORY_TARGET) -> list[str]:
    """Markdown for ``[(label, smaller run, larger run)]``: render time ratio larger / smaller per page."""
    from bench.render import history_ratios

    if not pairs:
        return []
    lines = [
        "",
        "## History independence: render time at the larger history over the smaller",
        "",
        f"Same daily volume, longer history; target ≤ {target} for every page (cold and warm, end to end). "
        "*Script* = the same ratio for the server's script time alone (less disturbed by the browser and by "
        "other work on the shared machine).",
    ]
    for label, small, big in pairs:
        ratios = history_ratios(small, big)
        lines += [
            "",
            f"**{label}: {big['cases']:,} / {small['cases']:,} cases**",
            "",
            "| page | cold | warm | within target | script cold | script warm |",
            "|---|---:|---:|---|---:|---:|",
        ]
        for page, r in ratios.items():
            ok = all(r[k] is not None and r[k] <= target for k in ("cold", "warm"))
            lines.append(
                f"| {page} | {_fmt(r['cold'])} | {_fmt(r['warm'])} | {'yes' if ok else '**no**'} | "
                f"{_fmt(r.get('cold_script'))} | {_fmt(r.get('warm_script'))} |"
            )
    return lines


def baseline_section(runs: dict[str, dict]) -> list[str]:
    """Markdown for ``{label: baseline report}``."""
    if not runs:
        return []
    lines = [
        "",
        "## Baseline: the whole case table in pandas (cached), same wall figures",
        "",
        "`python -m bench baseline --db URL --json bench/results/NAME.json` (`bench/baseline.py`): `pd.read_sql` "
        "of every case inside `st.cache_data`, then pandas group-bys, in a child process stopped above 8 GiB "
        "RSS or 15 min; against Gridscope's wall queries in the same run (same numbers checked by digest). "
        "Speed-up = baseline / Gridscope; *refresh* = baseline cold / Gridscope warm, the cost of each cache "
        "expiry when the wall must stay live (the cached table must be read again; Gridscope re-runs its "
        "window queries).",
        "",
        "| run | cases | Gridscope cold / warm s | baseline read s | baseline cold / warm s | peak RSS GiB | "
        "speed-up cold / warm / refresh | same numbers |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, r in runs.items():
        g, b, x = r["gridscope"], r["baseline"], r.get("speedup") or {}
        head = f"| {label} | {r['cases']:,} | {g['cold_s']:.2f} / {g['warm_s']:.2f} | "
        if b["status"] != "ok":
            lines.append(
                head + f"failed: {b['error']} (during {b.get('last_stage') or '?'}) | — | "
                f"{b['peak_rss_seen'] / 2**30:.1f} (seen) | — | — |"
            )
            continue
        same = r.get("same_numbers") or {}
        differ = ", ".join(k for k, v in same.items() if not v)
        lines.append(
            head + f"{b['read_s']:.2f} | {b['cold_s']:.2f} / {b['warm_s']:.2f} | "
            f"{b['peak_rss_bytes'] / 2**30:.2f} | ×{x.get('cold')} / ×{x.get('warm')} / "
            f"×{x.get('refresh')} | {'yes' if same and not differ else 'no: ' + (differ or '?')} |"
        )
    return lines


def _load(name: str) -> dict | None:
    path = HERE / "results" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def end_to_end_sections() -> list[str]:
    render = {label: r for label, name in RENDER_RUNS.items() if (r := _load(name))}
    pairs = [(label, s, b) for label, small, big in HISTORY_PAIRS if (s := _load(small)) and (b := _load(big))]
    base = {label: r for label, name in BASELINE_RUNS.items() if (r := _load(name))}
    return render_section(render) + history_section(pairs) + baseline_section(base)


# --- many viewers: 2 processes behind nginx on a read replica (python -m bench viewers) ------------------------------
VIEWERS_RUNS = {
    "demo PostgreSQL": "viewers_demo_pg",
    "10 M PostgreSQL": "viewers_10m_pg",
    "demo PostgreSQL, allocator not tuned (A/B of ui/memory.py; `app.py` without its call)": "viewers_demo_pg_untuned",
}

VIEWERS_INTRO = """
## Many viewers: the wall on 2 Streamlit processes behind nginx, reading a streaming replica

`python -m bench viewers [--db PRIMARY_URL] --json bench/results/NAME.json` (definitions in `bench/viewers.py`): the
topology of `deploy/` on loopback (nginx with sticky sessions → 2 Streamlit processes → a `pg_basebackup` replica),
N Chromium sessions on the kiosk wall `/?embed=true&refresh=R`, measured over a window after every session has
rendered once. Refreshes are counted in the pages (finished runs), statements from the query log (setting
`query_log`), CPU from `/proc/<pid>/stat` of the two Streamlit processes only (PostgreSQL and Chromium not
included; Chromium runs on the same 2 cores). *Bursts* = one process's statements less than 2 s apart, i.e. one
cache refresh. Targets (issue 9): statements per interval independent of viewers (one set per TTL), ≤ 50 ms server
CPU per viewer refresh, RSS growth ≤ 10 % from refresh cycle 10 to 500 (a cycle = one refresh of every viewer).
"""


def marginal_cpu_ms(base: dict | None, run: dict) -> float | None:
    """Server CPU per refresh added between ``base`` (fewer viewers) and ``run``, in ms (None for the base row)."""
    if (
        base is None
        or run is base
        or run["refreshes_observed"] <= base["refreshes_observed"]
        or None in (base["cpu_ms_per_viewer_refresh"], run["cpu_ms_per_viewer_refresh"])
    ):
        return None
    spent = lambda x: x["cpu_ms_per_viewer_refresh"] * x["refreshes_observed"]  # noqa: E731
    return (spent(run) - spent(base)) / (run["refreshes_observed"] - base["refreshes_observed"])


def viewers_section() -> list[str]:
    runs = {label: r for label, name in VIEWERS_RUNS.items() if (r := _load(name))}
    if not runs:
        return []
    lines = [VIEWERS_INTRO]
    for label, r in runs.items():
        db, st = r.get("database", {}), r["settings"]
        lines += [
            "",
            f"**{label}**: {db.get('cases', 0):,} cases ({db.get('size_mb', '?')} MB, "
            f"{db.get('first_case', '?')[:10]} … {db.get('last_case', '?')[:16]}), "
            f"{st['processes']} processes, {'replica' if st['replica'] else 'primary'}, refresh "
            f"{st['refresh_s']} s, cache TTL {st['cache_ttl_s']:g} s, {st['duration_s']:g} s per row, "
            f"load average {r['machine']['load_avg_at_start'][0]} at start, measured {r['when']}.",
            "",
            "| viewers | per process | refreshes seen / expected | server CPU ms per viewer refresh | "
            "marginal ms per added refresh | "
            "statements per refresh interval | statements per process per TTL | bursts per process per TTL | "
            "KB sent per viewer refresh | RSS MB (each process) | load avg |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        first = r["runs"][0] if r["runs"] else None
        for x in r["runs"]:
            lines.append(
                f"| {x['viewers']} | {' / '.join(str(v) for v in x['viewers_per_process'].values())} | "
                f"{x['refreshes_observed']} / {x['refreshes_expected']} | {_fmt(x['cpu_ms_per_viewer_refresh'], '.0f')} | "
                f"{_fmt(marginal_cpu_ms(first, x), '.0f')} | "
                f"{x['statements_per_refresh_interval']:.2f} | {x['statements_per_process_per_ttl']:.1f} | "
                f"{x['query_bursts_per_process_per_ttl']:.2f} | "
                f"{_fmt((x['bytes_per_viewer_refresh'] or 0) / 1024, '.0f')} | "
                f"{' / '.join(f'{v:.0f}' for v in x['rss_mb'])} | "
                f"{x['load_avg_1m'][0]:.1f} → {x['load_avg_1m'][1]:.1f} |"
            )
        idle = r.get("idle") or {}
        if idle.get("cpu_s_per_s") is not None:
            lines += [
                "",
                f"With no viewer the {st['processes']} processes use {idle['cpu_s_per_s'] * 1000:.1f} ms of CPU "
                f"per second ({idle['cpu_s_per_s'] * st['refresh_s'] * 1000:.0f} ms per refresh interval), "
                "which a single viewer's refreshes carry alone, as they carry every cache refresh and map "
                "drawing (once per TTL per process). *Marginal* = the CPU added per refresh added, against "
                "the 1-viewer row of the same run: what one more screen costs.",
            ]
        m = r.get("memory")
        if m:
            lines += [
                "",
                f"Memory, {m['viewers']} viewers refreshing every {m['refresh_s']} s: RSS at cycle 10 "
                f"{' / '.join(f'{v:.0f}' for v in m['rss_mb_at_cycle_10'])} MB, at cycle "
                f"{m['cycles_reached'] or 'not reached'} "
                f"{' / '.join(f'{v:.0f}' for v in m['rss_mb_at_last_cycle'])} MB: "
                f"**{' / '.join(f'{g:+.1f}' for g in m['growth_pct'])} %** "
                f"({m['series'][-1]['elapsed_s'] / 60:.0f} min).",
            ]
        if r.get("notes"):
            lines += ["", r["notes"]]
    return lines
