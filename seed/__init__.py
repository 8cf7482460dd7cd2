"""Gridscope's synthetic demo district and case world with planted ground truth (issue 3).

    python -m seed --db URL --preset demo|district|city|metro|tiny [--seed N] [--replace]
    python -m seed.live --db URL [--speed 60]

Python API: ``build_world(engine, preset="demo", seed=1, end=None, replace=False, progress=False, **overrides)``
and ``seed_if_empty(engine, preset="demo")`` for the run script. See docs/seed.md.
"""

from seed.build import build_world, seed_if_empty
from seed.config import PRESETS, WorldConfig
from seed.load import SeedRefused

__all__ = ["build_world", "seed_if_empty", "PRESETS", "WorldConfig", "SeedRefused"]
