"""The floor of ``python -m bench floor``: the smallest Streamlit page, loaded the way the benchmark loads Gridscope's."""

import streamlit as st

st.write("Gridscope")
