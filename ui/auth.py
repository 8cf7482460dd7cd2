"""Who is looking: a small pluggable identity layer (登录与角色).

``current_user()`` returns a ``User(name, role, department_id, street_id)`` or None (not signed in), from the one
source chosen by the setting ``auth_mode``:

- ``none`` (default, for the demo): everyone is a leader; the sidebar says "demo, no login".
- ``oidc``: Streamlit's ``st.login`` / ``st.user`` with an identity provider configured under ``[auth]`` in
  ``.streamlit/secrets.toml``; the role comes from a claim (``auth_role_claim``) or from ``auth_roles``.
- ``proxy``: a reverse proxy that has already authenticated the user passes the name in a header
  (``auth_proxy_header``). The header is read ONLY in this mode: otherwise anyone could send it.
- ``local``: accounts in a TOML file of argon2 hashes (``auth_users_file``), signed in through a form; create them
  with ``python -m ui.auth add-user NAME --role leader``.

The kiosk (``?embed=true``) is the role ``wall`` when ``auth_mode`` is ``none`` or the URL carries the configured
``wall_token``. A role is written as ``leader``, ``department_head:<department id>``, ``street_head:<street id>``
or ``wall`` (in claims, proxy headers and ``auth_roles``).
"""
from __future__ import annotations

import argparse
import functools
import getpass
import hmac
import json
import logging
import secrets
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from data_access import settings
from ui.i18n import Catalog

log = logging.getLogger(__name__)

ROLES = ("leader", "department_head", "street_head", "wall")
MODES = ("none", "oidc", "proxy", "local")
SESSION_KEY = "_gridscope_user"

T = Catalog({
    "demo_mode": ("演示模式：未启用登录，所有人均为领导视角", "Demo mode: no login, everyone sees the leader view"),
    "signed_in": ("当前用户：{name}（{role}）", "Signed in: {name} ({role})"),
    "role_leader": ("领导", "leader"), "role_department_head": ("部门负责人", "department head"),
    "role_street_head": ("街镇负责人", "street head"), "role_wall": ("大屏", "wall display"),
    "login_title": ("登录 Gridscope", "Sign in to Gridscope"),
    "username": ("用户名", "User name"), "password": ("密码", "Password"), "login": ("登录", "Sign in"),
    "logout": ("退出登录", "Sign out"),
    "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "oidc_login": ("使用统一身份认证登录", "Sign in with the identity provider"),
    "oidc_missing": ("已设置 auth_mode=oidc，但 .streamlit/secrets.toml 中没有 [auth] 配置",
                     "auth_mode is oidc but .streamlit/secrets.toml has no [auth] section"),
    "proxy_missing": ("未收到反向代理的身份信息（请求头 {header}），请通过单位门户访问",
                      "No identity from the reverse proxy (header {header}): open the dashboard through the portal"),
    "no_role": ("账号 {name} 尚未分配 Gridscope 角色，请联系管理员", "Account {name} has no Gridscope role yet: ask "
                "the administrator"),
    "bad_mode": ("auth_mode 设置无效：{mode}（可选 none、oidc、proxy、local）",
                 "Invalid auth_mode {mode} (choose none, oidc, proxy or local)"),
})


@dataclass(frozen=True)
class User:
    name: str
    role: str
    department_id: int | None = None
    street_id: int | None = None
    source: str = ""

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
        return User(name, role, department_id=int(ident) if role == "department_head" else None,
                    street_id=int(ident) if role == "street_head" else None, source=source)
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


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _from_oidc() -> User | None:
    if not _oidc_configured() or not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    name = str(claims.get("email") or claims.get("name") or claims.get("sub") or "?")
    spec = claims.get(settings.get("auth_role_claim")) or _mapped_role(claims.get("email"), claims.get("sub"),
                                                                       claims.get("name"))
    return parse_role(name, spec, "oidc") or User(name, "", source="oidc")


