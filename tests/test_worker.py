"""The worker (worker/): jobs run once per period per deployment, whatever the number of workers and app processes.

(a) the lock on both dialects: two concurrent runs of one job and period → one computes, the other skips;
(b) real processes on PostgreSQL: two workers (``python -m worker --once`` and a seconds-long schedule) compute each
    period once (rows in job_runs and flag_results), and two Streamlit processes show the stored result at once,
    also after a restart, without computing (health, a browser on the wall, AppTest on the same database);
(c) worker down: the wall says that no result exists yet (with the command) or how old the stored one is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.clock import local_now
from data_access import job_store
from data_access.engine import make_engine
from data_access.migrate import upgrade
from deploy import local
from reports import flags
from tests.browser.conftest import DONE, browser_type_launch_args  # noqa: F401 - the system Chromium for `browser`
from tests.conftest import clear_app_caches, new_database
from tests.test_reports_flags import small_world
from worker import jobs
from worker.__main__ import main
from worker.runner import run_due

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 12, 5, 10, 5)


# --- periods ----------------------------------------------------------------------------------------------------------
def test_period_keys_follow_the_local_calendar():
    hourly = jobs.Job("h", timedelta(hours=1), run=lambda e, n: None, version="3")
    assert hourly.period_key(datetime(2026, 12, 5, 10, 59, 59)) == "2026-12-05T10:00:00/v3"
    assert hourly.period_key(datetime(2026, 12, 5, 11, 0)) == "2026-12-05T11:00:00/v3"
    weekly = jobs.Job("w", timedelta(weeks=1), run=lambda e, n: None, offset=timedelta(hours=8))
    assert weekly.period_key(datetime(2026, 12, 9, 15, 0)) == "2026-12-07T08:00:00"  # Monday 08:00
    assert weekly.period_key(datetime(2026, 12, 7, 7, 59)) == "2026-11-30T08:00:00"
    fast = jobs.Job("f", timedelta(seconds=2), run=lambda e, n: None)
    assert fast.period_key(datetime(2026, 12, 5, 10, 0, 3)) == "2026-12-05T10:00:02"


def test_the_flags_job_is_registered_hourly_with_its_method_version():
    job = jobs.by_name(["flags"])[0]
    assert job.every == timedelta(hours=1) and job.run is flags.compute_and_store
    assert job.period_key(T0).endswith(f"/v{flags.METHOD_VERSION}")
    with pytest.raises(KeyError):
        jobs.by_name(["nope"])


# --- (a) the lock, on both dialects -----------------------------------------------------------------------------------
def test_two_concurrent_runs_of_one_period_compute_once(writer):
    started, gate, calls = threading.Event(), threading.Event(), []

    def slow(_engine, now):
        calls.append(now)
        started.set()
        gate.wait(20)
        return {"done": True}

    job = jobs.Job("lockcheck", timedelta(hours=1), run=slow)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(run_due, job, writer, T0)
        assert started.wait(20)
        assert run_due(job, writer, T0 + timedelta(minutes=1)) == "locked"  # the other worker is running it
        gate.set()
        assert first.result(20) == "ok"
    assert run_due(job, writer, T0 + timedelta(minutes=2)) == "done"  # got the lock later: already done
    assert len(calls) == 1
    runs = job_store.job_runs(writer, "lockcheck")
    assert len(runs) == 1 and runs.iloc[0]["status"] == "ok" and runs.iloc[0]["attempts"] == 1
    assert run_due(job, writer, T0 + timedelta(hours=1)) == "ok" and len(calls) == 2  # the next period


def test_a_failing_job_is_recorded_and_releases_the_lock(writer):
    def broken(_engine, _now):
        raise RuntimeError("no luck")

    job = jobs.Job("broken", timedelta(hours=1), run=broken, retry_after=timedelta(minutes=5))
    assert run_due(job, writer, T0) == "failed"
    row = job_store.job_runs(writer, "broken").iloc[0]
    assert row["status"] == "failed" and "RuntimeError: no luck" in row["error"]
    assert run_due(job, writer, T0 + timedelta(minutes=1)) == "done"  # not hammered every check
    assert run_due(job, writer, T0 + timedelta(minutes=6)) == "failed"  # tried again: the lock was free
    assert job_store.job_runs(writer, "broken").iloc[0]["attempts"] == 2


def test_once_from_the_command_line(writer, db_url, capsys):
    small_world(writer, local_now())
    assert main(["--db", db_url, "--once", "--job", "flags"]) == 0
    assert main(["--db", db_url, "--once", "--job", "flags"]) == 0  # same period: skipped
    assert job_store.flag_result_count(writer) == 1
    runs = job_store.job_runs(writer, "flags")
    assert list(runs["status"]) == ["ok"] and runs.iloc[0]["attempts"] == 1
    assert main(["--db", db_url, "--status"]) == 0
    assert "flags" in capsys.readouterr().out


# --- (b) real processes on PostgreSQL ---------------------------------------------------------------------------------
def _worker(url: str, log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "worker", "--db", url, *args], cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def pg_world(request, tmp_path_factory):
    url = new_database("postgresql", request, tmp_path_factory.mktemp("pg"))
    writer = make_engine(url, read_only=False)
    upgrade(writer)
    small_world(writer, local_now())
    yield url, writer
    writer.dispose()


def test_two_workers_compute_each_period_once_on_postgresql(pg_world, tmp_path):
    url, writer = pg_world
    log = tmp_path / "workers.log"
    # two workers started together for the same period: one computes, the other finds it locked or done
    pair = [_worker(url, log, "--once", "--job", "flags") for _ in range(2)]
    assert [p.wait(timeout=120) for p in pair] == [0, 0], log.read_text()[-3000:]
    assert job_store.flag_result_count(writer) == 1
    assert list(job_store.job_runs(writer, "flags")["attempts"]) == [1]
    # two workers on a seconds-long schedule (APScheduler): every 3-s period is computed once, by one of them
    pair = [_worker(url, log, "--job", "flags", "--every", "flags=3", "--check", "0.5") for _ in range(2)]
    try:
        time.sleep(10)
    finally:
        for proc in pair:
            _stop(proc)
    runs = job_store.job_runs(writer, "flags", limit=1000)
    assert len(runs) >= 3, log.read_text()[-3000:]
    assert runs["period_key"].is_unique and set(runs["status"]) == {"ok"} and set(runs["attempts"]) == {1}
    assert job_store.flag_result_count(writer) == len(runs)  # one stored result per run
    assert runs["worker"].nunique() >= 1


@pytest.mark.browser
def test_app_processes_show_the_stored_result_at_once_and_never_compute(pg_world, tmp_path, browser, monkeypatch):
    url, writer = pg_world
    if job_store.flag_result_count(writer) == 0:
        flags.compute_and_store(writer, local_now())
    results = job_store.flag_result_count(writer)
    env = {**os.environ, "GRIDSCOPE_DB_URL": url, "GRIDSCOPE_STALE_AFTER_SECONDS": "3600"}
    apps = [local.start_backend(local.free_port(), env, tmp_path / f"app{i}.log") for i in range(2)]
    try:
        for app in apps:
            local.wait_healthy(app.url, app.process, app.log_path, "Streamlit")
        apps[0].stop()  # a restart: a cold process
        apps[0] = local.start_backend(apps[0].port, env, apps[0].log_path)
        local.wait_healthy(apps[0].url, apps[0].process, apps[0].log_path, "Streamlit")
        for app in apps:
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            try:
                page = context.new_page()
                page.goto(app.url + "/?embed=true&refresh=600", wait_until="domcontentloaded")
                page.wait_for_selector(DONE, timeout=120_000)
                page.wait_for_selector("text=选择性上报预警", timeout=60_000)
                body = page.inner_text("body")
            finally:
                context.close()
            assert "疑似 0" in body and "本期未见需核查的预警" in body, body[-2000:]
            assert "尚无预警结果" not in body and "计算中" not in body
    finally:
        for app in apps:
            app.stop()
    assert job_store.flag_result_count(writer) == results  # the apps computed nothing
    # the same on AppTest, with the computation made impossible
    monkeypatch.setattr(flags, "compute_with_history", _refuse)
    monkeypatch.setenv("GRIDSCOPE_DB_URL", url)
    text = _wall_text()
    assert "疑似 0" in text and "尚无预警结果" not in text


def _refuse(*_args, **_kwargs):
    raise AssertionError("a page computed the flags")


# --- (c) worker down: the pages say so ----------------------------------------------------------------------------
def _wall_text() -> str:
    clear_app_caches()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert not at.exception
        return "\n".join([el.proto.body for el in at.get("html")] + [m.value for m in at.markdown])
    finally:
        clear_app_caches()


@pytest.fixture
def sqlite_world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'gridscope.db'}"
    writer = make_engine(url, read_only=False)
    upgrade(writer)
    now = local_now()
    small_world(writer, now)
    monkeypatch.setenv("GRIDSCOPE_DB_URL", url)
    yield writer, now
    writer.dispose()


def test_without_a_result_the_wall_says_the_worker_must_run(sqlite_world, monkeypatch):
    monkeypatch.setattr(flags, "compute_with_history", _refuse)  # pages read; only the worker computes
    text = _wall_text()
    assert "尚无预警结果：后台任务未运行" in text and "python -m worker" in text


def test_an_old_result_is_shown_with_its_age(sqlite_world, monkeypatch):
    writer, now = sqlite_world
    flags.compute_and_store(writer, now - timedelta(hours=5))  # the worker's last run, 5 hours ago
    monkeypatch.setattr(flags, "compute_with_history", _refuse)
    text = _wall_text()
    assert "预警结果更新于 5.0 小时前" in text and "python -m worker" in text
    assert "疑似 0" in text  # the old result is still shown


def test_a_fresh_result_is_shown_without_an_age_notice(sqlite_world, monkeypatch):
    writer, now = sqlite_world
    flags.compute_and_store(writer, now)
    monkeypatch.setattr(flags, "compute_with_history", _refuse)
    text = _wall_text()
    assert "疑似 0" in text and "预警结果更新于" not in text and "尚无预警结果" not in text


def test_reporting_page_without_a_result_says_the_worker_must_run(sqlite_world, monkeypatch):
    monkeypatch.setattr(flags, "compute_with_history", _refuse)
    clear_app_caches()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("pages/reporting.py")
        at.run()
        assert not at.exception
        assert any("尚无预警结果" in e.value and "python -m worker" in e.value.replace("\\", "") for e in at.error)
    finally:
        clear_app_caches()


def test_an_unmigrated_database_is_one_error_line_not_a_crash(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["--db", url, "--once", "--job", "flags"]) == 1
    assert "data_access.migrate" in caplog.text
