"""Real-browser fixtures: a Streamlit server on a free loopback port, driven by the system Chromium.

- ``app_server``: one server per test session over a small seeded world (SQLite), started by a fixture and stopped
  after; ``app_server.db_path`` lets a test make the database unreachable and bring it back.
- ``open_page(path, size)``: a page that records every request leaving the server's host and waits until the
  Streamlit script has finished running; screenshots go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from deploy.local import free_port
from tests.conftest import require_component

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("GRIDSCOPE_CHROMIUM", "/usr/bin/chromium")
DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"

pytestmark = pytest.mark.browser


@dataclass
class AppServer:
    url: str
    db_path: Path
    process: subprocess.Popen
    log_path: Path


def start_server(db_url: str, tmp: Path, extra_env: dict | None = None) -> AppServer:
    port = free_port()
    log_path = tmp / f"streamlit-{port}.log"
    env = {**os.environ, "GRIDSCOPE_DB_URL": db_url, "GRIDSCOPE_STALE_AFTER_SECONDS": "3600", **(extra_env or {})}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return AppServer(url, Path(db_url.removeprefix("sqlite:///")), proc, log_path)
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"Streamlit did not start:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def seeded_sqlite_url(tiny_world_url, tmp_path_factory) -> str:
    """The browser tests' database: a copy of the session's tiny seeded world with the flags stored, as the worker
    (``python -m worker``) does in a deployment; pages only read them."""
    from core.clock import local_now
    from data_access.engine import make_engine
    from reports import flags
    from tests.conftest import copy_world

    url = copy_world(tiny_world_url, tmp_path_factory.mktemp("browser-world"))
    writer = make_engine(url, read_only=False, timeout_s=flags.QUERY_TIMEOUT_S)
    flags.compute_and_store(writer, local_now())
    writer.dispose()
    return url


@pytest.fixture(scope="session")
def app_server(seeded_sqlite_url, tmp_path_factory):
    server = start_server(seeded_sqlite_url, tmp_path_factory.mktemp("server"))
    yield server
    server.process.terminate()
    server.process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    require_component(
        "Chromium",
        os.access(CHROMIUM, os.X_OK),
        f"the browser tests drive the system Chromium at {CHROMIUM} (GRIDSCOPE_CHROMIUM to change)",
    )
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--use-gl=swiftshader",
            "--enable-unsafe-swiftshader",
        ],
    }


@dataclass
class OpenedPage:
    page: object
    outside_requests: list = field(default_factory=list)

    def wait_done(self, timeout_ms: int = 90_000, settle_ms: int = 1200):
        self.page.wait_for_selector(DONE, timeout=timeout_ms)
        self.page.wait_for_timeout(settle_ms)
        self.page.wait_for_selector(DONE, timeout=timeout_ms)

    def overflow_px(self) -> int:
        return self.page.evaluate("""() => Math.max(
            document.documentElement.scrollHeight - window.innerHeight,
            ...[...document.querySelectorAll('[data-testid="stMain"], section.main')]
                .map(m => m.scrollHeight - m.clientHeight))""")

    def exceptions(self) -> int:
        return self.page.locator("[data-testid='stException']").count()

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


_WARMED: set[str] = set()


@pytest.fixture
def open_page(browser, app_server):
    """Open ``path`` at ``size`` (e.g. '1920x1080') on the app server; returns an OpenedPage after the run ends."""
    contexts = []

    def _open(path: str, size: str = "1920x1080", server: AppServer | None = None) -> OpenedPage:
        target = server or app_server
        if target.url not in _WARMED:
            # Until one session has run app.py (st.navigation), Streamlit serves deep links from the pages/ folder
            # the old way, without the shell; a real deployment is opened at its root first, so warm it up.
            warm = browser.new_context()
            warm_page = warm.new_page()
            warm_page.goto(target.url + "/", wait_until="domcontentloaded")
            warm_page.wait_for_selector(DONE, timeout=120_000)
            warm.close()
            _WARMED.add(target.url)
        width, height = (int(v) for v in size.split("x"))
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = OpenedPage(page)
        host = urlparse(target.url).hostname
        page.on(
            "request",
            lambda r: (
                opened.outside_requests.append(r.url)
                if not r.url.startswith(("data:", "blob:", "about:")) and urlparse(r.url).hostname != host
                else None
            ),
        )
        page.goto(target.url + path, wait_until="domcontentloaded")
        opened.wait_done()
        return opened

    yield _open
    for context in contexts:
        context.close()