def _from_proxy() -> User | None:
    headers = request_headers()
    name = headers.get(str(settings.get("auth_proxy_header")).lower(), "").strip()[:128]
    if not name:
        return None
    role_header = str(settings.get("auth_proxy_role_header") or "").lower()
    spec = headers.get(role_header) if role_header else None
    return parse_role(name, spec or _mapped_role(name), "proxy") or User(name, "", source="proxy")


def current_user() -> User | None:
    """The viewer, or None when nobody is signed in yet. A signed-in user without a role has ``role == ""``."""
    from ui.shell import is_kiosk
    mode = settings.get("auth_mode")
    kiosk = is_kiosk()
    if kiosk and (mode == "none" or _wall_token_ok()):
        return User("wall", "wall", source="kiosk")
    if mode == "none":
        return User("demo", "leader", source="demo")
    if mode == "oidc":
        return _from_oidc()
    if mode == "proxy":
        return _from_proxy()
    if mode == "local":
        user = st.session_state.get(SESSION_KEY)
        return user if isinstance(user, User) else None
    return None


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


def _toml_accounts(accounts: dict[str, dict]) -> str:
    # JSON string escapes are valid TOML basic strings: no TOML writer needed for these flat tables.
    lines = ["# Gridscope local accounts: manage with `python -m ui.auth add-user|remove-user|list`.",
             "# Passwords are argon2id hashes; keep this file readable by the dashboard's user only.", ""]
    for name, acc in sorted(accounts.items()):
        lines.append(f"[users.{json.dumps(name, ensure_ascii=False)}]")
        for key in ("role", "department_id", "street_id", "password"):
            if acc.get(key) is not None:
                value = acc[key]
                lines.append(f"{key} = {value if isinstance(value, int) else json.dumps(str(value), ensure_ascii=False)}")
        lines.append("")
    return "\n".join(lines)


def add_user(name: str, password: str, role: str, *, department_id: int | None = None,
             street_id: int | None = None, path: Path | None = None) -> None:
    """Create or replace a local account (the password is stored only as an argon2id hash)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "department_head") != (department_id is not None) or (role == "street_head") != (street_id is not None):
        raise ValueError("department_head needs --department ID, street_head needs --street ID, no other role takes one")
    if not name.strip() or len(name) > 64 or not password:
        raise ValueError("a user name (≤ 64 characters) and a non-empty password are needed")
    path = path or users_file()
    accounts = load_accounts(path)
    accounts[name] = {"role": role, "department_id": department_id, "street_id": street_id,
                      "password": _hasher().hash(password)}
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
        st.error(T("bad_mode", mode=str(mode)[:40]))
    elif mode == "local":
        with st.form("gridscope_login"):
            name = st.text_input(T("username"), max_chars=64)
            password = st.text_input(T("password"), type="password", max_chars=256)
            if st.form_submit_button(T("login"), type="primary"):
                user = authenticate(name.strip(), password)
                if user is None:
                    st.error(T("bad_login"))
                else:
                    st.session_state[SESSION_KEY] = user
                    st.rerun()
    elif mode == "oidc":
        if not _oidc_configured():
            st.error(T("oidc_missing"))
        else:
            st.button(T("oidc_login"), on_click=st.login, type="primary")
    elif mode == "proxy":
        st.error(T("proxy_missing", header=str(settings.get("auth_proxy_header"))))


def no_role_view(user: User) -> None:
    st.error(T("no_role", name=user.name))
    logout_button(user)


def logout_button(user: User, container=None) -> None:
    target = container or st
    if user.source == "local":
        target.button(T("logout"), icon=":material/logout:", on_click=lambda: st.session_state.pop(SESSION_KEY, None))
    elif user.source == "oidc":
        target.button(T("logout"), icon=":material/logout:", on_click=st.logout)


def user_badge(user: User) -> None:
    """The sidebar line saying who is looking (or that this is the demo without login)."""
    if user.is_demo:
        st.sidebar.caption(":material/lock_open: " + T("demo_mode"))
    elif user.source != "kiosk":
        st.sidebar.caption(T("signed_in", name=user.name, role=role_label(user.role)))
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
            add_user(args.name, password, args.role, department_id=args.department, street_id=args.street,
                     path=args.file)
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
