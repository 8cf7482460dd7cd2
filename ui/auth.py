"""Who is looking: a small pluggable identity layer (登录与角色).

``current_user()`` returns a ``User(name, role, department_id, street_id)`` or None (not signed in), from the one
source chosen by the setting ``auth_mode``:

- ``none`` (default, for the demo): everyone is a leader; the sidebar says "demo, no login". Refused on the
  network: when Streamlit listens on a non-loopback address or a viewer comes from another machine the dashboard
  serves nothing but a notice, unless ``allow_open_demo`` (``GRIDSCOPE_ALLOW_OPEN_DEMO=1``) says it is on purpose.
- ``oidc``: Streamlit's ``st.login`` / ``st.user`` with an identity provider configured under ``[auth]`` in
  ``.streamlit/secrets.toml``; the role comes from a claim (``auth_role_claim``) or from ``auth_roles``, looked up
  by the subject (``sub``) or a VERIFIED e-mail (``email_verified``) only — never by the display name, which many
  providers let users edit (it is only shown).
- ``proxy``: a reverse proxy that has already authenticated the user passes the name in a header
  (``auth_proxy_header``). The header is read ONLY in this mode and only from a peer in ``auth_trusted_proxies``:
  otherwise anyone could send it. The shipped nginx site sets it on every request (never the client's own).
- ``local``: accounts in a TOML file of argon2 hashes (``auth_users_file``), signed in through a form; create them
  with ``python -m ui.auth add-user NAME --role leader``. Failed attempts are limited per account and per client
  address with exponential back-off (``SIGN_IN``), logged, and a locked attempt is refused before any hashing; the
  account file is re-read on every run, so a removed or changed account is signed out on its next run.

The kiosk (``?embed=true``) is the role ``wall`` when ``auth_mode`` is ``none`` or the URL carries the configured
``wall_token``. A role is written as ``leader``, ``department_head:<department id>``, ``street_head:<street id>``
or ``wall`` (in claims, proxy headers and ``auth_roles``).
"""

from __future__ import annotations

import argparse
import functools
import getpass
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import secrets
import sys
import threading
import time
import tomllib
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from core import settings
from ui.i18n import catalog
from ui.safe import plain

log = logging.getLogger(__name__)

ROLES = ("leader", "department_head", "street_head", "wall")
MODES = ("none", "oidc", "proxy", "local")
SESSION_KEY = "_gridscope_user"
SESSION_STAMP = "_gridscope_account_stamp"  # the account as it was at sign-in (revocation on change)

T = catalog("auth")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    department_id: int | None = None
    street_id: int | None = None
    source: str = ""
    display: str = ""  # a name to show (OIDC ``name``): never used to look anything up

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"


def parse_role(name: str, spec, source: str) -> User | None:
    """``leader`` | ``department_head:3`` | ``street_head:2`` | ``wall`` → User; anything else → None (no access)."""
    if not isinstance(spec, str):
        return None
    role, _, ident = spec.strip().partition(":")
    if role in ("leader", "wall") and not ident:
        return User(name, role, source=source)
    if role in ("department_head", "street_head") and ident.isascii() and ident.isdigit() and len(ident) < 9:
        return User(
            name,
            role,
            department_id=int(ident) if role == "department_head" else None,
            street_id=int(ident) if role == "street_head" else None,
            source=source,
        )
    return None


def _mapped_role(*names: str | None):
    """The role spec configured for a user in the ``auth_roles`` setting (first matching name wins)."""
    table = settings.get("auth_roles") or {}
    for name in names:
        if name and name in table:
            return table[name]
    return None


# --- sources ---------------------------------------------------------------------------------------------------------
def _query_string() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return getattr(ctx, "query_string", "") or "" if ctx else ""


def _wall_token_ok() -> bool:
    from urllib.parse import parse_qs

    token = str(settings.get("wall_token") or "")
    given = parse_qs(_query_string()).get("wall_token", [""])[-1]
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def request_headers() -> dict[str, str]:
    """The current request's headers, lower-cased names (a function so tests can stand in for a proxy)."""
    try:
        return {k.lower(): v for k, v in st.context.headers.items()}
    except Exception:  # noqa: BLE001 - outside a browser session (AppTest, CLI) there are none
        return {}


