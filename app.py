"""Gridscope entry point: wires the pages into navigation; each page is a module under pages/."""

from pathlib import Path

import streamlit as st

from ui.access import allowed_pages, force_street
from ui.auth import current_user, login_view, refuse_open_demo, user_badge
from ui.memory import tune_allocator
from ui.shell import PAGE_TITLES as T
from ui.shell import is_kiosk, render_shell, start_carousel

tune_allocator()  # once per process: a wall runs for days (ui/memory.py)

# A local favicon: a material/emoji page_icon makes the browser fetch an SVG from the internet.
# Kiosk (?embed=true): no sidebar, no navigation — the wall shows only itself (URL parameters drive everything).
st.set_page_config(
    page_title="Gridscope",
    page_icon=str(Path(__file__).parent / "ui" / "assets" / "gridscope.png"),
    layout="wide",
    initial_sidebar_state="collapsed" if is_kiosk() else "auto",
)
refuse_open_demo()  # sign-in off on a network address: a notice, nothing else (docs/security.md)

PAGES = {
    "wall": st.Page("pages/wall.py", title=T("wall"), icon=":material/monitor:", url_path="wall", default=True),
    "map": st.Page("pages/map.py", title=T("map"), icon=":material/map:", url_path="map"),
    "backlog": st.Page("pages/backlog.py", title=T("backlog"), icon=":material/inventory:", url_path="backlog"),
    "departments": st.Page(
        "pages/departments.py", title=T("departments"), icon=":material/account_balance:", url_path="departments"
    ),
    "reporting": st.Page("pages/reporting.py", title=T("reporting"), icon=":material/flag:", url_path="reporting"),
    "weekly": st.Page("pages/weekly.py", title=T("weekly"), icon=":material/groups:", url_path="weekly"),
    "data_quality": st.Page(
        "pages/data_quality.py", title=T("data_quality"), icon=":material/fact_check:", url_path="data-quality"
    ),
}

# Role-gated navigation (ui/access.py): a page the viewer's role may not see is not registered at all; nobody
# signed in yet gets only the sign-in page.
user = current_user()
if user is None or not user.role:
    st.navigation([st.Page(login_view, title="Gridscope", url_path="login")], position="hidden").run()
    st.stop()
PAGES = allowed_pages(PAGES, user)

page = st.navigation(list(PAGES.values()), position="hidden" if is_kiosk() else "sidebar")
force_street(user)
render_shell()
user_badge(user)
start_carousel(PAGES, next((k for k, p in PAGES.items() if p.url_path == page.url_path), "wall"))
page.run()
