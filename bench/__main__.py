"""python -m bench queries --db URL [--repeat N] [--json PATH] | python -m bench report"""
import argparse

from bench import page_queries, report

ap = argparse.ArgumentParser(prog="python -m bench", description="Gridscope benchmarks")
sub = ap.add_subparsers(dest="command", required=True)
q = sub.add_parser("queries", help="time every query each page issues (data layer, cold and warm)")
q.add_argument("--db", required=True)
q.add_argument("--repeat", type=int, default=3)
q.add_argument("--json")
sub.add_parser("report", help="write bench/RESULTS.md from bench/results/*.json")
args = ap.parse_args()
if args.command == "queries":
    page_queries.main(args)
elif args.command == "report":
    report.main()
