"""python -m bench queries --db URL [--repeat N] [--json PATH]"""
import argparse

from bench import page_queries

ap = argparse.ArgumentParser(prog="python -m bench", description="Gridscope benchmarks")
sub = ap.add_subparsers(dest="command", required=True)
q = sub.add_parser("queries", help="time every query each page issues (data layer, cold and warm)")
q.add_argument("--db", required=True)
q.add_argument("--repeat", type=int, default=3)
q.add_argument("--json")
args = ap.parse_args()
if args.command == "queries":
    page_queries.main(args)
