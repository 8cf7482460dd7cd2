"""Simplified Chinese by default, English switchable (``?lang=en``; remembered in the session and the URL).

Each module declares its own strings as a ``Catalog`` of ``key: (zh, en)`` pairs, so pages do not fight over one
file; ``tests/test_i18n.py`` checks every catalog has both languages. Domain labels (statuses, channels …) come from
``data_access.domain`` in Chinese and from ``DOMAIN_EN`` here in English.
"""
from __future__ import annotations

from typing import Mapping

from data_access import domain, settings

LANGUAGES = {"zh": "中文", "en": "English"}
# Registry for tests, keyed by module and keys: a page re-runs its module on every rerun and re-creates its
# Catalog, which replaces the earlier one instead of piling up.
_REGISTRY: dict[tuple, "Catalog"] = {}


def catalogs() -> list["Catalog"]:
    """Every Catalog created so far (one per module and key set)."""
    return list(_REGISTRY.values())


def current_language() -> str:
    """The viewer's language: URL ``lang`` first, then the session, then the setting."""
    try:
        import streamlit as st
        lang = st.session_state.get("lang") or st.query_params.get("lang")
    except Exception:  # noqa: BLE001 - outside a Streamlit run (tests, CLI)
        lang = None
    return lang if lang in LANGUAGES else settings.get("language")


class Catalog:
    """A module's UI strings. ``T("key", n=3)`` formats the string of the current language."""

    def __init__(self, entries: Mapping[str, tuple[str, str]]):
        self.entries = dict(entries)
        import inspect
        caller = inspect.currentframe().f_back
        module = caller.f_globals.get("__name__", "?") if caller else "?"
        _REGISTRY[(module, tuple(self.entries))] = self

    def __call__(self, key: str, **fmt) -> str:
        zh, en = self.entries[key]
        text = en if current_language() == "en" else zh
        return text.format(**fmt) if fmt else text


COMMON = Catalog({
    "app_title": ("Gridscope 城市运行一网统管", "Gridscope city operations"),
    "demo_data": ("演示数据（合成）", "Demo data (synthetic)"),
    "data_as_of": ("数据时间 {time}", "Data as of {time}"),
    "stale": ("数据库暂时无法连接，显示的是 {age} 前的数据，正在自动重试", "Database unreachable: showing data from "
              "{age} ago, retrying automatically"),
    "no_data_yet": ("暂无数据：数据库无法连接（{error}）", "No data yet: the database cannot be reached ({error})"),
    "panel_failed": ("本栏目暂时无法显示：{error}", "This panel cannot be shown right now: {error}"),
    "language": ("语言", "Language"),
    "all_streets": ("全区", "Whole district"),
    "street": ("街镇", "Street / town"),
    "time_window": ("时间范围", "Time window"),
    "days": ("近 {n} 天", "Last {n} days"),
    "ignored_param": ("已忽略无效的链接参数 {name}={value}", "Ignored invalid URL parameter {name}={value}"),
    "seconds": ("{n} 秒", "{n} s"),
    "minutes": ("{n} 分钟", "{n} min"),
    "hours": ("{n} 小时", "{n} h"),
})

DOMAIN_EN = {
    "channels": {"patrol": "Patrol inspectors", "hotline": "12345 hotline", "app": "Citizen app",
                 "video": "Video / AI", "sensor": "IoT sensors", "superior": "Superior referral", "media": "Media"},
    "statuses": {"pending_verify": "To verify", "pending_register": "To register", "pending_dispatch": "To dispatch",
                 "in_disposal": "In disposal", "pending_check": "To check", "closed": "Closed",
                 "self_handled": "Fixed on the spot", "parked": "Parked", "force_closed": "Force-closed",
                 "cancelled": "Cancelled"},
    "actions": {"report": "Reported", "accept": "Accepted", "verify": "Verified", "register": "Registered",
                "dispatch": "Dispatched", "return": "Returned", "redispatch": "Re-dispatched", "extend": "Extended",
                "dispose": "Disposal reported", "check_pass": "Check passed", "check_fail": "Check failed (rework)",
                "close": "Closed", "self_handle": "Fixed on the spot", "park": "Parked", "force_close": "Force-closed",
                "cancel": "Cancelled", "escalate": "Escalated to district"},
}
_DOMAIN_ZH = {"channels": domain.CHANNELS, "statuses": domain.STATUSES, "actions": domain.ACTIONS}


def label(kind: str, key: str) -> str:
    """Label of a domain key (kind: channels, statuses, actions) in the current language."""
    table = DOMAIN_EN[kind] if current_language() == "en" else _DOMAIN_ZH[kind]
    return table.get(key, key)


def name_column(zh_column: str) -> str:
    """For bilingual name columns (e.g. ``minor_name`` / ``minor_name_en``), the one to show."""
    return f"{zh_column}_en" if current_language() == "en" else zh_column


def humanize_age(seconds: float) -> str:
    if seconds < 90:
        return COMMON("seconds", n=int(seconds))
    if seconds < 5400:
        return COMMON("minutes", n=int(seconds // 60))
    return COMMON("hours", n=round(seconds / 3600, 1))
