"""python -m seed --db URL --preset demo|district|city|metro|tiny [--seed N] [--replace] [--end 'YYYY-MM-DD HH:MM']"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from data_access.engine import make_engine
from seed.build import build_world
from seed.config import PRESETS
from seed.load import SeedRefused


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m seed", description="Seed a Gridscope database with the synthetic demo district."
    )
    ap.add_argument("--db", help="database URL (default: setting db_url)")
    ap.add_argument("--preset", default="demo", choices=list(PRESETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replace", action="store_true", help="empty the data tables of a non-empty database first")
    ap.add_argument("--end", help="world end 'YYYY-MM-DD HH:MM' (default: now, local); fixes the data for a seed")
    ap.add_argument("--days", type=int, help="override the preset's length in days")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    engine = make_engine(args.db, read_only=False, timeout_s=3600)
    overrides = {"days": args.days} if args.days else {}
    end = datetime.fromisoformat(args.end) if args.end else None
    try:
        summary = build_world(
            engine,
            preset=args.preset,
            seed=args.seed,
            end=end,
            replace=args.replace,
            progress=not args.quiet,
            **overrides,
        )
    except SeedRefused as err:
        print(f"seed: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        f"seeded preset {summary['preset']} (seed {summary['seed']}): {summary['cases']:,} cases, "
        f"{summary['events']:,} events, {summary['start']:%Y-%m-%d} … {summary['end']:%Y-%m-%d %H:%M} "
        f"in {summary['seconds']:.1f} s ({summary['rows_per_s']:,.0f} rows/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
