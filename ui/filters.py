"""Global filters (time window, street) and the language, bound to URL query parameters.

A URL reproduces a view: the sidebar widgets start from the query parameters and write their values back.
Unknown or malformed values are ignored with a notice, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from core import params, settings
from core.i18n import language_name
from ui.i18n import COMMON, LANGUAGES, current_language
from ui.safe import plain

WINDOW_DAYS = (1, 7, 30, 90, 365)
DEFAULT_DAYS = 30
ALL = 0  # "whole district" in the street picker (street ids start at 1)


@dataclass(frozen=True)
class Filters:
    days: int = DEFAULT_DAYS
    street_id: int | None = None
    notices: tuple[str, ...] = field(default=())


def parse_query(query: dict, street_ids: set[int]) -> Filters:
    """Validate ``days``/``street`` query values; invalid ones fall back to defaults with a notice."""
    notices, days, street_id = [], DEFAULT_DAYS, None
    raw_days = query.get("days")
    if raw_days is not None:
        if params.parse_choice(raw_days, WINDOW_DAYS) is not None:
            days = int(raw_days)
        else:
            notices.append(COMMON("ignored_param", name="days", value=plain(params.shown(raw_days))))
    raw_street = query.get("street")
    if raw_street not in (None, "", "all"):
        if params.parse_choice(raw_street, street_ids) is not None:
            street_id = int(raw_street)
        else:
            notices.append(COMMON("ignored_param", name="street", value=plain(params.shown(raw_street))))
    raw_lang = query.get("lang")
    if raw_lang is not None and raw_lang not in LANGUAGES:
        notices.append(COMMON("ignored_param", name="lang", value=plain(params.shown(raw_lang))))
    return Filters(days, street_id, tuple(notices))


def _sync(name: str, key: str, default) -> None:
    value = st.session_state[key]
    if value == default or value is None:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = str(value)


def _filter_widgets(street_names: dict[int, str]) -> None:
    with st.sidebar:
        st.selectbox(
            COMMON("language"),
            list(LANGUAGES),
            key="lang",
            format_func=language_name,
            on_change=_sync,
            args=("lang", "lang", settings.get("language")),
        )
        st.selectbox(
            COMMON("time_window"),
            WINDOW_DAYS,
            key="filter_days",
            format_func=lambda n: COMMON("days", n=n),
            on_change=_sync,
            args=("days", "filter_days", DEFAULT_DAYS),
        )
        st.selectbox(
            COMMON("street"),
            [ALL, *street_names],
            key="filter_street",
            format_func=lambda k: COMMON("all_streets") if k == ALL else street_names.get(k, str(k)),
            on_change=_sync,
            args=("street", "filter_street", ALL),
        )


def sidebar_filters(street_names: dict[int, str], widgets: bool = True) -> Filters:
    """Render the language and global filter widgets in the sidebar; return the validated filters. Without
    ``widgets`` (kiosk screens: nobody there to use them) the URL alone sets them and no sidebar is drawn, which
    also spares each screen loading the select widgets' code."""
    parsed = parse_query(dict(st.query_params), set(street_names))
    st.session_state.setdefault("lang", current_language())
    # A hand-edited URL (or an opened link) wins over the session's earlier choice.
    if "days" in st.query_params and "days" not in " ".join(parsed.notices):
        st.session_state["filter_days"] = parsed.days
    if "street" in st.query_params and "street" not in " ".join(parsed.notices):
        st.session_state["filter_street"] = parsed.street_id or ALL
    st.session_state.setdefault("filter_days", parsed.days)
    st.session_state.setdefault("filter_street", parsed.street_id or ALL)
    if widgets:
        _filter_widgets(street_names)
    for name, key, default in (
        ("lang", "lang", settings.get("language")),
        ("days", "filter_days", DEFAULT_DAYS),
        ("street", "filter_street", ALL),
    ):
        _sync(name, key, default)  # the URL always reproduces what is shown
    for notice in parsed.notices:
        st.toast(notice)
    street = st.session_state["filter_street"]
    return Filters(st.session_state["filter_days"], None if street == ALL else street, parsed.notices)
