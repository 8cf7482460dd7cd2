"""The wall with many viewers: 1, 10 and 50 browser sessions across 2 Streamlit processes behind nginx, reading a
streaming read replica (deploy/).

    python -m bench viewers [--db PRIMARY_URL | --preset demo] [--viewers 1,10,50] [--refresh 5] [--duration 120]
                            [--memory-viewers 10 --memory-refresh 2 --memory-cycles 500] [--json PATH]

Without ``--db`` a throwaway primary cluster is made (initdb, as in the tests) and the preset seeded into it, ending
now, so the wall's "last 24 hours" are full. With ``--db`` the primary's cluster must allow a replication connection
from 127.0.0.1 (see docs/deployment.md), or pass ``--no-replica`` to read the primary itself.

Every viewer is a Chromium context (one browser) on the kiosk wall ``/?embed=true&refresh=N``; nginx spreads them
over the processes with its sticky cookie. The wall draws its map and charts on the server (an image and HTML), so
the browsers draw what a real screen draws; ``--draw`` only matters for pages that still use WebGL or plotly (the
old wall: 50 pages drawing them every 5 s in software took the 2 cores the servers are measured on until their
websockets dropped). A script in each page counts the wall's completed runs (the
``data-test-script-state`` of the app going back to ``notRunning``: the first render, then one per refresh) and the
bytes the server sent on the websocket, so only refreshes that really happened are counted. Measured per viewer
count, over ``--duration`` seconds after every viewer has rendered once:

- database statements, from the query log (setting ``query_log``) of the Streamlit processes: total, per refresh
  interval, and per cache TTL per process serving viewers, both as statements and as *bursts* (statements of one
  process less than 2 s apart: one cache refresh of the wall's loaders). One burst per TTL per process, whatever the
  number of viewers, means the viewers share one query set; the department ranking (TTL 5 min) and the flag job
  (hourly) add their own now and then;
- server CPU: utime + stime of the Streamlit processes (/proc/<pid>/stat) divided by the viewer refreshes observed;
- bytes per viewer refresh, and the processes' RSS;
- before the viewers, the processes' CPU with no viewer at all (``--idle`` seconds): background threads and caches
  that expire unread, the floor that the 1-viewer figure carries alone.

Memory: one longer run (``--memory-viewers`` viewers, refresh ``--memory-refresh`` s). A *cycle* is one refresh of
every viewer: cycle k is reached when the viewers together have completed k × viewers refreshes after their first
render. The processes' RSS is read at cycle 10 and at cycle ``--memory-cycles`` (and every 25 cycles between).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from core import settings
from deploy import local

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GRIDSCOPE_CHROMIUM", "/usr/bin/chromium")
CLK_TCK = os.sysconf("SC_CLK_TCK")
DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"

# Counts finished script runs and websocket bytes in the page (no Playwright events: 50 pages × every refresh would
# keep the benchmark's own process busy).
PAGE_COUNTERS = """
(() => {
  window.__gs = {runs: 0, bytes: 0, messages: 0, sockets: 0};
  const Native = window.WebSocket;
  function Counted(...args) {
    const ws = new Native(...args);
    window.__gs.sockets++;
    ws.addEventListener('message', ev => {
      const d = ev.data;
      window.__gs.messages++;
      window.__gs.bytes += d.byteLength !== undefined ? d.byteLength : (d.size || d.length || 0);
    });
    return ws;
  }
  Counted.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Counted[k] = Native[k];
  window.WebSocket = Counted;
  new MutationObserver(records => {
    for (const r of records) {
      if (r.target.getAttribute('data-test-script-state') === 'notRunning' && r.oldValue
          && r.oldValue !== 'notRunning') window.__gs.runs++;
    }
  }).observe(document, {attributes: true, subtree: true, attributeOldValue: true,
                        attributeFilter: ['data-test-script-state']});
})();
"""
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # 50 pages in one headless browser: never slow down the timers of pages it thinks are hidden
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# Drawing is the browsers' work, not the server's: the map needs WebGL (software-rendered here) and the three plotly
# charts redraw on every refresh. 50 pages drawing them take the 2 cores the servers are measured on and starve the
# pages until their websockets drop. So by default the browsers draw neither (no WebGL; plotly's chunk is not
# loaded, the chart shows an error in the page only); the server runs and sends exactly the same. --draw draws all.
PLOTLY_CHUNK = "**/static/js/PlotlyChart*"
WEBGL_ARGS = ["--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
NO_WEBGL_ARGS = ["--disable-3d-apis", "--disable-webgl", "--disable-software-rasterizer"]


# --- server-side figures --------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def log_records(path: Path, start: int) -> tuple[list[dict], int]:
    """Query-log records written after byte ``start``, and the new end offset."""
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read()
    end = start + data.rfind(b"\n") + 1 if b"\n" in data else start
    return [json.loads(line) for line in data[: end - start].splitlines() if line.strip()], end


# --- viewers --------------------------------------------------------------------------------------------------------
class Viewer:
    draw = False  # set from --draw

    def __init__(self, browser, deployment, url: str, viewport: tuple[int, int], pinned_to: str | None = None):
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        if not self.draw:
            self.context.route(PLOTLY_CHUNK, lambda route: route.abort())
        if pinned_to:
            self.context.add_cookies(
                [{"name": "gridscope_node", "value": deployment.sticky_key_for(pinned_to), "url": deployment.url}]
            )
        self.context.add_init_script(PAGE_COUNTERS)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.page.on(
            "request",
            lambda r: (
                self.outside.append(r.url)
                if r.url.startswith(("http:", "https:", "ws:", "wss:")) and "//127.0.0.1:" not in r.url
                else None
            ),
        )
        response = self.page.goto(url, wait_until="commit", timeout=180_000)
        self.backend = response.headers.get("x-gridscope-backend", "?").split(",")[-1].strip()

    def wait_rendered(self, timeout_ms: int = 300_000) -> None:
        self.page.wait_for_selector(DONE, timeout=timeout_ms)
        self.page.wait_for_selector("[data-testid='kpi']", timeout=timeout_ms)

    def counters(self) -> dict:
        return self.page.evaluate("window.__gs")

    def close(self) -> None:
        self.context.close()


def open_viewers(
    browser,
    deployment,
    n: int,
    refresh: int,
    viewport,
    timeout_s: float = 900,
    shots: Path | None = None,
    batch: int = 10,
) -> tuple[list, int]:
    """``n`` viewers on the kiosk wall, opened ``batch`` at a time (each batch loads at once; 50 browsers
    compiling Streamlit's JavaScript together on 2 cores starve the servers). Returns the ones that rendered within
    ``timeout_s`` and how many did not (closed, with a screenshot in ``shots``; never in the figures)."""
    url = f"{deployment.url}/?embed=true&refresh={refresh}"
    deadline = time.monotonic() + timeout_s
    rendered, failed = [], 0
    for start in range(0, n, batch):
        opened, f = _open_batch(browser, deployment, url, viewport, min(batch, n - start), deadline, shots, start)
        rendered += opened
        failed += f
    return rendered, failed


def _open_batch(browser, deployment, url, viewport, n, deadline, shots, first) -> tuple[list, int]:
    viewers = [Viewer(browser, deployment, url, viewport) for _ in range(n)]
    rendered, failed = [], 0
    for i, v in enumerate(viewers, start=first):
        try:
            v.wait_rendered(timeout_ms=max(1000, int((deadline - time.monotonic()) * 1000)))
            rendered.append(v)
        except Exception as err:  # a page that never renders is reported, not fatal
            failed += 1
            print(f"  viewer {i} did not render: {str(err).splitlines()[0][:120]}", flush=True)
            if shots:
                try:
                    v.page.screenshot(path=str(shots / f"not-rendered-{i}.png"))
                except Exception:
                    pass
            v.close()
    return rendered, failed


def _snapshot(viewers, pids) -> dict:
    counters = [v.counters() for v in viewers]
    return {
        "t": time.monotonic(),
        "runs": [c["runs"] for c in counters],
        "bytes": [c["bytes"] for c in counters],
        "sockets": sum(c["sockets"] for c in counters),
        "cpu": {p: cpu_seconds(p) for p in pids},
        "rss": {p: rss_mb(p) for p in pids},
        "load": os.getloadavg()[0],
    }


def bursts(records: list[dict], gap_s: float = 2.0) -> int:
    """Groups of one process's statements less than ``gap_s`` apart: a cache refresh runs its loaders' queries
    together, so one refresh of the wall's query set is one burst."""
    count, last = 0, {}
    for r in sorted(records, key=lambda r: r["ts"]):
        if r["pid"] not in last or r["ts"] - last[r["pid"]] > gap_s:
            count += 1
        last[r["pid"]] = r["ts"]
    return count


def measure(viewers, deployment, log_path: Path, duration: float, refresh: int, ttl: float) -> dict:
    """One measurement window over already-rendered viewers."""
    pids = deployment.server_pids()
    by_address = {b.address: b.process.pid for b in deployment.backends}
    serving = sorted({by_address[v.backend] for v in viewers if v.backend in by_address})
    offset = log_path.stat().st_size if log_path.exists() else 0  # lines are written whole (one write each)
    before = _snapshot(viewers, pids)
    t0 = time.time()
    time.sleep(duration)
    after = _snapshot(viewers, pids)
    t1 = time.time()
    records, _ = log_records(log_path, offset) if log_path.exists() else ([], 0)
    records = [r for r in records if r["pid"] in pids and t0 <= r["ts"] <= t1]
    elapsed = after["t"] - before["t"]
    refreshes = sum(a - b for a, b in zip(after["runs"], before["runs"]))
    cpu = sum(after["cpu"][p] - before["cpu"][p] for p in pids)
    received = sum(a - b for a, b in zip(after["bytes"], before["bytes"]))
    ttl_windows = elapsed / ttl
    per_serving = max(len(serving), 1) * ttl_windows
    return {
        "viewers": len(viewers),
        "duration_s": round(elapsed, 1),
        "refresh_s": refresh,
        "cache_ttl_s": ttl,
        "viewers_per_process": dict(Counter(v.backend for v in viewers)),
        "refreshes_observed": refreshes,
        "refreshes_expected": round(len(viewers) * elapsed / refresh),
        "refreshes_per_viewer_min": min(a - b for a, b in zip(after["runs"], before["runs"])),
        # a page whose websocket dropped gets a new session and a full run: counted, and shown here
        "websocket_reconnects": after["sockets"] - before["sockets"],
        "server_cpu_s": round(cpu, 2),
        "cpu_ms_per_viewer_refresh": round(1000 * cpu / refreshes, 1) if refreshes else None,
        "server_cpu_share": round(cpu / elapsed / (os.cpu_count() or 1), 3),
        "statements": len(records),
        "statements_per_refresh_interval": round(len(records) / (elapsed / refresh), 2),
        # per process that serves at least one viewer (a process without viewers runs no queries)
        "statements_per_process_per_ttl": round(len(records) / per_serving, 1),
        "query_bursts_per_process_per_ttl": round(bursts(records) / per_serving, 2),
        "distinct_statements": len({r["sql"] for r in records}),
        "statement_ms_total": round(sum(r["ms"] or 0 for r in records), 1),
        "bytes_per_viewer_refresh": round(received / refreshes) if refreshes else None,
        "rss_mb": [round(after["rss"][p], 1) for p in pids],
        "load_avg_1m": [round(before["load"], 2), round(after["load"], 2)],
        "requests_leaving_host": sorted({u for v in viewers for u in v.outside})[:5],
    }


def idle_cpu(deployment, duration: float) -> dict:
    """CPU of the processes with no viewer at all (caches expire unread, background threads only)."""
    pids = deployment.server_pids()
    before, t0 = {p: cpu_seconds(p) for p in pids}, time.monotonic()
    time.sleep(duration)
    elapsed = time.monotonic() - t0
    return {
        "duration_s": round(elapsed, 1),
        "cpu_s_per_s": round(sum(cpu_seconds(p) - before[p] for p in pids) / elapsed, 4),
    }


def memory_run(browser, deployment, n: int, refresh: int, cycles: int, viewport, every: int = 25) -> dict:
    viewers, failed = open_viewers(browser, deployment, n, refresh, viewport)
    n = len(viewers)
    try:
        pids = deployment.server_pids()
        start_runs = sum(v.counters()["runs"] for v in viewers)
        start_cpu = {p: cpu_seconds(p) for p in pids}
        t0 = time.monotonic()
        series, marks = [], [10] + list(range(every, cycles + 1, every))
        if cycles not in marks:
            marks.append(cycles)
        deadline = t0 + cycles * refresh * 4 + 600  # a run that stopped refreshing ends, reported as such
        for mark in marks:
            while True:
                done = sum(v.counters()["runs"] for v in viewers) - start_runs
                if done >= mark * n or time.monotonic() > deadline:
                    break
                time.sleep(min(refresh, 5))
            series.append(
                {
                    "cycle": mark,
                    "reached": done >= mark * n,
                    "elapsed_s": round(time.monotonic() - t0, 1),
                    "rss_mb": [round(rss_mb(p), 1) for p in pids],
                    "cpu_s": round(sum(cpu_seconds(p) - start_cpu[p] for p in pids), 1),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                }
            )
            print(f"  cycle {mark:>4}: RSS {series[-1]['rss_mb']} MB, {series[-1]['elapsed_s']:.0f} s", flush=True)
            if not series[-1]["reached"]:
                break
        first, last = series[0], series[-1]
        growth = [(b - a) / a * 100 for a, b in zip(first["rss_mb"], last["rss_mb"])]
        return {
            "viewers": n,
            "viewers_not_rendered": failed,
            "refresh_s": refresh,
            "cycles_target": cycles,
            "cycles_reached": last["cycle"] if last["reached"] else None,
            "rss_mb_at_cycle_10": first["rss_mb"],
            "rss_mb_at_last_cycle": last["rss_mb"],
            "growth_pct": [round(g, 1) for g in growth],
            "series": series,
        }
    finally:
        for v in viewers:
            v.close()


# --- setting up -----------------------------------------------------------------------------------------------------
def seeded_primary(workdir: Path, preset: str, end: str | None) -> tuple[local.PgCluster, str, dict]:
    """A throwaway primary with ``preset`` seeded into database ``gridscope`` (stopped again if seeding fails)."""
    import psycopg

    primary = local.throwaway_primary(workdir)
    try:
        with psycopg.connect(
            host="127.0.0.1", port=primary.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE gridscope")
        url = primary.url("gridscope")
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "data_access.migrate", "--db", url], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
        # without --end the seed ends now in the district's time zone, like the dashboard's clock
        subprocess.run(
            [sys.executable, "-m", "seed", "--db", url, "--preset", preset, "--quiet"]
            + (["--end", end] if end else []),
            cwd=ROOT,
            check=True,
        )
    except BaseException:
        primary.stop()
        raise
    return primary, url, {"preset": preset, "end": end or "now", "seed_s": round(time.monotonic() - started)}


def database_facts(url: str) -> dict:
    from sqlalchemy import func, select

    from data_access.engine import make_engine
    from data_access.schema import Case

    engine = make_engine(url, timeout_s=600)
    try:
        with engine.connect() as conn:
            cases, first, last = conn.execute(
                select(func.count(), func.min(Case.reported_at), func.max(Case.reported_at))
            ).one()
            size = (
                conn.exec_driver_sql("select pg_database_size(current_database())").scalar()
                if engine.dialect.name == "postgresql"
                else None
            )
    finally:
        engine.dispose()
    return {
        "cases": cases,
        "first_case": str(first),
        "last_case": str(last),
        "size_mb": round(size / 2**20) if size else None,
    }


def wait_for_flags(viewers, timeout_s: float) -> float:
    """The wall starts the hourly flag computation in the background on its first render; wait until every warm-up
    viewer shows its result (no "计算中", computing) so that job is not counted as refresh cost."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if not any("计算中" in v.page.inner_text("body") for v in viewers):
            return time.monotonic() - started
        time.sleep(2)
    return float("nan")


def print_table(result: dict) -> None:
    cols = [
        ("viewers", "viewers"),
        ("per process", "viewers_per_process"),
        ("refreshes obs/exp", None),
        ("CPU ms/refresh", "cpu_ms_per_viewer_refresh"),
        ("stmts/interval", "statements_per_refresh_interval"),
        ("stmts/proc/TTL", "statements_per_process_per_ttl"),
        ("bursts/proc/TTL", "query_bursts_per_process_per_ttl"),
        ("KB/refresh", None),
        ("RSS MB", "rss_mb"),
        ("load", "load_avg_1m"),
    ]
    print("\n" + " | ".join(c for c, _ in cols))
    for r in result["runs"]:
        row = []
        for name, key in cols:
            if name.startswith("refreshes"):
                row.append(f"{r['refreshes_observed']}/{r['refreshes_expected']}")
            elif name == "KB/refresh":
                row.append(f"{(r['bytes_per_viewer_refresh'] or 0) / 1024:.0f}")
            elif name == "per process":
                row.append("/".join(str(v) for v in r[key].values()))
            else:
                row.append(str(r[key]))
        print(" | ".join(row))
    m = result.get("memory")
    if m:
        print(
            f"\nmemory, {m['viewers']} viewers every {m['refresh_s']} s: RSS at cycle 10 {m['rss_mb_at_cycle_10']} MB"
            f" → cycle {m['cycles_reached']} {m['rss_mb_at_last_cycle']} MB ({m['growth_pct']} %)"
        )


def main(args) -> None:
    import signal

    from playwright.sync_api import sync_playwright

    def _terminate(_sig, _frame):  # `kill PID` stops nginx, Streamlit and PostgreSQL too (the finally blocks)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)

    viewer_counts = [int(x) for x in args.viewers.split(",") if x]
    viewport = tuple(int(v) for v in args.viewport.split("x"))
    workdir = Path(tempfile.mkdtemp(prefix="gridscope-bench-viewers-"))
    log_path = workdir / "queries.jsonl"
    ttl = float(args.ttl or settings.get("cache_ttl_seconds"))
    primary = None
    result = {
        "benchmark": "viewers",
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "processes": args.processes,
            "replica": not args.no_replica,
            "refresh_s": args.refresh,
            "cache_ttl_s": ttl,
            "duration_s": args.duration,
            "viewport": args.viewport,
            "browsers_draw": args.draw,
            "streamlit_post_script_gc": os.environ.get("STREAMLIT_RUNNER_POST_SCRIPT_GC", "config.toml"),
        },
        "runs": [],
    }
    try:
        if args.db:
            primary_url, result["database"] = args.db, {"url": args.db.split("@")[-1]}
        else:
            print(f"seeding a throwaway primary with the {args.preset} preset…", flush=True)
            primary, primary_url, result["database"] = seeded_primary(workdir, args.preset, args.end)
        result["database"].update(database_facts(primary_url))
        print(f"database: {result['database']}", flush=True)
        env = {
            "GRIDSCOPE_QUERY_LOG": str(log_path),
            "GRIDSCOPE_STALE_AFTER_SECONDS": "3600",
            "GRIDSCOPE_CACHE_TTL_SECONDS": str(int(ttl)),
        }
        with (
            local.Deployment(
                primary_url,
                processes=args.processes,
                replica=not args.no_replica,
                workdir=workdir / "site",
                extra_env=env,
                debug_headers=True,
            ) as deployment,
            sync_playwright() as pw,
        ):
            print(
                f"deployment up: {deployment.url} → {[b.port for b in deployment.backends]} → "
                f"{'replica' if deployment.replica_cluster else 'primary'}",
                flush=True,
            )
            Viewer.draw = args.draw
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS + (WEBGL_ARGS if args.draw else NO_WEBGL_ARGS)
            )
            # Warm-up: one viewer on each process renders the wall (imports, first queries, the flag job).
            warm = [
                Viewer(
                    browser,
                    deployment,
                    f"{deployment.url}/?embed=true&refresh={args.refresh}",
                    viewport,
                    pinned_to=b.address,
                )
                for b in deployment.backends
            ]
            for v in warm:
                v.wait_rendered()
            result["flags_wait_s"] = round(wait_for_flags(warm, args.flags_wait), 1)
            for v in warm:
                v.close()
            if args.idle:
                result["idle"] = idle_cpu(deployment, args.idle)
                print(f"idle: {result['idle']}", flush=True)
            # The memory run comes first: Python seldom returns freed memory to the system, so after 50 viewers
            # (and their sessions, kept 2 min after they leave) the RSS would already sit at that high-water mark.
            if args.memory_cycles:
                print(
                    f"memory: {args.memory_viewers} viewers, refresh {args.memory_refresh} s, "
                    f"{args.memory_cycles} cycles…",
                    flush=True,
                )
                result["memory"] = memory_run(
                    browser, deployment, args.memory_viewers, args.memory_refresh, args.memory_cycles, viewport
                )
                save(result, args.json)
            for n in viewer_counts:
                print(f"{n} viewers: opening…", flush=True)
                opened = time.monotonic()
                viewers, failed = open_viewers(browser, deployment, n, args.refresh, viewport, shots=workdir)
                render_s = round(time.monotonic() - opened)
                print(f"  {len(viewers)} rendered in {render_s} s", flush=True)
                try:
                    if not viewers:
                        continue
                    time.sleep(args.refresh)  # let the first refresh after the render pass
                    run = measure(viewers, deployment, log_path, args.duration, args.refresh, ttl)
                    run.update(viewers_opened=n, viewers_not_rendered=failed, seconds_to_render_all=render_s)
                finally:
                    for v in viewers:
                        v.close()
                result["runs"].append(run)
                save(result, args.json)  # a run stopped later keeps what it measured
                print(
                    f"  {json.dumps({k: run[k] for k in ('refreshes_observed', 'refreshes_expected', 'cpu_ms_per_viewer_refresh', 'statements_per_process_per_ttl', 'query_bursts_per_process_per_ttl', 'rss_mb')})}",
                    flush=True,
                )
            browser.close()
    finally:
        if primary is not None:
            primary.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    result["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(result)
    save(result, args.json)
    if args.json:
        print(f"wrote {args.json}")


def save(result: dict, path: str | None) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


def add_arguments(p) -> None:
    p.add_argument("--db", help="the primary's URL (default: a throwaway primary seeded with --preset)")
    p.add_argument("--preset", default="demo", help="seed preset for the throwaway primary")
    p.add_argument(
        "--end",
        help="world end for the seed, 'YYYY-MM-DD HH:MM' (default: now in the district's time "
        "zone, so the wall's 'today' and 'last 24 h' are full)",
    )
    p.add_argument("--no-replica", action="store_true", help="read the primary itself")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--viewers", default="1,10,50")
    p.add_argument("--refresh", type=int, default=5, help="the wall's ?refresh= in seconds (2–3600)")
    p.add_argument("--duration", type=float, default=120, help="seconds measured per viewer count")
    p.add_argument("--ttl", type=float, help="cache_ttl_seconds of the processes (default: the setting, 30)")
    p.add_argument("--memory-viewers", type=int, default=10)
    p.add_argument("--memory-refresh", type=int, default=2)
    p.add_argument("--memory-cycles", type=int, default=500, help="0: no memory run")
    p.add_argument("--flags-wait", type=float, default=900, help="most seconds to wait for the first flag job")
    p.add_argument("--viewport", default="1920x1080")
    p.add_argument(
        "--draw", action="store_true", help="let the browsers draw the map (software WebGL here) and the plotly charts"
    )
    p.add_argument("--idle", type=float, default=60, help="seconds measured with no viewer (0: none)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, query log)")
    p.add_argument("--json")