# --- where a request comes from ----------------------------------------------------------------------------------------
def peer_address() -> str:
    """The address of this session's TCP peer as Streamlit's server reports it. Streamlit reports None for
    127.0.0.1 and ::1, and there is no peer outside a browser session (AppTest, CLI): both are loopback here."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no session
        address = None
    return address if isinstance(address, str) and address else "127.0.0.1"


def _ip(address: str):
    try:
        ip = ipaddress.ip_address(str(address).strip().strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if ip.version == 6 else ip


def is_loopback(address: str | None) -> bool:
    """``127.0.0.0/8``, ``::1`` (also as ``::ffff:127.x``) or ``localhost``; anything else, '' (every interface)
    included, is reachable from other machines."""
    if str(address or "").strip().lower() == "localhost":
        return True
    ip = _ip(address or "")
    return bool(ip and ip.is_loopback)


@functools.lru_cache(maxsize=8)
def _networks(spec: str) -> tuple:
    nets = []
    for entry in spec.replace(",", " ").split():
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.error("auth_trusted_proxies: %r is not an address or network; ignored", entry)
    return tuple(nets)


def trusted_proxies() -> tuple:
    return _networks(str(settings.get("auth_trusted_proxies") or ""))


def _in(address: str, networks) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip.version == n.version and ip in n for n in networks)


def _peer_may_be_forged() -> bool:
    """Streamlit's server (uvicorn) replaces the peer with an address from X-Forwarded-For when the real peer is in
    its own list, ``FORWARDED_ALLOW_IPS`` (default 127.0.0.1 and ::1). The address we see then proves the request
    came through a trusted proxy only if that list lies inside ``auth_trusted_proxies``; ``./gridscope run`` and
    ``deploy.local`` set it empty (no replacement at all)."""
    ours = trusted_proxies()
    for entry in os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return True  # "*" or a literal: anything may have been put in the peer's place
        if not any(net.version == o.version and net.subnet_of(o) for o in ours):
            return True
    return False


def from_trusted_proxy(headers: dict[str, str] | None = None, *, quiet: bool = False) -> bool:
    """True when this request's peer is one of ``auth_trusted_proxies`` (and provably so)."""
    headers = request_headers() if headers is None else headers
    peer = peer_address()
    if not _in(peer, trusted_proxies()):
        if not quiet:
            log.warning("sign-in header from %s ignored: the peer is not in auth_trusted_proxies", peer[:64])
        return False
    if "x-forwarded-for" in headers and _peer_may_be_forged():
        if not quiet:
            log.warning(
                "sign-in header ignored: Streamlit's server may have replaced the peer address with "
                "X-Forwarded-For (FORWARDED_ALLOW_IPS is wider than auth_trusted_proxies); start Streamlit "
                "with FORWARDED_ALLOW_IPS= (empty) behind the proxy"
            )
        return False
    return True


def client_address(headers: dict[str, str] | None = None) -> str:
    """The viewer's address: the peer, or behind a trusted proxy the right-most X-Forwarded-For hop that is not
    itself a trusted proxy (each proxy appends the address it saw; what the client wrote is further left)."""
    headers = request_headers() if headers is None else headers
    peer = peer_address()
    ours = trusted_proxies()
    if not _in(peer, ours):
        return peer[:64]
    hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop.startswith("[") and "]" in hop:  # [2001:db8::1]:5000
            host = hop[1 : hop.index("]")]
        else:
            host = hop.rsplit(":", 1)[0] if hop.count(":") == 1 else hop  # 10.0.0.1:5000 → 10.0.0.1
        if not _in(host, ours):
            return host[:64]
    return (hops[0] if hops else peer)[:64]


def _server_address_option():
    return st.get_option("server.address")


