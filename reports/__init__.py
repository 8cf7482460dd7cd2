"""Screen models: what each screen or export shows, computed by plain functions (docs/architecture.md).

Rules every module here follows:
- one module per screen or export (wall, map, backlog, departments, reporting, weekly, data_quality);
- its entry point is ``build(engine, params, *, now) -> Model`` (or a few such functions): the engine is injected,
  ``params`` is a small frozen dataclass of what the viewer chose, ``now`` is passed in (never read from a clock);
- a model is a dataclass of small frames, numbers and codes — no language, no formatting, no Streamlit: pages and
  exports turn codes into words with the message catalogs;
- all SQL is in ``data_access``, all statistics in ``analytics``; a rule the screen needs is written here once and
  shared by every screen and export that shows it (the weekly page and the pack share one agenda).
"""
