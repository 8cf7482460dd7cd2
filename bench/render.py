"""End to end: time until each page has finished rendering in headless Chromium (1920×1080), cold and warm.

    python -m bench render --db URL [--pages wall,map,...] [--warm 3] [--returning 2] [--clock data|real]
                           [--timeout 900] [--json PATH]      (default PATH: bench/results/render_<db name>.json)
    python -m bench ratio SMALL.json BIG.json [--target 1.3]  # history independence: BIG / SMALL per page

One Streamlit server (the unchanged app, started by ``bench/_render_server.py``) on a free loopback port with
``GRIDSCOPE_DB_URL=URL``; one headless Chromium. Sequence:

1. **First load** — the wall at the root URL right after the server started (imports, first script compile, empty
   caches). Opening the root first is also what a deployment does and avoids Streamlit 1.67 serving a deep link from
   ``pages/`` without the app shell before ``st.navigation`` has run once.
2. For each page: wait until the server is idle (its process and, on PostgreSQL, its database sessions use < 5 % of a
   core for 2 s — this lets the flag computation the wall starts in the background finish), then **empty every
   process-wide cache** (``SIGUSR1``: Streamlit's data and resource caches incl. the engine and its pool, the
   last-good and derived stores, the flag store, the project's ``functools`` caches) and load the page in a fresh
   browser context: **cold** = the page's first load
   with empty server caches (modules imported, connections not yet open; database and OS caches as they are).
   Then ``--warm`` more loads, each in a new browser context (a new viewer: empty HTTP cache, new session, server
   caches warm): **warm** = their median; then ``--returning`` loads in the last warm load's context (a returning
   viewer or a kiosk reloading: the browser's HTTP cache holds Streamlit's 11 MB of JavaScript): **returning**.

**Finished rendering** (checked in the page every 50 ms, see ``INIT_JS``): the script has run (``running`` seen) and
the app's script state is ``notRunning``; no spinner or stale element is shown; on the first screen (the viewport: a
data frame below the fold draws its canvas only when scrolled to) no skeleton is left, every plotly chart has drawn
its SVG, every deck.gl chart and data frame has a canvas of non-zero size; the page's main visual (``REQUIRED``)
is present. The reported time is when that state began, counted from navigation start
(``performance.now()``), once it has held for ``--settle`` ms with no websocket message; a rerun inside the settle
window (e.g. a page that reruns itself at once) restarts the clock. After a cold load the main
visual is screenshotted and checked for not being blank (untimed).

Also recorded per load: websocket bytes in/out and HTTP bytes; script runs (``new_session`` messages; a run cut
short by a rerun sends no ``script_finished``); **script** = seconds the server's script thread ran (timed inside the
server, ``bench/_render_server.py``): the server's share, the rest is the browser and the way between; the arrival of
the last ``script_finished`` in the page (``server_done_s``; late when the page's main thread is busy); CPU seconds
used meanwhile by the server process, its database sessions (PostgreSQL), Chromium (with its renderer and GPU
processes apart: WebGL is software-rendered here) and the Playwright driver; every request leaving the host (must be
none); any failed load (timeout) with its last state, without stopping the run. The JSON has the machine (CPU count,
load average at start and end, versions) and every load.

By default the app's clock starts at the data's last ``reported_at`` (``--clock data``), so a seeded database with
a fixed end shows "today" and "the last 24 hours" as a live wall would; ``--clock real`` uses the wall clock.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from deploy.local import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUT = ROOT / "bench" / "out"  # git-ignored: server logs, screenshots
CHROMIUM = os.environ.get("GRIDSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
]
VIEWPORT = {"width": 1920, "height": 1080}

PAGES = {
    "wall": "/?embed=true&refresh=600",
    "map": "/map",
    "backlog": "/backlog",
    "departments": "/departments",
    "reporting": "/reporting",
    "weekly": "/weekly",
    "data_quality": "/data-quality",
}
DECK = "[data-testid='stDeckGlJsonChart'] canvas"
PLOTLY = "[data-testid='stPlotlyChart'] svg.main-svg"
FRAME = "[data-testid='stDataFrame'] canvas"
IMAGE = "[data-testid='stImage'] img"  # the wall's map, drawn on the server (ui/map_image.py)
# The main visual of each page: (CSS selector, fewest matches) that must be in the page when it is finished.
REQUIRED = {
    "wall": [(IMAGE, 1), ("[data-testid='wall-chart']", 3), ("[data-testid='kpi']", 7)],
    "map": [(DECK, 1)],
    "backlog": [(FRAME, 1)],
    "departments": [(PLOTLY, 1), (FRAME, 1)],
    "reporting": [("[data-testid='stMetric']", 4), ("[data-testid='stTabs']", 1)],
    "weekly": [("[data-testid='stTabs']", 1), (FRAME, 1)],
    "data_quality": [(FRAME, 1)],
}
# Screenshotted after a cold load to check it is not blank (the first match).
VISUAL = {"wall": IMAGE, "map": DECK, "departments": "[data-testid='stPlotlyChart']"}

INIT_JS = r"""
(() => {
  const S = window.__gs = {status: 'loading', stableSince: null, sawRunning: false, wsIn: 0, wsOut: 0,
                           wsOpen: null, msgs: [], lastWs: 0, required: %s};
  const Orig = window.WebSocket;
  class CountingWebSocket extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => { S.wsOpen = performance.now(); });
      this.addEventListener('message', ev => {
        const d = ev.data, n = d.byteLength !== undefined ? d.byteLength : (d.size !== undefined ? d.size : d.length);
        const t = performance.now();
        S.wsIn += n; S.lastWs = t; S.msgs.push([Math.round(t), n]);
      });
    }
    send(d) {
      S.wsOut += d.byteLength !== undefined ? d.byteLength : (d.size !== undefined ? d.size : String(d).length);
      return super.send(d);
    }
  }
  window.WebSocket = CountingWebSocket;
  new MutationObserver(() => {        // a run can be shorter than one poll: note "running" as it happens
    const app = document.querySelector("[data-testid='stApp']");
    if (app && app.getAttribute('data-test-script-state') === 'running') S.sawRunning = true;
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
  const shown = el => el.getClientRects().length > 0;
  const inView = el => { const r = el.getBoundingClientRect();     // on the first screen, not scrolled to
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth; };
  const any = (sel, pred) => [...document.querySelectorAll(sel)].some(pred);
  function check() {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app) return 'no app';
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') S.sawRunning = true;
    if (!S.sawRunning) return 'not started';
    if (state !== 'notRunning') return 'script ' + state;
    if (any("[data-testid='stSpinner']", shown)) return 'spinner';
    if (document.querySelector("[data-stale='true']")) return 'stale elements';
    if (any("[data-testid='stSkeleton'],[data-testid='stAppSkeleton']", inView)) return 'skeleton';
    if (any("[data-testid='stDeckGlJsonChart']", d => inView(d) && !(d.querySelector('canvas') || {}).width))
      return 'deck.gl canvas';
    if (any("[data-testid='stPlotlyChart']", p => inView(p) && !p.querySelector('svg.main-svg'))) return 'plotly';
    if (any("[data-testid='stImage'] img", i => inView(i) && !(i.complete && i.naturalWidth))) return 'image';
    if (any("[data-testid='stDataFrame']", f => inView(f) && !f.querySelector('canvas'))) return 'data frame';
    for (const [sel, n] of S.required)
      if (document.querySelectorAll(sel).length < n) return 'missing ' + sel;
    return 'done';
  }
  setInterval(() => {
    const status = check();
    if (status !== S.status) { S.status = status; S.stableSince = performance.now(); }
  }, 50);
})();
"""

COUNT_JS = """() => Object.fromEntries(Object.entries({
    plotly: "[data-testid='stPlotlyChart']", deck: "[data-testid='stDeckGlJsonChart']", image: "[data-testid='stImage']",
    dataframe: "[data-testid='stDataFrame']", metric: "[data-testid='stMetric']", kpi: "[data-testid='kpi']",
    tabs: "[data-testid='stTabs']", exception: "[data-testid='stException']",
    alert: "[data-testid='stAlert']", error_notice: "[data-testid='stAlertContentError']",
    warning_notice: "[data-testid='stAlertContentWarning']", elements: "[data-testid='stElementContainer']",
}).map(([k, sel]) => [k, document.querySelectorAll(sel).length]))"""


# --- processes and CPU ---------------------------------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _processes() -> dict[int, tuple[int, float]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                out[int(entry)] = st
    return out


def _descendants(procs: dict, root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _db_backends(dbname: str | None) -> set[int]:
    """PostgreSQL backends serving ``dbname`` (their title is 'postgres: 15/main: user dbname host(port) state')."""
    if not dbname:
        return set()
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {dbname} " in title:
                out.add(int(entry))
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class CpuMeter:
    """CPU seconds used by the server, its database sessions, the browser (Chromium's processes) and the harness's
    Playwright driver between two snapshots."""

    def __init__(self, server_pid: int, dbname: str | None):
        self.server_pid, self.dbname = server_pid, dbname
        self._kinds: dict[int, str] = {}

    def _kind(self, pid: int) -> str:
        """Chromium's process type (renderer, gpu-process, utility; '' for the browser process)."""
        if pid not in self._kinds:
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split()
            except OSError:
                args = []
            self._kinds[pid] = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "")
        return self._kinds[pid]

    def snapshot(self) -> dict[str, dict[int, float]]:
        procs = _processes()
        server = {self.server_pid} | _descendants(procs, self.server_pid)
        ours = _descendants(procs, os.getpid()) - server
        browser = {p for p in ours if "chrom" in _comm(p)}
        kinds = {p: self._kind(p) for p in browser}
        groups = {
            "server": server,
            "db": _db_backends(self.dbname),
            "browser": browser,
            "driver": ours - browser,
            # the browser's share by process: JavaScript, layout and paint vs (software) GL and raster
            "browser_renderer": {p for p, k in kinds.items() if k == "renderer"},
            "browser_gpu": {p for p, k in kinds.items() if k == "gpu-process"},
        }
        return {k: {p: procs[p][1] for p in pids if p in procs} for k, pids in groups.items()}

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        return {k: round(sum(cpu - before[k].get(p, 0.0) for p, cpu in after[k].items()), 3) for k in after}


