"""What the database holds, for scripts: ``python -m data_access.status [--db URL] [--check empty|demo]``.

Prints one JSON line (case count, origin). ``--check empty`` exits 0 when there are no cases (else 1);
``--check demo`` exits 0 when the data was made by ``seed`` (else 1).
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import select

from data_access.engine import make_engine
from data_access.queries import dataset_info
from data_access.schema import Case


def describe(engine) -> dict:
    with engine.connect() as conn:
        has_case = conn.execute(select(Case.id).limit(1)).first() is not None
    info = dataset_info(engine)
    return {"has_cases": has_case, "origin": info.get("origin"), "world_end": info.get("world_end")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: setting db_url)")
    ap.add_argument("--check", choices=["empty", "demo"])
    args = ap.parse_args(argv)
    engine = make_engine(args.db)
    facts = describe(engine)
    print(json.dumps(facts, ensure_ascii=False))
    if args.check == "empty":
        return 0 if not facts["has_cases"] else 1
    if args.check == "demo":
        return 0 if str(facts["origin"] or "").startswith("seed:") else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
