"""python -m bench queries --db URL [--repeat N] [--json PATH] | python -m bench report
python -m bench render --db URL [--pages wall,map,...] [--warm N] [--json PATH] | python -m bench ratio SMALL BIG
python -m bench floor [--loads N]
python -m bench baseline --db URL [--json PATH]
python -m bench viewers [--db PRIMARY_URL | --preset demo] [--viewers 1,10,50] [--json PATH]"""

import argparse

from bench import page_queries, report

ap = argparse.ArgumentParser(prog="python -m bench", description="Gridscope benchmarks")
sub = ap.add_subparsers(dest="command", required=True)
q = sub.add_parser("queries", help="time every query each page issues (data layer, cold and warm)")
q.add_argument("--db", required=True)
q.add_argument("--repeat", type=int, default=3)
q.add_argument("--json")
q.add_argument("--pages", help="comma-separated pages (default: all, incl. the hourly flags job)")
sub.add_parser("report", help="write bench/RESULTS.md from bench/results/*.json")
r = sub.add_parser("render", help="end to end: time until each page has rendered in headless Chromium, cold/warm")
r.add_argument("--db", required=True)
r.add_argument("--pages", default="wall,map,backlog,departments,reporting,weekly,data_quality")
r.add_argument("--warm", type=int, default=3, help="warm loads per page, each a new browser context (median)")
r.add_argument(
    "--returning",
    type=int,
    default=2,
    help="then loads in the last warm load's browser context (HTTP cache warm), median",
)
r.add_argument("--settle", type=int, default=1500, help="ms the finished state must hold (not counted)")
r.add_argument(
    "--clock",
    choices=("data", "real"),
    default="data",
    help="data: the app's clock starts at the data's last report (default); real: the wall clock",
)
r.add_argument("--timeout", type=float, default=900, help="seconds one page load may take")
r.add_argument("--json", help="default bench/results/render_<database name>.json")
fl = sub.add_parser("floor", help="the floor: the smallest Streamlit page loaded the same way (new contexts)")
fl.add_argument("--loads", type=int, default=7)
fl.add_argument("--settle", type=int, default=1500)
fl.add_argument("--json", help="default bench/results/floor.json")
ra = sub.add_parser("ratio", help="history independence: render times of BIG over SMALL, per page")
ra.add_argument("small")
ra.add_argument("big")
ra.add_argument("--target", type=float, default=1.3)
b = sub.add_parser("baseline", help="the common way (whole case table in pandas, cached) vs Gridscope, wall figures")
b.add_argument("--db", required=True)
b.add_argument("--repeat", type=int, default=3)
b.add_argument("--mem-limit-gb", type=float, default=8.0, help="the baseline is stopped above this RSS")
b.add_argument("--timeout", type=float, default=900, help="the baseline is stopped after this many seconds")
b.add_argument("--json", help="default bench/results/baseline_<database name>.json")
vw = sub.add_parser(
    "viewers",
    help="the wall with 1/10/50 viewers, 2 processes behind nginx, a read replica "
    "(deploy/): queries per interval, CPU per refresh, memory over 500 cycles",
)
from bench import viewers as _viewers  # noqa: E402 - its options live with it

_viewers.add_arguments(vw)
args = ap.parse_args()
if args.command == "queries":
    page_queries.main(args)
elif args.command == "report":
    report.main()
elif args.command == "render":
    from bench import render

    render.main(args)
elif args.command == "floor":
    from bench import render

    render.main_floor(args)
elif args.command == "ratio":
    from bench import render

    render.main_ratio(args)
elif args.command == "viewers":
    _viewers.main(args)
elif args.command == "baseline":
    from bench import baseline

    baseline.main(args)