# --- the server ----------------------------------------------------------------------------------------------------
class Server:
    """The app under ``bench/_render_server.py`` on a free loopback port; ``clear()`` empties its caches."""

    def __init__(self, db_url: str, clock_start: datetime | None, log_dir: Path, app: Path = ROOT / "app.py"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"render-server-{self.port}.log"
        self.marker = Path(tempfile.mkstemp(prefix="gridscope-bench-clear-")[1])
        self.runs_file = Path(tempfile.mkstemp(prefix="gridscope-bench-runs-")[1])
        env = {
            **os.environ,
            "GRIDSCOPE_DB_URL": db_url,
            "GRIDSCOPE_STALE_AFTER_SECONDS": "3600",
            "GRIDSCOPE_BENCH_CLEARED_FILE": str(self.marker),
            "GRIDSCOPE_BENCH_RUNS_FILE": str(self.runs_file),
        }
        if clock_start is not None:
            env["GRIDSCOPE_BENCH_CLOCK_START"] = clock_start.isoformat()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench._render_server",
                str(app),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Streamlit did not start:\n{self.log_path.read_text()[-3000:]}")

    def clear(self, timeout_s: float = 60) -> None:
        before = self.marker.stat().st_mtime_ns
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.time() + timeout_s
        while self.marker.stat().st_mtime_ns == before:
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("the server did not confirm the cache reset")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.marker.unlink(missing_ok=True)
        self.runs_file.unlink(missing_ok=True)

    def script_runs(self, since: float) -> list[tuple[float, float]]:
        """(start, end) epoch seconds of the script runs that started after ``since``."""
        out = []
        for line in self.runs_file.read_text().splitlines():
            run = json.loads(line)
            if run["t0"] >= since:
                out.append((run["t0"], run["t1"]))
        return out


def wait_idle(meter: CpuMeter, busy_share: float = 0.05, quiet_s: float = 2.0, timeout_s: float = 1800) -> float:
    """Wait until the server and its database sessions together use < ``busy_share`` of a core for ``quiet_s``;
    returns the seconds waited."""
    start = time.time()
    quiet_since = None
    prev = meter.snapshot()
    while time.time() - start < timeout_s:
        time.sleep(0.5)
        cur = meter.snapshot()
        used = CpuMeter.used(prev, cur)
        prev = cur
        if used["server"] + used["db"] < busy_share * 0.5:
            quiet_since = quiet_since or time.time() - 0.5
            if time.time() - quiet_since >= quiet_s:
                return round(time.time() - start - quiet_s, 1)
        else:
            quiet_since = None
    raise TimeoutError(f"the server stayed busy for {timeout_s:.0f} s")


def busy_seconds(spans: list[tuple[float, float]]) -> float:
    """Length of the union of (start, end) spans (a rerun can start before the cut-short run has returned)."""
    total, end = 0.0, float("-inf")
    for t0, t1 in sorted(spans):
        if t1 > end:
            total += t1 - max(t0, end)
            end = t1
    return total


# --- one page load -------------------------------------------------------------------------------------------------
def _frame_types(frames: list[bytes]) -> list[str]:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out = []
    for raw in frames:
        try:
            out.append(ForwardMsg.FromString(raw).WhichOneof("type") or "?")
        except Exception:  # an unparsable frame is counted, not fatal
            out.append("?")
    return out


def new_context(browser, page_key: str):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_JS % json.dumps(REQUIRED.get(page_key, [])))
    return context


