"""The worker: one process per deployment that runs the periodic jobs (docs/architecture.md)."""