def bind_address() -> str | None:
    """The address Streamlit's own server listens on ('' = every interface, Streamlit's default), or None when no
    server of ours is running (AppTest, a bare script)."""
    from streamlit import config

    if getattr(config, "_server_mode", None) is None:  # set by `streamlit run` when it starts its server
        return None
    return str(_server_address_option() or "")


_refusals_logged: set[str] = set()


def open_demo_exposure() -> str | None:
    """With ``auth_mode`` ``none`` everyone is a leader: the address that would put that on the network (the one
    Streamlit listens on, or a viewer's from another machine), else None. None when ``allow_open_demo``."""
    if settings.get("auth_mode") != "none" or settings.get("allow_open_demo"):
        return None
    bound = bind_address()
    if bound is not None and not is_loopback(bound):
        exposed = bound or "0.0.0.0"
    else:
        client = client_address()
        exposed = None if is_loopback(client) else client
    if exposed:  # an address, shown in a notice: nothing else gets through
        exposed = "".join(c if c.isascii() and (c.isalnum() or c in ".:%-") else "?" for c in exposed)[:64]
    if exposed and exposed not in _refusals_logged and len(_refusals_logged) < 1000:
        _refusals_logged.add(exposed)
        log.error(
            "auth_mode is none (everyone a leader) and the dashboard is reachable from the network (%s): "
            "refusing to serve; turn sign-in on (docs/security.md) or set GRIDSCOPE_ALLOW_OPEN_DEMO=1",
            exposed,
        )
    return exposed


def refuse_open_demo() -> None:
    """app.py calls this first: an open demo on the network gets one page, a notice, and nothing else."""
    exposed = open_demo_exposure()
    if exposed is None:
        return

    def refused():
        st.error(T("open_demo_refused", address=exposed), icon=":material/lock:")

    # a navigation of one hidden page: without it Streamlit would serve the pages/ folder by itself
    st.navigation([st.Page(refused, title="Gridscope", url_path="refused")], position="hidden").run()
    st.stop()


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _verified(value) -> bool:
    """``email_verified`` as providers send it: JSON true, or the string "true" (some send strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _from_oidc() -> User | None:
    if not _oidc_configured() or not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    subject = str(claims.get("sub") or "").strip()[:256]
    email = str(claims.get("email") or "").strip()[:256] if _verified(claims.get("email_verified")) else ""
    shown = str(claims.get("name") or "").strip()[:128]
    # who it is: the verified e-mail, else the subject; the display name is shown, never looked up
    name = email or subject or "?"
    spec = claims.get(settings.get("auth_role_claim")) or _mapped_role(subject, email)
    user = parse_role(name, spec, "oidc") or User(name, "", source="oidc")
    return replace(user, display=shown if shown != name else "")


def _from_proxy() -> User | None:
    headers = request_headers()
    name = headers.get(str(settings.get("auth_proxy_header")).lower(), "").strip()[:128]
    if not name or not from_trusted_proxy(headers):
        return None
    role_header = str(settings.get("auth_proxy_role_header") or "").lower()
    spec = headers.get(role_header) if role_header else None
    return parse_role(name, spec or _mapped_role(name), "proxy") or User(name, "", source="proxy")


def current_user() -> User | None:
    """The viewer, or None when nobody is signed in yet. A signed-in user without a role has ``role == ""``."""
    from ui.shell import is_kiosk

    mode = settings.get("auth_mode")
    kiosk = is_kiosk()
    if mode == "none" and open_demo_exposure():
        return None  # pages reached any other way refuse too (require_page)
    if kiosk and (mode == "none" or _wall_token_ok()):
        return User("wall", "wall", source="kiosk")
    if mode == "none":
        return User("demo", "leader", source="demo")
    if mode == "oidc":
        return _from_oidc()
    if mode == "proxy":
        return _from_proxy()
    if mode == "local":
        return _local_session_user()
    return None


def _local_session_user() -> User | None:
    """The signed-in local account, re-checked against the account file on every run: removed, or changed (role,
    scope or password) since sign-in, and the session is signed out."""
    user = st.session_state.get(SESSION_KEY)
    if not isinstance(user, User):
        return None
    account = current_accounts().get(user.name)
    if account is None or not hmac.compare_digest(account_stamp(account), str(st.session_state.get(SESSION_STAMP))):
        log.warning("signed out %r: the account was removed or changed since sign-in", user.name)
        sign_out()
        return None
    return user


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(SESSION_STAMP, None)


# --- local accounts ----------------------------------------------------------------------------------------------------
def users_file() -> Path:
    path = Path(settings.get("auth_users_file"))
    return path if path.is_absolute() else settings.PROJECT_ROOT / path


def load_accounts(path: Path | None = None) -> dict[str, dict]:
    path = path or users_file()
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get("users", {}))


_accounts_cache: dict[str, tuple[str, dict]] = {}


def current_accounts() -> dict[str, dict]:
    """The account file as it is now (read on every run — a few hundred bytes — parsed again only when it changed)."""
    path = users_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    digest = hashlib.sha256(raw).hexdigest()
    cached = _accounts_cache.get(str(path))
    if cached is None or cached[0] != digest:
        cached = (digest, dict(tomllib.loads(raw.decode("utf-8")).get("users", {})))
        _accounts_cache.clear()
        _accounts_cache[str(path)] = cached
    return cached[1]


def account_stamp(account: dict) -> str:
    """A fingerprint of what an account grants (role, scope, password hash): a change signs its sessions out."""
    fields = [account.get(k) for k in ("role", "department_id", "street_id", "password")]
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the name is unknown, so a wrong name takes as long as a wrong password (no user enumeration)."""
    return _hasher().hash(secrets.token_hex(16))


