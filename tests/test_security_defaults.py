"""Safe defaults (issue 16, finding 8): the quick start listens on 127.0.0.1 only and says where it listens; the
README tells how to expose the dashboard, sign-in first.

``./gridscope run`` is run for real from a copy of the project whose Python and Streamlit are stand-ins that record
their arguments (no set-up, no database): what is checked is the command line Streamlit gets and the log line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import DONE, browser_type_launch_args  # noqa: F401 - the system Chromium for `browser`

ROOT = Path(__file__).resolve().parent.parent


def _script(path: Path, text: str) -> None:
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def fake_project(tmp_path):
    """A copy of ./gridscope with a stand-in virtual environment that is already set up."""
    project = tmp_path / "project"
    venv = project / ".venv" / "bin"
    venv.mkdir(parents=True)
    shutil.copy(ROOT / "gridscope", project / "gridscope")
    requirements = b""
    for req in sorted(ROOT.glob("requirements*.txt")):
        shutil.copy(req, project / req.name)
        requirements += req.read_bytes()
    # python_env's stamp: the requirements are "installed" (cat requirements*.txt | sha256sum | cut -c1-16)
    (project / ".venv" / ".installed-requirements.txt").write_text(hashlib.sha256(requirements).hexdigest()[:16] + "\n")
    # every `python -m …` succeeds except the status checks (so no seeding and no live simulator)
    _script(venv / "python", 'case "$*" in *data_access.status*) exit 1 ;; esac\nexit 0\n')
    _script(venv / "streamlit", f'printf "%s\\n" "$@" > "{tmp_path}/streamlit-args"\n')
    tools = tmp_path / "bin"
    tools.mkdir()
    _script(tools / "fc-list", 'echo "/usr/share/fonts/x.ttc: Noto Sans CJK SC:style=Regular"\n')
    return project


def run(project: Path, *args: str) -> tuple[list[str], str]:
    env = {**os.environ, "PATH": f"{project.parent / 'bin'}:{os.environ['PATH']}"}
    env.pop("STREAMLIT_SERVER_ADDRESS", None)
    env.pop("STREAMLIT_SERVER_PORT", None)
    done = subprocess.run(
        [str(project / "gridscope"), "run", *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return (project.parent / "streamlit-args").read_text().split("\n")[:-1], done.stdout + done.stderr


def _option(args: list[str], name: str) -> list[str]:
    values = [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]
    return values + [a.split("=", 1)[1] for a in args if a.startswith(name + "=")]


def test_quick_start_listens_on_loopback_only(fake_project):
    args, out = run(fake_project)
    assert args[:2] == ["run", "app.py"]
    assert _option(args, "--server.address") == ["127.0.0.1"]
    assert "http://127.0.0.1:8501" in out and "localhost:8501" not in out


def test_the_log_line_names_the_port_and_address_given(fake_project):
    args, out = run(fake_project, "--server.port", "9123")
    assert _option(args, "--server.address") == ["127.0.0.1"] and _option(args, "--server.port") == ["9123"]
    assert "http://127.0.0.1:9123" in out and "http://127.0.0.1:9123/?embed=true" in out


@pytest.mark.parametrize("given", [["--server.address", "0.0.0.0"], ["--server.address=0.0.0.0"]])
def test_an_address_of_ones_own_is_kept(fake_project, given):
    args, out = run(fake_project, *given, "--server.port=9124")
    assert _option(args, "--server.address") == ["0.0.0.0"]  # ours is not added
    assert "http://0.0.0.0:9124" in out


def test_readme_says_how_to_expose_it_with_sign_in_first():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    access = text.split("## Access and roles", 1)[1].split("\n## ", 1)[0]
    assert "127.0.0.1" in access and "GRIDSCOPE_ALLOW_OPEN_DEMO" in access and "docs/security.md" in access
    # the production example turns sign-in on
    deployment = text.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    assert "GRIDSCOPE_AUTH_MODE=" in deployment


def test_streamlit_address_from_the_environment_is_kept(fake_project, monkeypatch):
    env_address = "10.0.0.8"
    monkeypatch.setitem(os.environ, "STREAMLIT_SERVER_ADDRESS", env_address)
    project = fake_project
    env = {**os.environ, "PATH": f"{project.parent / 'bin'}:{os.environ['PATH']}"}
    done = subprocess.run(
        [str(project / "gridscope"), "run"], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    args = (project.parent / "streamlit-args").read_text().split("\n")[:-1]
    assert _option(args, "--server.address") == [] and f"http://{env_address}:8501" in done.stdout + done.stderr


# --- a real server: sign-in off on every interface refuses to serve ------------------------------------------------------
@pytest.mark.browser
def test_open_demo_on_every_interface_serves_only_a_notice(browser, tiny_world_url, tmp_path):
    import sys
    import time
    import urllib.request

    from deploy.local import free_port

    port = free_port()
    env = {**os.environ, "GRIDSCOPE_DB_URL": tiny_world_url, "GRIDSCOPE_AUTH_MODE": "none"}
    env.pop("GRIDSCOPE_ALLOW_OPEN_DEMO", None)
    log = tmp_path / "streamlit.log"
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
            "0.0.0.0",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()[-2000:]
                time.sleep(0.3)
        context = browser.new_context()
        try:
            page = context.new_page()
            for path in ("/", "/departments"):
                page.goto(f"http://127.0.0.1:{port}{path}", wait_until="domcontentloaded")
                page.wait_for_selector(DONE, timeout=90_000)
                page.wait_for_timeout(1000)
                body = page.inner_text("body")
                assert "GRIDSCOPE_ALLOW_OPEN_DEMO" in body and "0.0.0.0" in body, body[:300]
                assert "城市运行态势" not in body and "部门考评" not in body, body[:300]
        finally:
            context.close()
        assert "refusing to serve" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