def load_page(
    browser,
    server: Server,
    meter: CpuMeter,
    page_key: str,
    *,
    settle_ms: int = 1500,
    timeout_s: float = 900,
    shot: Path | None = None,
    context=None,
    path: str | None = None,
) -> dict:
    """Open one page (a new session) and measure until it has finished rendering (module docstring); in a new
    browser context, or in ``context`` (left open: a returning viewer with the browser's HTTP cache)."""
    own = context is None
    context = new_context(browser, page_key) if own else context
    try:
        page = context.new_page()
        outside, frames, http = [], [], {"bytes": 0}
        host = urlparse(server.url).hostname
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith(("data:", "blob:", "about:")) and urlparse(r.url).hostname != host
                else None
            ),
        )
        page.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())),
        )
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.loadingFinished", lambda e: http.__setitem__("bytes", http["bytes"] + e["encodedDataLength"]))
        cpu_before = meter.snapshot()
        started = time.time()
        epoch = started - 0.05
        page.goto(server.url + (path or PAGES[page_key]), wait_until="commit")
        status = "loading"
        while True:
            s = page.evaluate(
                "() => { const g = window.__gs; return g ? [g.status, g.stableSince, performance.now(),"
                " g.lastWs] : null }"
            )
            if s:
                status, since, now, last_ws = s
                if status == "done" and now - since >= settle_ms and now - last_ws >= settle_ms:
                    break
            if time.time() - started > timeout_s:
                raise TimeoutError(f"{page_key}: not finished after {timeout_s:.0f} s (last state: {status})")
            page.wait_for_timeout(100)
        cpu = CpuMeter.used(cpu_before, meter.snapshot())
        gs = page.evaluate("() => window.__gs")
        counts = page.evaluate(COUNT_JS)
        origin = page.evaluate("() => performance.timeOrigin") / 1000  # navigation start, epoch seconds
        runs = server.script_runs(epoch)
        types = _frame_types(frames)
        done_ms = max(gs["stableSince"], gs["lastWs"])
        finished = [i for i, t in enumerate(types) if t == "script_finished"]
        started_runs = sum(t == "new_session" for t in types)
        server_done = None
        if finished and len(types) == len(gs["msgs"]):  # the page's and Playwright's frame lists line up
            server_done = gs["msgs"][finished[-1]][0]
        result = {
            "page": page_key,
            "done_s": round(done_ms / 1000, 3),
            "ws_open_s": round(gs["wsOpen"] / 1000, 3) if gs["wsOpen"] else None,
            "server_done_s": round(server_done / 1000, 3) if server_done is not None else None,
            "script_s": round(busy_seconds(runs), 3),
            "script_spans": [(round(t0 - origin, 3), round(t1 - origin, 3)) for t0, t1 in runs],
            "runs": started_runs,
            "runs_finished": len(finished),
            "ws_messages": len(gs["msgs"]),
            "ws_bytes_in": gs["wsIn"],
            "ws_bytes_out": gs["wsOut"],
            "http_bytes": http["bytes"],
            "cpu_s": cpu,
            "elements": counts,
            "outside_requests": outside,
        }
        if shot is not None:
            result["visual_ok"] = _check_visual(page, page_key, shot)
        page.close()
        return result
    finally:
        if own:
            context.close()


