"""The bottom layer: settings, the clock, the working calendar, domain codes and the message catalogs.

Everything else may import ``core``; ``core`` imports nothing of the project's (docs/architecture.md).
"""
