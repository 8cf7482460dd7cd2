"""Presentation helpers shared by the pages: language, database handle, live cached loaders, filters, figures."""