def authenticate(name: str, password: str, path: Path | None = None) -> User | None:
    """Check a local account's password; the User on success, else None."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    account = load_accounts(path).get(name)
    try:
        _hasher().verify(account["password"] if account else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, KeyError, TypeError):
        return None
    if account is None:
        return None
    spec = account.get("role", "")
    if account.get("department_id") is not None:
        spec = f"{spec}:{account['department_id']}"
    elif account.get("street_id") is not None:
        spec = f"{spec}:{account['street_id']}"
    return parse_role(name, spec, "local") or User(name, "", source="local")


class SignInThrottle:
    """Failed local sign-ins per account and per client address, with exponential back-off.

    An account may fail ``auth_login_attempts`` times and a client address ``auth_client_login_attempts`` times;
    each failure from then on locks that key for ``auth_lockout_seconds`` × 2^(failures − allowed), at most
    ``auth_lockout_max_seconds``. A key is forgotten once it has been quiet for the longest lock after its last
    one ended, and on a successful sign-in (the account's key only). Kept in this process's memory (bounded);
    ``stats`` counts attempts for monitoring and tests."""

    MAX_KEYS = 10_000

    def __init__(self, clock: callable = time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()  # (failures, locked until)
        self.stats: Counter = Counter()

    @staticmethod
    def _allowed(kind: str) -> int:
        return max(1, int(settings.get("auth_login_attempts" if kind == "account" else "auth_client_login_attempts")))

    @staticmethod
    def _lock_seconds(failures: int, allowed: int) -> float:
        if failures < allowed:
            return 0.0
        base, cap = float(settings.get("auth_lockout_seconds")), float(settings.get("auth_lockout_max_seconds"))
        return min(base * 2 ** min(failures - allowed, 30), cap)

    def _get(self, key: tuple[str, str], now: float) -> tuple[int, float]:
        failures, until = self._keys.get(key, (0, 0.0))
        if failures and now > until + float(settings.get("auth_lockout_max_seconds")):
            self._keys.pop(key, None)  # quiet for long enough: forgiven
            return 0, 0.0
        return failures, until

    def wait_seconds(self, account: str, client: str) -> float:
        """Seconds until this account may be tried from this client (0: now)."""
        now = self.clock()
        with self._lock:
            return max(0.0, *(self._get(k, now)[1] - now for k in (("account", account), ("client", client))))

    def failed(self, account: str, client: str) -> float:
        """Count a failure; the lock now in force on either key, in seconds."""
        now = self.clock()
        lock = 0.0
        with self._lock:
            self.stats["failed"] += 1
            for key in (("account", account), ("client", client)):
                failures, _ = self._get(key, now)
                seconds = self._lock_seconds(failures + 1, self._allowed(key[0]))
                self._keys[key] = (failures + 1, now + seconds)
                self._keys.move_to_end(key)
                lock = max(lock, seconds)
            while len(self._keys) > self.MAX_KEYS:
                self._keys.popitem(last=False)
        return lock

    def refused(self) -> None:
        with self._lock:
            self.stats["refused_locked"] += 1

    def succeeded(self, account: str, client: str) -> None:
        with self._lock:
            self.stats["succeeded"] += 1
            self._keys.pop(("account", account), None)

    def failures(self, kind: str, key: str) -> int:
        with self._lock:
            return self._keys.get((kind, key), (0, 0.0))[0]

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()
            self.stats.clear()


SIGN_IN = SignInThrottle()
# Each argon2 check costs ~1 s of CPU and 64 MiB: at most two at a time, whoever asks.
_VERIFY_SLOTS = threading.BoundedSemaphore(2)


def sign_in(name: str, password: str) -> tuple[User | None, str | None]:
    """A local sign-in attempt from this session's client: (the user, None) or (None, the message to show)."""
    account, client = name[:64], client_address()
    wait = SIGN_IN.wait_seconds(account, client)
    if wait > 0:
        SIGN_IN.refused()
        log.warning("sign-in refused for account %r from %s: locked for %d s more", account, client, math.ceil(wait))
        return None, T("locked", seconds=math.ceil(wait))
    if not _VERIFY_SLOTS.acquire(timeout=10):
        return None, T("busy")
    try:
        user = authenticate(account, password)
    finally:
        _VERIFY_SLOTS.release()
    if user is None:
        lock = SIGN_IN.failed(account, client)
        log.warning(
            "sign-in failed for account %r from %s (%d failures for the account, %d from the client; locked for %d s)",
            account,
            client,
            SIGN_IN.failures("account", account),
            SIGN_IN.failures("client", client),
            math.ceil(lock),
        )
        return None, T("bad_login")
    SIGN_IN.succeeded(account, client)
    log.info("signed in %r (%s) from %s", account, user.role or "no role", client)
    return user, None


def _toml_accounts(accounts: dict[str, dict]) -> str:
    # JSON string escapes are valid TOML basic strings: no TOML writer needed for these flat tables.
    lines = [
        "# Gridscope local accounts: manage with `python -m ui.auth add-user|remove-user|list`.",
        "# Passwords are argon2id hashes; keep this file readable by the dashboard's user only.",
        "",
    ]
    for name, acc in sorted(accounts.items()):
        lines.append(f"[users.{json.dumps(name, ensure_ascii=False)}]")
        for key in ("role", "department_id", "street_id", "password"):
            if acc.get(key) is not None:
                value = acc[key]
                lines.append(
                    f"{key} = {value if isinstance(value, int) else json.dumps(str(value), ensure_ascii=False)}"
                )
        lines.append("")
    return "\n".join(lines)


def add_user(
    name: str,
    password: str,
    role: str,
    *,
    department_id: int | None = None,
    street_id: int | None = None,
    path: Path | None = None,
) -> None:
    """Create or replace a local account (the password is stored only as an argon2id hash)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "department_head") != (department_id is not None) or (role == "street_head") != (street_id is not None):
        raise ValueError(
            "department_head needs --department ID, street_head needs --street ID, no other role takes one"
        )
    if not name.strip() or len(name) > 64 or not password:
        raise ValueError("a user name (≤ 64 characters) and a non-empty password are needed")
    path = path or users_file()
    accounts = load_accounts(path)
    accounts[name] = {
        "role": role,
        "department_id": department_id,
        "street_id": street_id,
        "password": _hasher().hash(password),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_toml_accounts(accounts), encoding="utf-8")
    path.chmod(0o600)


def remove_user(name: str, path: Path | None = None) -> bool:
    path = path or users_file()
    accounts = load_accounts(path)
    if accounts.pop(name, None) is None:
        return False
    path.write_text(_toml_accounts(accounts), encoding="utf-8")
    return True


# --- UI ---------------------------------------------------------------------------------------------------------------
def role_label(role: str) -> str:
    return T(f"role_{role}") if role in ROLES else role


def login_view() -> None:
    """The only page registered while nobody is signed in: a sign-in form, button or message per mode."""
    mode = settings.get("auth_mode")
    user = current_user()
    if user is not None and not user.role:
        no_role_view(user)
        return
    st.subheader(T("login_title"))
    if mode not in MODES:
        st.error(T("bad_mode", mode=plain(str(mode)[:40])))
    elif mode == "none":
        exposed = open_demo_exposure()
        if exposed:
            st.error(T("open_demo_refused", address=exposed), icon=":material/lock:")
    elif mode == "local":
        with st.form("gridscope_login"):
            name = st.text_input(T("username"), max_chars=64)
            password = st.text_input(T("password"), type="password", max_chars=256)
            if st.form_submit_button(T("login"), type="primary"):
                user, message = sign_in(name.strip(), password)
                if user is None:
                    st.error(message)
                else:
                    st.session_state[SESSION_KEY] = user
                    st.session_state[SESSION_STAMP] = account_stamp(current_accounts().get(user.name, {}))
                    st.rerun()
    elif mode == "oidc":
        if not _oidc_configured():
            st.error(T("oidc_missing"))
        else:
            st.button(T("oidc_login"), on_click=st.login, type="primary")
    elif mode == "proxy":
        header = str(settings.get("auth_proxy_header"))
        headers = request_headers()
        if headers.get(header.lower(), "").strip() and not from_trusted_proxy(headers, quiet=True):
            st.error(T("proxy_untrusted", header=header))
        else:
            st.error(T("proxy_missing", header=header))


def no_role_view(user: User) -> None:
    st.error(T("no_role", name=plain(user.name)))
    logout_button(user)


def logout_button(user: User, container=None) -> None:
    target = container or st
    if user.source == "local":
        target.button(T("logout"), icon=":material/logout:", on_click=sign_out)
    elif user.source == "oidc":
        target.button(T("logout"), icon=":material/logout:", on_click=st.logout)


def user_badge(user: User) -> None:
    """The sidebar line saying who is looking (or that this is the demo without login)."""
    if user.is_demo:
        st.sidebar.caption(":material/lock_open: " + T("demo_mode"))
    elif user.source != "kiosk":
        shown = f"{user.display} · {user.name}" if user.display else user.name
        st.sidebar.caption(T("signed_in", name=plain(shown), role=role_label(user.role)))
        logout_button(user, st.sidebar)


# --- CLI: python -m ui.auth add-user NAME --role leader ------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.auth", description="Manage Gridscope's local accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-user", help="create or replace an account (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--department", type=int, help="department id (department_head)")
    add.add_argument("--street", type=int, help="street id (street_head)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    rm = sub.add_parser("remove-user", help="delete an account")
    rm.add_argument("name")
    sub.add_parser("list", help="list accounts and roles (no hashes)")
    for p in (add, rm, sub.choices["list"]):
        p.add_argument("--file", type=Path, help=f"accounts file (default: setting auth_users_file = {users_file()})")
    args = parser.parse_args(argv)
    if args.command == "add-user":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("password: ")
            if getpass.getpass("again: ") != password:
                print("passwords differ", file=sys.stderr)
                return 2
        try:
            add_user(
                args.name, password, args.role, department_id=args.department, street_id=args.street, path=args.file
            )
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        print(f"saved {args.name} ({args.role}) in {args.file or users_file()}")
    elif args.command == "remove-user":
        if not remove_user(args.name, args.file):
            print(f"no account {args.name}", file=sys.stderr)
            return 1
    else:
        for name, acc in sorted(load_accounts(args.file).items()):
            scope = acc.get("department_id") or acc.get("street_id") or ""
            print(f"{name}\t{acc.get('role')}\t{scope}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