def _check_visual(page, page_key: str, shot: Path) -> bool | None:
    """Screenshot the page (untimed) and check its main visual is not one flat colour."""
    from io import BytesIO

    from PIL import Image, ImageStat

    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    selector = VISUAL.get(page_key)
    if not selector or page.locator(selector).count() == 0:
        return None
    image = Image.open(BytesIO(page.locator(selector).first.screenshot())).convert("L")
    return max(ImageStat.Stat(image).stddev) > 2.0


# --- facts about the database and the machine ----------------------------------------------------------------------
def db_facts(url: str) -> dict:
    from sqlalchemy import func, select, text

    from data_access.engine import make_engine
    from data_access.schema import Case

    engine = make_engine(url, read_only=True, timeout_s=600)
    try:
        with engine.connect() as conn:
            n, first, last = conn.execute(
                select(func.count(), func.min(Case.reported_at), func.max(Case.reported_at))
            ).one()
            if engine.dialect.name == "postgresql":
                size = conn.execute(text("select pg_database_size(current_database())")).scalar()
                version = conn.execute(text("show server_version")).scalar()
                dbname = conn.execute(text("select current_database()")).scalar()
            else:
                path = Path(engine.url.database)
                size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
                version = conn.execute(text("select sqlite_version()")).scalar()
                dbname = None
        return {
            "db": engine.url.render_as_string(hide_password=True),
            "dialect": engine.dialect.name,
            "dbname": dbname,
            "cases": int(n),
            "first_report": str(first),
            "last_report": str(last),
            "db_bytes": int(size),
            "db_version": str(version),
        }
    finally:
        engine.dispose()


