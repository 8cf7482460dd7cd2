"""Gridscope entry point: wires the pages into navigation; each page is a module under pages/."""
from pathlib import Path

import streamlit as st

from ui.shell import PAGE_TITLES as T
from ui.shell import is_kiosk, render_shell, start_carousel

# A local favicon: a material/emoji page_icon makes the browser fetch an SVG from the internet.
# Kiosk (?embed=true): no sidebar, no navigation — the wall shows only itself (URL parameters drive everything).
st.set_page_config(page_title="Gridscope", page_icon=str(Path(__file__).parent / "ui" / "assets" / "gridscope.png"), layout="wide",
                   initial_sidebar_state="collapsed" if is_kiosk() else "auto")

PAGES = {
    "wall": st.Page("pages/wall.py", title=T("wall"), icon=":material/monitor:", url_path="wall", default=True),
    "map": st.Page("pages/map.py", title=T("map"), icon=":material/map:", url_path="map"),
    "backlog": st.Page("pages/backlog.py", title=T("backlog"), icon=":material/inventory:", url_path="backlog"),
    "departments": st.Page("pages/departments.py", title=T("departments"), icon="🏛️", url_path="departments"),
    "data_quality": st.Page("pages/data_quality.py", title=T("data_quality"), icon="🧾", url_path="data-quality"),
}

page = st.navigation(list(PAGES.values()), position="hidden" if is_kiosk() else "sidebar")
render_shell()
start_carousel(PAGES, next((k for k, p in PAGES.items() if p.url_path == page.url_path), "wall"))
page.run()
