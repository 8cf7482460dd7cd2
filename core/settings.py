"""Every Gridscope setting, declared once with its default and help text.

Like datasette's settings: one declarative list, read from the environment (``GRIDSCOPE_<NAME>``), with the database
URL also read from ``.streamlit/secrets.toml``. ``tests/test_settings.py`` fails when a setting here is missing from
``docs/configuration.md``; regenerate that table with ``python -m core.settings``.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return "GRIDSCOPE_" + self.name.upper()


SETTINGS: list[Setting] = [
    # --- database -------------------------------------------------------------------------------------------------
    Setting(
        "db_url",
        "sqlite:///data/gridscope.db",
        "SQLAlchemy URL of the case database. Also read from `.streamlit/secrets.toml` (`db_url = ...`). "
        "Relative SQLite paths are resolved against the project folder. PostgreSQL: "
        "`postgresql+psycopg://user@host/dbname`.",
    ),
    Setting(
        "query_timeout_s",
        15.0,
        "Per-query time limit in seconds; a slower query is stopped with a clear error instead of hanging.",
    ),
    Setting(
        "row_cap",
        200_000,
        "Largest number of rows any dashboard query may return; larger results are refused with a clear error.",
    ),
    Setting(
        "db_write_url",
        "",
        "Database URL for the dashboard's only writes (flag reviews, action items); empty: `db_url`. Set it to "
        "the primary when `db_url` points at a read replica (docs/deployment.md), which refuses every write.",
    ),
    Setting(
        "query_log",
        "",
        "Path of a JSON-lines file to which every statement the dashboard's engines run is appended (time, "
        "process id, duration in ms, read-only flag, first 120 characters of the SQL, never parameter values); "
        "a slow-query and audit log, and what `python -m bench viewers` counts. Empty: off. Relative to the "
        "project folder; several processes may share one file.",
    ),
    Setting(
        "postgres_session_settings",
        "jit=off random_page_cost=1.1",
        "PostgreSQL settings (`name=value`, space-separated) for every dashboard connection. `jit=off`: JIT "
        "compilation added 0.3–0.8 s to each large aggregate and starts only once a table is big enough, so it "
        "made pages slower as history grew; `random_page_cost=1.1` (solid-state storage) lets the windowed "
        "aggregates read their months through the `reported_at` index instead of scanning 16 years of cases "
        "(bench/RESULTS.md). Empty: the server's own settings.",
    ),
    Setting(
        "sqlite_busy_timeout_ms",
        10_000,
        "How long an SQLite connection waits for a writer's lock before failing (WAL readers rarely wait); never "
        "longer than `query_timeout_s`, so a file held by another process's lock fails like a slow query.",
    ),
    Setting(
        "postgres_tcp_timeout_s",
        10,
        "A PostgreSQL connection whose packets go unacknowledged this long is closed by the kernel (TCP "
        "keepalives every few seconds and `tcp_user_timeout`): a link that silently drops packets fails instead "
        "of leaving a query waiting for ever. Connecting is bounded by `query_timeout_s` (at least 2 s).",
    ),
    # --- time and calendar ----------------------------------------------------------------------------------------
    Setting(
        "timezone",
        "Asia/Shanghai",
        "Local time zone of the district. Case timestamps are stored as naive local times in this zone.",
    ),
    Setting(
        "work_hours",
        "08:30-12:00,13:00-17:30",
        "Working periods of a working day, used for deadlines and durations in working hours.",
    ),
    Setting("calendar_first_year", 2015, "First year of the `workdays` calendar table."),
    Setting(
        "calendar_last_year",
        2030,
        "Last year of the `workdays` calendar table. Years the Chinese holiday library does not know yet fall "
        "back to Monday-Friday working weeks (logged as a warning).",
    ),
    # --- dashboard ------------------------------------------------------------------------------------------------
    Setting("language", "zh", "Default UI language: `zh` (Simplified Chinese) or `en`."),
    Setting(
        "refresh_seconds",
        30,
        "How often live panels refresh, in seconds (the wall's `?refresh=N`, 2–3600, overrides it).",
    ),
    Setting(
        "cache_ttl_seconds",
        30,
        "How long a cached aggregate is served before the next refresh fetches it again; N viewers cost one "
        "query per TTL. A refresh waits for its data at most half the refresh interval (at least "
        "`query_timeout_s`): a loader that misses that deadline counts as failed (last good data, stale banner).",
    ),
    Setting(
        "stale_after_seconds",
        120,
        "Age of the last good data after which a panel shows the stale-data banner. The wall's data-time line "
        "also turns into a warning in the browser itself at that age, or when the page has not been updated for "
        "twice the refresh interval (a hung server).",
    ),
    Setting(
        "map_max_points",
        100_000,
        "Most case points ever sent to the browser; longer windows are aggregated per grid on the server.",
    ),
    # --- access (ui/auth.py, ui/access.py; docs/deployment.md) -------------------------------------------------------
    Setting(
        "auth_mode",
        "none",
        'How viewers sign in: `none` (demo: everyone is a leader, marked "demo, no login"), `oidc` '
        "(st.login with the identity provider under `[auth]` in `.streamlit/secrets.toml`), `proxy` (a trusted "
        "reverse proxy sends the user name in `auth_proxy_header`) or `local` (accounts in `auth_users_file`).",
    ),
    Setting(
        "auth_proxy_header",
        "X-Forwarded-User",
        "Request header with the authenticated user name, read ONLY when `auth_mode` is `proxy` and only from a "
        "peer in `auth_trusted_proxies`; the proxy must set it on every request (deploy/gridscope-proxy-headers"
        ".conf) and Streamlit must be reachable only through the proxy (docs/security.md).",
    ),
    Setting(
        "auth_trusted_proxies",
        "127.0.0.0/8,::1",
        "Addresses and networks (comma-separated) of the reverse proxies whose `auth_proxy_header` is believed, "
        "and whose `X-Forwarded-For` names the client (sign-in limits, the open-demo check). The proxy header "
        "from any other peer is ignored and logged. Start Streamlit with `FORWARDED_ALLOW_IPS=` (empty) behind "
        "a proxy, as `./gridscope run` and `deploy.local` do, so the peer it reports is the proxy itself.",
    ),
    Setting(
        "auth_proxy_role_header",
        "",
        "Optional request header with the user's role (`proxy` mode), e.g. `department_head:3`; empty: roles "
        "come from `auth_roles`.",
    ),
    Setting(
        "auth_role_claim",
        "gridscope_role",
        "OIDC claim carrying the role (`leader`, `department_head:<department id>`, `street_head:<street id>`, "
        "`wall`); users without it are looked up in `auth_roles` by subject (`sub`), then by e-mail only when the "
        "provider says `email_verified`; never by display name.",
    ),
    Setting(
        "auth_roles",
        {},
        "Role of each user name (`proxy`), OIDC subject or verified e-mail (`oidc`), e.g. "
        '`{"li.ming@example.gov": "street_head:2"}` (JSON object in the environment). Unknown users get no '
        "access.",
    ),
    Setting(
        "auth_users_file",
        "data/users.toml",
        "Local accounts (`auth_mode` `local`): TOML of argon2id password hashes, written by "
        "`python -m ui.auth add-user NAME --role ROLE [--department ID | --street ID]`. Relative to the project.",
    ),
    Setting(
        "auth_login_attempts",
        5,
        "Failed local sign-ins an account may have before it is locked (`auth_mode` `local`); each further "
        "failure doubles the lock, from `auth_lockout_seconds` up to `auth_lockout_max_seconds`. A locked "
        "attempt is refused before any password hashing. Counted per Streamlit process.",
    ),
    Setting(
        "auth_client_login_attempts",
        20,
        "Failed local sign-ins one client address may have, whatever account it tries, before it is locked the "
        "same way (behind a proxy in `auth_trusted_proxies` the address is the one the proxy saw).",
    ),
    Setting("auth_lockout_seconds", 30, "First lock after too many failed local sign-ins, in seconds."),
    Setting("auth_lockout_max_seconds", 900, "Longest lock after failed local sign-ins, in seconds."),
    Setting(
        "allow_open_demo",
        False,
        "With `auth_mode` `none`, the dashboard refuses to serve when it listens on a non-loopback address or a "
        "viewer comes from another machine (everyone would be a leader). `GRIDSCOPE_ALLOW_OPEN_DEMO=1` shows "
        "the demo openly anyway, on purpose.",
    ),
    Setting(
        "wall_token",
        "",
        "Secret that lets the kiosk (`?embed=true&wall_token=...`) show the read-only wall without signing in "
        "when `auth_mode` is not `none`; empty: the kiosk needs a login like any other screen.",
    ),
    # --- scoring --------------------------------------------------------------------------------------------------
    Setting(
        "score_weights",
        {"disposal_rate": 30, "ontime_rate": 20, "rework_free": 20, "overdue_free": 20, "extension_free": 10},
        "Weights of the department composite score (disposal rate, on-time rate, 1 − rework rate, 1 − overdue-open rate, 1 − extension rate; docs/indicators.md); "
        "JSON object in the environment. They are normalised to sum to 100.",
    ),
    Setting(
        "grade_thresholds",
        {"A": 90, "B": 75, "C": 60, "D": 40},
        "Lowest composite score for each grade; anything below D is E.",
    ),
    Setting(
        "min_rank_volume",
        30,
        "Fewest cases due (the denominator of the disposal rate) a department needs in the period before it is ranked.",
    ),
]

_BY_NAME = {s.name: s for s in SETTINGS}


def _secrets_file() -> Path:
    return PROJECT_ROOT / ".streamlit" / "secrets.toml"


def _coerce(raw: str, default: Any) -> Any:
    """Parse an environment string into the type of the default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (dict, list)):
        return json.loads(raw)
    return raw


def get(name: str) -> Any:
    """Current value of a setting: environment, then (for db_url) secrets.toml, then the default."""
    setting = _BY_NAME[name]
    raw = os.environ.get(setting.env_var)
    if raw is not None and raw != "":
        try:
            return _coerce(raw, setting.default)
        except ValueError as exc:
            raise ValueError(f"{setting.env_var}={raw!r} is not a valid value for {name}: {exc}") from exc
    if name == "db_url":
        secrets = _secrets_file()
        if secrets.exists():
            with secrets.open("rb") as fh:
                value = tomllib.load(fh).get("db_url")
            if value:
                return value
    return setting.default


def markdown_table() -> str:
    """The settings as a Markdown table (the source of the table in docs/configuration.md)."""
    lines = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = json.dumps(s.default, ensure_ascii=False) if isinstance(s.default, (dict, list)) else s.default
        lines.append(f"| `{s.name}` | `{s.env_var}` | `{default}` | {s.help} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