def machine_info() -> dict:
    import pandas
    import playwright
    import sqlalchemy
    import streamlit

    mem = next(
        (
            int(line.split()[1]) * 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        None,
    )
    return {
        "node": platform.node(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "mem_bytes": mem,
        "python": platform.python_version(),
        "streamlit": streamlit.__version__,
        "playwright": getattr(playwright, "__version__", "?"),
        "sqlalchemy": sqlalchemy.__version__,
        "pandas": pandas.__version__,
    }


# --- summary (pure) ------------------------------------------------------------------------------------------------
def summarize(loads: list[dict]) -> dict:
    """Per page: cold (the first load), warm and returning (medians), with their breakdown. Failed loads (with an
    ``error``) count in ``errors`` only."""

    def med(key, rows):
        vals = [r[key] for r in rows if r.get(key) is not None]
        return round(statistics.median(vals), 3) if vals else None

    out = {}
    for page in dict.fromkeys(r["page"] for r in loads):
        rows = [r for r in loads if r["page"] == page]
        ok = [r for r in rows if "error" not in r]
        cold = next((r for r in ok if r["phase"] == "cold"), None)
        warm = [r for r in ok if r["phase"] == "warm"]
        returning = [r for r in ok if r["phase"] == "returning"]
        out[page] = {
            "cold_s": cold["done_s"] if cold else None,
            "warm_s": med("done_s", warm),
            "returning_s": med("done_s", returning),
            "warm_min_s": min((r["done_s"] for r in warm), default=None),
            "warm_max_s": max((r["done_s"] for r in warm), default=None),
            "cold_server_done_s": cold.get("server_done_s") if cold else None,
            "warm_server_done_s": med("server_done_s", warm),
            "warm_ws_open_s": med("ws_open_s", warm),
            "cold_script_s": cold.get("script_s") if cold else None,
            "warm_script_s": med("script_s", warm),
            "cold_ws_bytes": cold["ws_bytes_in"] if cold else None,
            "warm_ws_bytes": med("ws_bytes_in", warm),
            "warm_http_bytes": med("http_bytes", warm),
            "returning_http_bytes": med("http_bytes", returning),
            "runs": cold["runs"] if cold else None,
            "cold_cpu_s": cold["cpu_s"] if cold else None,
            "warm_cpu_s": ({k: med(k, [r["cpu_s"] for r in warm]) for k in warm[0]["cpu_s"]} if warm else None),
            "background_after_cold_s": next((r.get("background_s") for r in rows if r["phase"] == "cold"), None),
            "outside_requests": sorted({u for r in ok for u in r["outside_requests"]}),
            "exceptions": max((r["elements"].get("exception", 0) for r in ok), default=0),
            # st.error / st.warning notices (e.g. a query over its time limit, stale data)
            "error_notices": max((r["elements"].get("error_notice", 0) for r in ok), default=0),
            "warning_notices": max((r["elements"].get("warning_notice", 0) for r in ok), default=0),
            "visual_ok": cold.get("visual_ok") if cold else None,
            "errors": [f"{r['phase']}: {r['error']}" for r in rows if "error" in r],
        }
    return out


def history_ratios(small: dict, big: dict) -> dict:
    """Per page present in both render reports: big / small for cold and warm end-to-end times, and for the
    server's script time (``cold_script``, ``warm_script``: the server's share alone, less disturbed by the browser
    and by other work on the machine)."""
    keys = {"cold": "cold_s", "warm": "warm_s", "cold_script": "cold_script_s", "warm_script": "warm_script_s"}
    out = {}
    for page, s in small["pages"].items():
        b = big["pages"].get(page)
        if b is None:
            continue
        out[page] = {k: round(b[f] / s[f], 2) if s.get(f) and b.get(f) else None for k, f in keys.items()}
    return out


def _mb(n) -> str:
    return "—" if n is None else f"{n / 1e6:.2f}"


def format_table(report: dict) -> str:
    lines = [
        f"{report['dialect']} · {report['cases']:,} cases · {report['db_bytes'] / 1e9:.2f} GB · "
        f"load {report['load_start'][0]:.2f} → {report['load_end'][0]:.2f} · {report['cpu_count']} CPUs",
        f"first load (wall, right after the server started): {report['first_load'].get('done_s', 'failed')} s",
        f"{'page':13s} {'cold s':>7s} {'warm s':>7s} {'ret. s':>7s} {'script':>7s} {'srv done':>8s} "
        f"{'ws MB':>6s} {'runs':>4s} {'cpu srv/db/brw (warm)':>22s} {'bg s':>5s}  notes",
    ]
    for page, s in report["pages"].items():
        cpu = s["warm_cpu_s"] or {}
        notes = []
        if s["outside_requests"]:
            notes.append(f"{len(s['outside_requests'])} OUTSIDE REQUESTS")
        if s["exceptions"]:
            notes.append(f"{s['exceptions']} exceptions")
        if s.get("error_notices") or s.get("warning_notices"):
            notes.append(f"{s.get('error_notices', 0)} error / {s.get('warning_notices', 0)} warning notices")
        if s["visual_ok"] is False:
            notes.append("main visual blank")
        if s.get("errors"):
            notes.append(f"{len(s['errors'])} failed: {s['errors'][0]}")
        fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
        lines.append(
            f"{page:13s} {fmt(s['cold_s']):>7s} {fmt(s['warm_s']):>7s} {fmt(s.get('returning_s')):>7s} "
            f"{fmt(s.get('warm_script_s')):>7s} {fmt(s['warm_server_done_s']):>8s} "
            f"{_mb(s['warm_ws_bytes']):>6s} {s['runs'] or 0:>4d} "
            f"{fmt(cpu.get('server')) + '/' + fmt(cpu.get('db')) + '/' + fmt(cpu.get('browser')):>22s} "
            f"{fmt(s['background_after_cold_s']):>5s}  {', '.join(notes)}"
        )
    return "\n".join(lines)


def format_ratios(ratios: dict, small: dict, big: dict, target: float = 1.3) -> str:
    """The ratio table; ✗ marks an end-to-end ratio over the target."""
    fmt = lambda v: "     —" if v is None else f"{v:6.2f}"  # noqa: E731
    lines = [
        f"history independence: {big['cases']:,} / {small['cases']:,} cases ({big['dialect']}), "
        f"target ≤ {target} (end to end); server script time alongside",
        f"{'page':13s} {'cold':>6s} {'warm':>6s}   {'script cold':>11s} {'script warm':>11s}",
    ]
    for page, r in ratios.items():
        flag = " ✗" if any(r.get(k) is not None and r[k] > target for k in ("cold", "warm")) else ""
        lines.append(
            f"{page:13s} {fmt(r['cold'])} {fmt(r['warm'])}   {fmt(r.get('cold_script')):>11s} "
            f"{fmt(r.get('warm_script')):>11s}{flag}"
        )
    return "\n".join(lines)


# --- the run -------------------------------------------------------------------------------------------------------
def run(
    url: str,
    pages: list[str],
    *,
    warm: int = 3,
    returning: int = 2,
    settle_ms: int = 1500,
    clock: str = "data",
    timeout_s: float = 900,
    log=print,
) -> dict:
    from playwright.sync_api import sync_playwright

    facts = db_facts(url)
    clock_start = datetime.fromisoformat(facts["last_report"]) if clock == "data" and facts["cases"] else None
    report = {
        **facts,
        **machine_info(),
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "load_start": os.getloadavg(),
        "clock": clock,
        "clock_start": str(clock_start),
        "warm_repeat": warm,
        "returning_repeat": returning,
        "settle_ms": settle_ms,
        "viewport": VIEWPORT,
    }
    shots = OUT / "render" / (facts["dbname"] or Path(facts["db"]).stem)
    server = Server(url, clock_start, OUT)
    loads = []
    try:
        meter = CpuMeter(server.process.pid, facts["dbname"])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            report["chromium"] = browser.version
            try:
                first = load_page(browser, server, meter, "wall", settle_ms=settle_ms, timeout_s=timeout_s)
            except Exception as err:  # reported; the pages are measured all the same
                first = {"page": "wall", "error": str(err).splitlines()[0][:300]}
            first["background_s"] = wait_idle(meter)
            report["first_load"] = first
            log(
                f"first load (wall): {first.get('done_s', 'failed')} s; then {first['background_s']} s of "
                f"background work"
            )
            for page in pages:
                server.clear()
                times = {"cold": [], "warm": [], "returning": []}
                shared = new_context(browser, page)  # the last warm load's context, kept for returning loads
                for i in range(1 + warm + returning):
                    phase = "cold" if i == 0 else "warm" if i <= warm else "returning"
                    try:
                        r = load_page(
                            browser,
                            server,
                            meter,
                            page,
                            settle_ms=settle_ms,
                            timeout_s=timeout_s,
                            shot=shots / f"{page}-cold.png" if i == 0 else None,
                            context=shared if i >= warm else None,
                        )
                    except Exception as err:  # one page failing is a result, the run goes on
                        r = {"page": page, "error": str(err).splitlines()[0][:300]}
                    r["background_s"] = wait_idle(meter)
                    loads.append({**r, "phase": phase})
                    times[phase].append(f"{r['done_s']:.2f}" if "done_s" in r else "failed")
                shared.close()
                background = loads[-1 - warm - returning]["background_s"]
                log(
                    f"{page:13s} cold {' '.join(times['cold'])} s  warm {' '.join(times['warm'])} s  returning "
                    f"{' '.join(times['returning'])} s  (background after cold {background} s)"
                )
            browser.close()
    finally:
        server.stop()
    report.update(
        load_end=os.getloadavg(),
        finished_at=datetime.now().isoformat(timespec="seconds"),
        pages=summarize(loads),
        loads=loads,
        server_log=str(server.log_path),
    )
    return report


def floor(loads: int = 7, settle_ms: int = 1500, log=print) -> dict:
    """The floor for the warm figures: the smallest Streamlit page (``bench/floor_app.py``) loaded like a page here,
    each load a new browser context; what no page can beat on this machine (Streamlit's own JavaScript)."""
    from playwright.sync_api import sync_playwright

    server = Server("sqlite://", None, OUT, app=ROOT / "bench" / "floor_app.py")
    rows = []
    try:
        meter = CpuMeter(server.process.pid, None)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for _ in range(loads + 1):  # the first load warms the server; not counted
                rows.append(load_page(browser, server, meter, "floor", settle_ms=settle_ms, path="/"))
                wait_idle(meter)
            browser.close()
    finally:
        server.stop()
    rows = rows[1:]

    def med(key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    report = {
        **machine_info(),
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "loads": rows,
        "floor_s": med("done_s"),
        "ws_open_s": med("ws_open_s"),
        "http_bytes": med("http_bytes"),
    }
    log(f"floor: {report['floor_s']} s median of {len(rows)} loads (websocket open at {report['ws_open_s']} s)")
    return report


def main_floor(args) -> None:
    report = floor(max(1, args.loads), args.settle)
    path = Path(args.json) if args.json else RESULTS / "floor.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"written {path}")


def default_json(report: dict) -> Path:
    name = report["dbname"] or Path(report["db"].removeprefix("sqlite:///")).stem
    return RESULTS / f"render_{name}.json"


def main(args) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and the browser on kill as well
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        raise SystemExit(f"unknown page(s) {unknown}; choose from {', '.join(PAGES)}")
    report = run(
        args.db,
        pages,
        warm=max(1, args.warm),
        returning=args.returning,
        settle_ms=args.settle,
        clock=args.clock,
        timeout_s=args.timeout,
    )
    print(format_table(report))
    path = Path(args.json) if args.json else default_json(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"written {path}")


def main_ratio(args) -> None:
    small, big = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (args.small, args.big))
    print(format_ratios(history_ratios(small, big), small, big, args.target))
