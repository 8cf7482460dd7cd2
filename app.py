"""Gridscope entry point: wires the pages into navigation; each page is a module under pages/."""
import streamlit as st

from ui.shell import PAGE_TITLES as T
from ui.shell import render_shell, start_carousel

st.set_page_config(page_title="Gridscope", page_icon="🛰️", layout="wide")

PAGES = {
    "wall": st.Page("pages/wall.py", title=T("wall"), icon="🖥️", url_path="wall", default=True),
}

page = st.navigation(list(PAGES.values()))
render_shell()
start_carousel(PAGES, next((k for k, p in PAGES.items() if p.url_path == page.url_path), "wall"))
page.run()
