"""The shipped nginx site never lets a client choose who it is (issue 16, finding 1).

nginx inherits ``proxy_set_header`` from the server level only into a location that sets none of its own, so one
location with its own header line used to pass the client's ``X-Forwarded-User`` through. Every proxy header now
lives in ONE snippet (deploy/gridscope-proxy-headers.conf) that every location includes and nothing else sets a
header: checked on the text, then through real nginx in front of an echo server (every location), then with a
real browser through nginx in front of the dashboard in ``proxy`` mode.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.clock import local_now
from data_access.engine import make_engine
from data_access.migrate import upgrade
from deploy import local
from tests.browser.conftest import DONE, browser_type_launch_args  # noqa: F401 - the system Chromium for `browser`
from tests.builders import add_case, make_reference
from tests.conftest import require_component

LOCATION_PATHS = ("/", "/wall", "/static/js/index.js", "/media/x.png", "/_stcore/stream", "/_stcore/health")


def _blocks(text: str, keyword: str) -> list[str]:
    """The bodies of every ``keyword ... { ... }`` block (braces matched; comments removed first)."""
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    bodies = []
    for match in re.finditer(rf"(?m)^\s*{keyword}\b[^{{;]*\{{", text):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        bodies.append(text[match.end() : i - 1])
    return bodies


def _directives(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


# --- the text -------------------------------------------------------------------------------------------------------
def test_every_location_includes_the_one_header_snippet_and_nothing_else_sets_a_header():
    site = local.render_site([8501, 8502], "127.0.0.1:8080", snippet=Path("/srv/gridscope/proxy-headers.conf"))
    locations = _blocks(site, "location")
    assert len(locations) >= 3
    for body in locations:
        assert "proxy_pass" in body
        assert "include /srv/gridscope/proxy-headers.conf;" in body, body
    # not one header line outside the snippet: a location with its own line would inherit none of the others
    assert "proxy_set_header" not in _directives(site)
    snippet = _directives(local.SNIPPET.read_text(encoding="utf-8"))
    for line in (
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-User $gridscope_user;",
        "proxy_set_header X-Forwarded-Role $gridscope_role;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $gridscope_connection;",
    ):
        assert line in snippet, line
    # the identity variables are only ever set empty by the site (a sign-in step in front fills them, never the
    # client)
    for variable in ("user", "role"):
        assert re.search(rf'(?m)^\s*set \$gridscope_{variable} "";', _directives(site)), variable
    # the shipped template names the conventional Debian path of the snippet
    assert "include /etc/nginx/snippets/gridscope-proxy-headers.conf;" in local.TEMPLATE.read_text(encoding="utf-8")


# --- real nginx in front of an echo server -------------------------------------------------------------------------
class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # http.server's name for the GET handler
        body = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def _need_nginx():
    require_component(
        "nginx",
        os.access(local.NGINX, os.X_OK),
        f"{local.NGINX} is not an executable: the test runs the shipped site in real nginx",
    )


@pytest.fixture
def nginx_in_front_of_echo():
    _need_nginx()
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="gridscope-test-nginx-"))
    work.chmod(0o755)
    port = local.free_port()
    site = local.write_site(work, [echo.server_address[1]], f"127.0.0.1:{port}")
    main = work / "nginx.conf"
    main.write_text(local.nginx_main_conf(work, site))
    check = subprocess.run(
        [local.NGINX, "-t", "-p", str(work), "-c", str(main), "-e", str(work / "t.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr  # the include resolves, the site is valid
    nginx = subprocess.Popen(
        [local.NGINX, "-p", str(work), "-c", str(main), "-e", str(work / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        local.wait_healthy(f"http://127.0.0.1:{port}", nginx, work / "nginx-error.log", "nginx", timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=15)
        echo.shutdown()
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.deployment
@pytest.mark.parametrize("path", LOCATION_PATHS)
def test_nginx_strips_identity_headers_and_forwards_host_in_every_location(nginx_in_front_of_echo, path):
    request = urllib.request.Request(
        nginx_in_front_of_echo + path,
        headers={
            "Host": "dash.example.gov:8443",
            "X-Forwarded-User": "boss",
            "X-Forwarded-Role": "leader",
            "X-Forwarded-For": "6.6.6.6",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        seen = json.loads(response.read())
    assert seen["path"] == path
    headers = seen["headers"]
    assert headers.get("x-forwarded-user", "") == "", f"{path}: the client's X-Forwarded-User reached the app"
    assert headers.get("x-forwarded-role", "") == "", f"{path}: the client's X-Forwarded-Role reached the app"
    assert headers["host"] == "dash.example.gov:8443", path  # $http_host, port kept
    assert headers["x-forwarded-proto"] == "http", path
    # the proxy appends the address it saw: the app takes the right-most entry it does not trust
    assert [h.strip() for h in headers["x-forwarded-for"].split(",")] == ["6.6.6.6", "127.0.0.1"], path


# --- a real browser through real nginx, dashboard in proxy mode ----------------------------------------------------
@pytest.fixture(scope="module")
def proxied_dashboard():
    _need_nginx()
    work = Path(tempfile.mkdtemp(prefix="gridscope-test-proxyauth-"))
    try:
        url = f"sqlite:///{work / 'gridscope.db'}"
        writer = make_engine(url, read_only=False)
        upgrade(writer)
        make_reference(writer)
        add_case(writer, reported_at=local_now().replace(tzinfo=None, microsecond=0) - timedelta(hours=3))
        writer.dispose()
        env = {
            "GRIDSCOPE_AUTH_MODE": "proxy",
            "GRIDSCOPE_AUTH_ROLES": json.dumps({"boss": "leader"}),
            "GRIDSCOPE_STALE_AFTER_SECONDS": "3600",
        }
        with local.Deployment(url, processes=1, workdir=work / "site", extra_env=env) as deployment:
            yield deployment
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _open(browser, url: str, headers: dict):
    context = browser.new_context(extra_http_headers=headers)
    page = context.new_page()
    page.goto(url + "/", wait_until="domcontentloaded")
    page.wait_for_selector(DONE, timeout=90_000)
    page.wait_for_timeout(1500)
    page.wait_for_selector(DONE, timeout=90_000)
    return context, page.inner_text("body")


@pytest.mark.deployment
@pytest.mark.browser
def test_forged_sign_in_header_through_nginx_is_refused(proxied_dashboard, browser):
    backend = proxied_dashboard.backends[0]
    # control: the header reaches the app on the websocket, and the app honours it from its proxy's address
    # (Streamlit listens on loopback only, where the proxy is)
    context, body = _open(browser, backend.url, {"X-Forwarded-User": "boss"})
    context.close()
    assert "城市运行态势" in body and "boss" in body, body[:400]
    # the same header sent by a browser THROUGH nginx: blanked by the proxy, the viewer is not signed in
    context, body = _open(browser, proxied_dashboard.url, {"X-Forwarded-User": "boss"})
    context.close()
    assert "城市运行态势" not in body and "boss" not in body, body[:400]
    assert "X-Forwarded-User" in body  # the sign-in gate: "no identity from the reverse proxy"
