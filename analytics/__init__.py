"""Pure statistics for Gridscope (no SQL, no Streamlit): funnel plots, p-value combination, selective-reporting flags.

Every function takes small pandas/numpy objects (aggregates produced by ``data_access``) and returns small ones, so
pages can cache the results cheaply.
"""
