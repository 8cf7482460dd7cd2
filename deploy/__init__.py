"""The deployment a city runs: N Streamlit processes behind nginx (sticky sessions), reading one PostgreSQL primary
or a streaming read replica. ``gridscope.nginx.conf`` is the nginx configuration; ``python -m deploy.local`` brings
the whole topology up on one machine (tests, benchmarks, trying it out). See docs/deployment.md."""
