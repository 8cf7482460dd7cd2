"""Who may say who they are (issue 16, findings 1, 2 and 8): the proxy header only from the configured proxy
addresses, OIDC roles only from the subject or a verified e-mail, and no open demo on the network.

The page runs are AppTests over a tiny world built in code; the request's peer address and headers are stood in
for with ``auth.peer_address`` / ``auth.request_headers`` (a real browser through real nginx: test_security_nginx.py).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.clock import local_now
from data_access.engine import make_engine
from data_access.migrate import upgrade
from tests.builders import add_case, make_reference
from tests.conftest import clear_app_caches
from ui import auth

ROOT = Path(__file__).resolve().parent.parent
ROLES = {"boss": "leader", "li": "street_head:1"}


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    engine = make_engine(url, read_only=False)
    upgrade(engine)
    make_reference(engine)
    add_case(engine, reported_at=local_now().replace(tzinfo=None) - timedelta(hours=2))
    engine.dispose()
    monkeypatch.setenv("GRIDSCOPE_DB_URL", url)
    for name in ("GRIDSCOPE_AUTH_TRUSTED_PROXIES", "GRIDSCOPE_ALLOW_OPEN_DEMO", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    clear_app_caches()
    yield url
    clear_app_caches()


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()


def signed_in_pages(at: AppTest) -> set[str]:
    return {
        Path(str(info.get("script_path", ""))).stem
        for info in at._registered_pages.values()
        if str(info.get("script_path", "")).endswith(".py")
    }


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "caption", "markdown") for e in getattr(at, kind))


@pytest.fixture
def request_from(monkeypatch):
    """``request_from("10.0.0.5", {"x-forwarded-user": "boss"})``: the next runs come from that peer with those
    headers (what Streamlit's websocket would report)."""
    state = {"peer": "127.0.0.1", "headers": {}}
    monkeypatch.setattr(auth, "peer_address", lambda: state["peer"], raising=False)
    monkeypatch.setattr(auth, "request_headers", lambda: dict(state["headers"]))

    def set_request(peer: str, headers: dict | None = None):
        state["peer"], state["headers"] = peer, {k.lower(): v for k, v in (headers or {}).items()}

    return set_request


# --- proxy mode: the header counts only from a trusted proxy ------------------------------------------------------------
@pytest.fixture
def proxy_mode(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "proxy")
    monkeypatch.setenv("GRIDSCOPE_AUTH_ROLES", json.dumps(ROLES))


def test_proxy_header_from_loopback_proxy_signs_in(world, proxy_mode, request_from):
    request_from("127.0.0.1", {"X-Forwarded-User": "boss"})
    at = app()
    assert not at.exception
    assert "wall" in signed_in_pages(at) and "data_quality" in signed_in_pages(at)


def test_proxy_header_from_any_other_address_is_refused(world, proxy_mode, request_from, caplog):
    # Streamlit reachable directly from the network (not through the proxy): a client sends the header itself
    request_from("10.20.30.40", {"X-Forwarded-User": "boss"})
    at = app()
    assert not at.exception
    assert signed_in_pages(at) == set()  # only the sign-in gate
    assert "boss" not in texts(at)
    assert any("10.20.30.40" in r.getMessage() and "auth_trusted_proxies" in r.getMessage() for r in caplog.records)


def test_trusted_proxies_are_configurable(world, proxy_mode, request_from, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_TRUSTED_PROXIES", "10.0.0.0/24, 192.168.7.2")
    request_from("10.0.0.9", {"X-Forwarded-User": "li"})
    assert signed_in_pages(app()) == {"wall", "map", "backlog"}
    request_from("192.168.7.2", {"X-Forwarded-User": "li"})
    assert signed_in_pages(app()) == {"wall", "map", "backlog"}
    request_from("127.0.0.1", {"X-Forwarded-User": "li"})  # loopback is no longer a proxy here
    assert signed_in_pages(app()) == set()


def test_proxy_header_refused_when_the_server_may_have_replaced_the_peer(world, proxy_mode, request_from, monkeypatch):
    """uvicorn (Streamlit's server) replaces the peer address with X-Forwarded-For when the peer is in its own
    FORWARDED_ALLOW_IPS: with a wider list than ours, the address we see proves nothing, so the header is refused."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    request_from("127.0.0.1", {"X-Forwarded-User": "boss", "X-Forwarded-For": "127.0.0.1"})
    assert signed_in_pages(app()) == set()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")  # deploy.local and ./gridscope run: no replacement
    assert "data_quality" in signed_in_pages(app())


@pytest.mark.parametrize(
    "peer, forwarded, client",
    [
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "6.6.6.6, 10.1.1.7", "10.1.1.7"),  # through the proxy: the address the proxy saw
        ("127.0.0.1", "6.6.6.6, 127.0.0.1", "6.6.6.6"),
        ("10.9.9.9", "1.2.3.4", "10.9.9.9"),  # not a proxy: its own header proves nothing
    ],
)
def test_client_address_behind_a_trusted_proxy(request_from, monkeypatch, peer, forwarded, client):
    monkeypatch.delenv("GRIDSCOPE_AUTH_TRUSTED_PROXIES", raising=False)
    request_from(peer, {"X-Forwarded-For": forwarded} if forwarded else {})
    assert auth.client_address() == client


# --- OIDC: roles from the subject or a verified e-mail, never from the display name --------------------------------------
class FakeUser:
    def __init__(self, claims: dict):
        self.claims = claims
        self.is_logged_in = True

    def to_dict(self) -> dict:
        return dict(self.claims)


@pytest.fixture
def oidc(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "oidc")
    monkeypatch.setattr(auth, "_oidc_configured", lambda: True)

    def sign_in(claims: dict, roles: dict):
        monkeypatch.setenv("GRIDSCOPE_AUTH_ROLES", json.dumps(roles))
        monkeypatch.setattr(auth.st, "user", FakeUser(claims))
        return auth._from_oidc()

    return sign_in


def test_oidc_display_name_never_gives_a_role(oidc):
    # many identity providers let users edit their display name
    user = oidc({"sub": "u-991", "name": "boss", "email": "me@example.org", "email_verified": True}, {"boss": "leader"})
    assert user.role == ""


@pytest.mark.parametrize("verified", [False, None, "false", 0])
def test_oidc_unverified_email_never_gives_a_role(oidc, verified):
    claims = {"sub": "u-991", "email": "boss@city.gov.cn", "name": "Boss"}
    if verified is not None:
        claims["email_verified"] = verified
    user = oidc(claims, {"boss@city.gov.cn": "leader"})
    assert user.role == "" and user.name != "boss@city.gov.cn"


@pytest.mark.parametrize("verified", [True, "true"])
def test_oidc_verified_email_gives_its_role(oidc, verified):
    user = oidc(
        {"sub": "u-1", "email": "li@city.gov.cn", "email_verified": verified, "name": "李明"},
        {"li@city.gov.cn": "street_head:1"},
    )
    assert (user.role, user.street_id, user.name) == ("street_head", 1, "li@city.gov.cn")
    assert user.display == "李明"  # shown, never looked up


def test_oidc_subject_gives_its_role_and_wins_over_the_email(oidc):
    user = oidc(
        {"sub": "auth0|42", "email": "x@city.gov.cn", "email_verified": True},
        {"auth0|42": "department_head:3", "x@city.gov.cn": "leader"},
    )
    assert (user.role, user.department_id) == ("department_head", 3)


def test_oidc_role_claim_from_the_identity_provider(oidc):
    user = oidc({"sub": "u-7", "name": "boss", "gridscope_role": "wall"}, {})
    assert user.role == "wall" and user.name == "u-7"


# --- no open demo on the network ---------------------------------------------------------------------------------------
def test_demo_without_sign_in_on_a_network_address_refuses_to_serve(world, request_from, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "none")
    monkeypatch.setattr(auth, "bind_address", lambda: "0.0.0.0", raising=False)
    at = app()
    assert not at.exception
    assert signed_in_pages(at) == set()
    assert "城市运行态势" not in texts(at)
    message = " ".join(e.value for e in at.error)
    assert "GRIDSCOPE_ALLOW_OPEN_DEMO" in message and "auth_mode" in message and "0.0.0.0" in message
    monkeypatch.setenv("GRIDSCOPE_ALLOW_OPEN_DEMO", "1")  # the explicit override
    at = app()
    assert not at.exception and "wall" in signed_in_pages(at)


def test_demo_without_sign_in_refuses_viewers_from_the_network(world, request_from, monkeypatch):
    """Bound to loopback but published by a proxy: a viewer from another machine is refused as well."""
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "none")
    monkeypatch.setattr(auth, "bind_address", lambda: "127.0.0.1", raising=False)
    request_from("127.0.0.1", {"X-Forwarded-For": "10.3.3.3"})
    at = app()
    assert signed_in_pages(at) == set() and any("GRIDSCOPE_ALLOW_OPEN_DEMO" in e.value for e in at.error)
    request_from("127.0.0.1")  # the machine itself: the quick start keeps working
    assert "wall" in signed_in_pages(app())


def test_sign_in_on_a_network_address_is_fine(world, request_from, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "proxy")
    monkeypatch.setenv("GRIDSCOPE_AUTH_ROLES", json.dumps(ROLES))
    monkeypatch.setattr(auth, "bind_address", lambda: "0.0.0.0", raising=False)
    request_from("127.0.0.1", {"X-Forwarded-User": "boss", "X-Forwarded-For": "10.3.3.3"})
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")
    assert "data_quality" in signed_in_pages(app())


def test_bind_address_is_the_address_streamlit_listens_on(monkeypatch):
    from streamlit import config

    monkeypatch.setattr(config, "_server_mode", None)
    assert auth.bind_address() is None  # no server (AppTest, a script): nothing is exposed
    monkeypatch.setattr(config, "_server_mode", "starlette-managed")
    monkeypatch.setattr(auth, "_server_address_option", lambda: None)
    assert auth.bind_address() == ""  # Streamlit's default: every interface
    monkeypatch.setattr(auth, "_server_address_option", lambda: "127.0.0.1")
    assert auth.bind_address() == "127.0.0.1"


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("", False),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.2", False),
        ("dash.example", False),
    ],
)
def test_loopback_addresses(address, loopback):
    assert auth.is_loopback(address) is loopback
