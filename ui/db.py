"""The dashboard's database handles: one read-only engine per process, and one writer engine for its few writes
(flag reviews, action items), both st.cache_resource."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from core import settings
from data_access.engine import make_engine


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """The shared read-only engine of one database URL (one per URL per process)."""
    return make_engine(url, read_only=True)


def get_engine() -> Engine:
    """The shared read-only engine for the configured ``db_url`` (tests point it elsewhere via GRIDSCOPE_DB_URL)."""
    return engine_for(settings.get("db_url"))


def write_url() -> str:
    """Where the dashboard's few writes go: ``db_write_url`` (the primary, when ``db_url`` is a read replica), else
    ``db_url``."""
    return settings.get("db_write_url") or settings.get("db_url")


@st.cache_resource(show_spinner=False)
def _writer_for(url: str) -> Engine:
    return make_engine(url, read_only=False)


def get_writer() -> Engine:
    """The writer engine for ``write_url()``: used only for flag_reviews and action items."""
    return _writer_for(write_url())
