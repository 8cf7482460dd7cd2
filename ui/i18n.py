"""Simplified Chinese by default, English switchable (``?lang=en``; remembered in the session and the URL).

The strings themselves live in the message catalogs (``locale/``, read by ``core.i18n``); this module decides the
viewer's language and gives each module a translator: ``T = catalog("backlog")`` then ``T("title")``.
"""

from __future__ import annotations

from core import i18n as messages
from core import settings
from core.i18n import LANGUAGES

__all__ = ["LANGUAGES", "COMMON", "catalog", "current_language", "label", "name_column", "humanize_age"]


def current_language() -> str:
    """The viewer's language: URL ``lang`` first, then the session, then the setting."""
    try:
        import streamlit as st

        lang = st.session_state.get("lang") or st.query_params.get("lang")
    except Exception:  # noqa: BLE001 - outside a Streamlit run (tests, CLI)
        lang = None
    return lang if lang in LANGUAGES else settings.get("language")


class catalog:
    """A translator for one catalog domain. ``T("key", n=3)`` formats the string of the current language."""

    def __init__(self, domain: str):
        self.domain = domain
        messages.messages(domain, "zh")  # fail at import on a missing catalog, not at first use

    def __call__(self, key: str, **fmt) -> str:
        return messages.translate(self.domain, key, current_language(), **fmt)

    def __contains__(self, key: str) -> bool:
        return key in messages.messages(self.domain, "zh")

    def keys(self) -> list[str]:
        return list(messages.messages(self.domain, "zh"))


COMMON = catalog("common")


def label(kind: str, key: str) -> str:
    """Label of a domain code (kind: channels, statuses, actions …) in the current language."""
    return messages.domain_label(kind, key, current_language())


def name_column(zh_column: str) -> str:
    """For bilingual name columns (e.g. ``minor_name`` / ``minor_name_en``), the one to show."""
    return f"{zh_column}_en" if current_language() == "en" else zh_column


def humanize_age(seconds: float) -> str:
    if seconds < 90:
        return COMMON("seconds", n=int(seconds))
    if seconds < 5400:
        return COMMON("minutes", n=int(seconds // 60))
    return COMMON("hours", n=round(seconds / 3600, 1))
