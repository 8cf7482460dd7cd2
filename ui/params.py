"""URL parameters read through one parser (``core.params``): a bad value is ignored with the usual notice.

Widgets that mirror a URL parameter use Streamlit's ``bind="query-params"``; this module is for the parameters
that are not a widget's value (``?grid=``, ``?case=``, ``?refresh=`` …).
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, TypeVar

import streamlit as st

from core import params
from ui.i18n import COMMON
from ui.safe import plain

T = TypeVar("T")


def _ignored(name: str, raw) -> None:
    """Tell the viewer once per session and value that a parameter was ignored (plain text, never markdown)."""
    seen = st.session_state.setdefault("_ignored_params", set())
    if (name, raw) not in seen:
        seen.add((name, raw))
        st.toast(COMMON("ignored_param", name=plain(name), value=plain(params.shown(raw))))


def int_param(name: str, lo: int, hi: int, default: int | None = None, *, notice: bool = True) -> int | None:
    """``?name=`` as a whole number in [lo, hi]; missing → default; bad → default and a notice."""
    raw = st.query_params.get(name)
    if raw in (None, ""):
        return default
    value = params.parse_int(raw, lo, hi)
    if value is None:
        if notice:
            _ignored(name, raw)
        return default
    return value


def choice_param(name: str, choices: Iterable[T], default: T | None = None) -> T | None:
    """``?name=`` when it is one of ``choices``; missing → default; bad → default and a notice."""
    raw = st.query_params.get(name)
    if raw in (None, ""):
        return default
    value = params.parse_choice(raw, choices)
    if value is None:
        _ignored(name, raw)
        return default
    return value


def date_param(name: str, default: date | None = None, lo: date | None = None, hi: date | None = None) -> date | None:
    """``?name=YYYY-MM-DD`` within [lo, hi]; missing → default; bad → default and a notice."""
    raw = st.query_params.get(name)
    if raw in (None, ""):
        return default
    value = params.parse_date(raw, lo, hi)
    if value is None:
        _ignored(name, raw)
        return default
    return value


# --- widgets whose value lives in the URL as a code --------------------------------------------------------------------
# Streamlit's ``bind="query-params"`` writes the *displayed* option (format_func's label) into the URL, so a link made
# in Chinese would not open in English and ``?measure=m_open`` would be refused. Options shown through a translation
# therefore keep their code in the URL with these two helpers; the widget key is ``url_<name>``.
def url_selectbox(container, label: str, options: list, name: str, default=None, **kwargs):
    """A selectbox over ``options`` (codes) whose choice is ``?name=<code>``; a bad code → default and a notice."""
    options = list(options)
    default = default if default in options else options[0]
    asked = choice_param(name, options, default)
    value = container.selectbox(label, options, index=options.index(asked), key=f"url_{name}", **kwargs)
    _write(name, None if value == default else str(value))
    return value


def url_multiselect(container, label: str, options: list, name: str, **kwargs) -> list:
    """A multiselect over ``options`` (codes) whose choice is ``?name=a&name=b``; unknown codes are dropped with
    a notice."""
    options = list(options)
    raw = st.query_params.get_all(name)
    asked = [params.parse_choice(r, options) for r in raw]
    for r, value in zip(raw, asked):
        if value is None:
            _ignored(name, r)
    value = container.multiselect(
        label, options, default=[a for a in asked if a is not None], key=f"url_{name}", **kwargs
    )
    _write(name, [str(v) for v in value] or None)
    return value


def _write(name: str, value) -> None:
    """Reflect a widget's value in the URL (none = the default, so the parameter is dropped)."""
    if value is None:
        st.query_params.pop(name, None)
    elif st.query_params.get_all(name) != (value if isinstance(value, list) else [value]):
        st.query_params[name] = value
