"""Local sign-in under attack (issue 16, finding 7): attempt limits per account and per client with exponential
back-off, a failure log with counts, no password hashing while locked out, and a removed or changed account signed
out on its next run. AppTests of app.py over a tiny world; argon2 made cheap (the parameters live in each hash)."""

from __future__ import annotations

import logging
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


class CountingHasher:
    """A cheap argon2id hasher that counts verifications (the expensive step an attacker makes us do)."""

    verified = 0

    def __init__(self):
        from argon2 import PasswordHasher

        self._inner = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    def hash(self, password):
        return self._inner.hash(password)

    def verify(self, stored, password):
        CountingHasher.verified += 1
        return self._inner.verify(stored, password)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def accounts(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'local.db'}"
    engine = make_engine(url, read_only=False)
    upgrade(engine)
    make_reference(engine)
    add_case(engine, reported_at=local_now().replace(tzinfo=None) - timedelta(hours=2))
    engine.dispose()
    monkeypatch.setenv("GRIDSCOPE_DB_URL", url)
    monkeypatch.setattr(auth, "_hasher", CountingHasher)
    CountingHasher.verified = 0
    path = tmp_path / "users.toml"
    auth.add_user("li", "pw-li", "street_head", street_id=1, path=path)
    auth.add_user("boss", "pw-boss", "leader", path=path)
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "local")
    monkeypatch.setenv("GRIDSCOPE_AUTH_USERS_FILE", str(path))
    monkeypatch.setenv("GRIDSCOPE_AUTH_LOGIN_ATTEMPTS", "3")
    monkeypatch.setenv("GRIDSCOPE_AUTH_CLIENT_LOGIN_ATTEMPTS", "5")
    monkeypatch.setenv("GRIDSCOPE_AUTH_LOCKOUT_SECONDS", "30")
    monkeypatch.setenv("GRIDSCOPE_AUTH_LOCKOUT_MAX_SECONDS", "300")
    clock = Clock()
    throttle = getattr(auth, "SIGN_IN", None)
    if throttle is not None:
        throttle.reset()
        monkeypatch.setattr(throttle, "clock", clock)
    clear_app_caches()
    yield {"path": path, "clock": clock}
    clear_app_caches()
    if throttle is not None:
        throttle.reset()


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()


def attempt(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def signed_in(at: AppTest) -> bool:
    return auth.SESSION_KEY in at.session_state


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def test_account_is_locked_after_its_attempts_and_the_lock_costs_no_hashing(accounts, caplog):
    caplog.set_level(logging.WARNING, logger="ui.auth")
    at = app()
    for _ in range(3):
        attempt(at, "li", "guess")
        assert not signed_in(at) and "错误" in errors(at)
    assert CountingHasher.verified == 3
    attempt(at, "li", "pw-li")  # the right password, but the account is locked
    assert not signed_in(at)
    assert "30" in errors(at) and "错误" not in errors(at)  # "too many attempts, try again in 30 s"
    assert CountingHasher.verified == 3  # refused before any argon2 work
    # every failure is logged with the account and the client, and counted
    failures = [r.getMessage() for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 3 and all("'li'" in m and "127.0.0.1" in m for m in failures)
    assert auth.SIGN_IN.stats["failed"] == 3 and auth.SIGN_IN.stats["refused_locked"] == 1
    # once the lock has run out the right password works (and clears the account's failures)
    accounts["clock"].now += 31
    attempt(at, "li", "pw-li")
    assert signed_in(at) and auth.SIGN_IN.stats["succeeded"] == 1


def test_each_further_failure_doubles_the_lock_up_to_the_cap(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_LOGIN_ATTEMPTS", "3")
    monkeypatch.setenv("GRIDSCOPE_AUTH_CLIENT_LOGIN_ATTEMPTS", "1000")
    monkeypatch.setenv("GRIDSCOPE_AUTH_LOCKOUT_SECONDS", "30")
    monkeypatch.setenv("GRIDSCOPE_AUTH_LOCKOUT_MAX_SECONDS", "300")
    clock = Clock()
    throttle = auth.SignInThrottle(clock=clock)
    locks = []
    for _ in range(8):
        assert throttle.wait_seconds("li", "10.0.0.1") == 0
        locks.append(throttle.failed("li", "10.0.0.1"))
        clock.now += locks[-1]  # wait the lock out, then fail again
    assert locks == [0, 0, 30, 60, 120, 240, 300, 300]
    throttle.succeeded("li", "10.0.0.1")
    assert throttle.failed("li", "10.0.0.1") == 0  # a success forgets the account's failures


def test_one_client_guessing_many_accounts_is_locked_out(accounts):
    at = app()
    for name in ("a1", "a2", "a3", "a4", "a5"):  # unknown names cost a hash too (no enumeration)
        attempt(at, name, "guess")
    assert CountingHasher.verified == 5
    attempt(at, "boss", "pw-boss")  # a new account, the same client: refused
    assert not signed_in(at) and CountingHasher.verified == 5
    assert auth.SIGN_IN.wait_seconds("boss", "10.7.7.7") == 0  # …while another client may still try


def test_removed_account_is_signed_out_on_its_next_run(accounts):
    at = app()
    attempt(at, "li", "pw-li")
    assert signed_in(at) and "wall" in {Path(str(i.get("script_path", ""))).stem for i in at._registered_pages.values()}
    auth.remove_user("li", accounts["path"])
    at.run()
    assert not signed_in(at)
    assert "城市运行态势" not in " ".join(str(m.value) for m in at.markdown)


@pytest.mark.parametrize("change", ["role", "password"])
def test_changed_account_is_signed_out_on_its_next_run(accounts, change):
    at = app()
    attempt(at, "li", "pw-li")
    assert signed_in(at)
    if change == "role":
        auth.add_user("li", "pw-li", "street_head", street_id=2, path=accounts["path"])
    else:
        auth.add_user("li", "new-password", "street_head", street_id=1, path=accounts["path"])
    at.run()
    assert not signed_in(at)


def test_unchanged_account_stays_signed_in_without_rehashing(accounts):
    at = app()
    attempt(at, "boss", "pw-boss")
    verified = CountingHasher.verified
    for _ in range(3):
        at.run()
        assert signed_in(at)
    assert CountingHasher.verified == verified  # the re-check reads the file, hashes nothing
