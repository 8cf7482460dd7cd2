"""Judge the selective-reporting flags against the planted truth (issue 7).

    python -m seed.evaluate --db URL [--json out.json]
    python -m seed.evaluate --worlds 3 --preset tiny --seeds 301,302,303 [--json out.json]

This module is the judge: it may read ``seed_truth``. The method under test (``analytics/flags.py`` on the aggregates
of ``data_access/flag_queries.py``, joined by ``reports.flags``) never does; it sees only the cases, like the
dashboard.

Scoring rules (documented in docs/flags.md):
- a unit is *flagged* when its overall level is amber or red;
- a flagged street is a true flag when gaming (G1–G5) was planted in the street or in one of its communities; a
  flagged community when gaming was planted in it or in its street; verifiers and app reporters when G6 / G7 was
  planted on that very account;
- recall is per planted unit and behaviour code; "strong" gaming = G1/G3/G4 with ≥ 40 % withheld or G2 with ≥ 20 %
  padding, and "powered" = the unit had ≥ 100 public-reported hard problems in the window;
- false flags per cycle are counted over streets + communities (one evaluation = one cycle) and scaled to 300 units.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from data_access import flag_queries as fq
from data_access import queries
from data_access.engine import fetch_frame, make_engine
from data_access.schema import SeedTruth
from reports.flags import compute_with_history

GAMING_AREA = ("G1", "G2", "G3", "G4", "G5")
CONFOUNDERS = ("C1", "C2", "C3", "C4")
FLAGGED = ("red", "amber")


def _truth(engine) -> pd.DataFrame:
    frame = fetch_frame(
        engine, select(SeedTruth.unit_type, SeedTruth.unit_id, SeedTruth.behaviour, SeedTruth.params_json)
    )
    frame["params"] = [json.loads(p) if p else {} for p in frame["params_json"]]
    return frame


def _strength(behaviour: str, params: dict) -> float:
    return float(params.get("rate", params.get("size", 0.0)) or 0.0)


def _is_strong(behaviour: str, params: dict) -> bool:
    s = _strength(behaviour, params)
    return (behaviour in ("G1", "G3", "G4", "G5") and s >= 0.4) or (behaviour == "G2" and s >= 0.2)


def evaluate_db(engine, period_end: datetime | None = None, **flag_options) -> dict:
    """Run the flags on a seeded database and score them against ``seed_truth``. Returns a JSON-able dict."""
    info = queries.dataset_info(engine)
    end = period_end or datetime.fromisoformat(info["world_end"])
    t0 = time.monotonic()
    report, _ = compute_with_history(engine, end, **flag_options)
    seconds = time.monotonic() - t0
    flags, ind = report.flags, report.indicators
    truth = _truth(engine)
    streets = queries.streets(engine)[["id", "code"]]
    comms = queries.communities(engine)[["id", "code", "street_id"]]
    s_code = dict(zip(streets["id"], streets["code"]))
    c_code = dict(zip(comms["id"], comms["code"]))
    c_street = dict(zip(comms["code"], comms["street_id"].map(s_code)))

    units = flags.drop_duplicates(["unit_type", "unit_id"])[["unit_type", "unit_id", "unit_level", "p_unit", "q"]]
    units = units.copy()
    units["code"] = [
        s_code.get(u) if t == "street" else c_code.get(u) if t == "community" else str(u)
        for t, u in zip(units["unit_type"], units["unit_id"])
    ]
    units["flagged"] = units["unit_level"].isin(FLAGGED)

    gaming = truth[truth["behaviour"].isin(GAMING_AREA)]
    g_streets = set(gaming.loc[gaming["unit_type"] == "street", "unit_id"])
    g_comms = set(gaming.loc[gaming["unit_type"] == "community", "unit_id"])
    g_street_any = g_streets | {c_street[c] for c in g_comms if c in c_street}

    def is_true(row) -> bool:
        if row["unit_type"] == "street":
            return row["code"] in g_street_any
        if row["unit_type"] == "community":
            return row["code"] in g_comms or c_street.get(row["code"]) in g_streets
        code = {"verifier": "G6", "app_reporter": "G7"}[row["unit_type"]]
        return bool(
            (
                (truth["unit_type"] == row["unit_type"])
                & (truth["unit_id"] == row["code"])
                & (truth["behaviour"] == code)
            ).any()
        )

    units["true"] = units.apply(is_true, axis=1) if len(units) else []

    out: dict = {
        "world": {k: info.get(k) for k in ("origin", "seed", "world_start", "world_end")},
        "window": [str(report.window[0]), str(report.window[1])],
        "flag_seconds": round(seconds, 1),
    }
    # Precision / FDR per unit type.
    prec = {}
    for utype in ("street", "community", "verifier", "app_reporter"):
        u = units[units["unit_type"] == utype]
        f = u[u["flagged"]]
        prec[utype] = {
            "tested": int(u["unit_level"].ne("insufficient").sum()),
            "flagged": int(len(f)),
            "true_flags": int(f["true"].sum()),
            "false_flags": int((~f["true"]).sum()),
            "insufficient": int(u["unit_level"].eq("insufficient").sum()),
        }
    area = units[units["unit_type"].isin(("street", "community"))]
    fa = area[area["flagged"]]
    out["precision"] = prec
    out["area_fdr"] = float((~fa["true"]).mean()) if len(fa) else 0.0
    n_area = len(streets) + len(comms)  # every street and community is a unit of the cycle
    out["false_flags_per_cycle"] = int((~fa["true"]).sum())
    out["false_flags_per_300_units"] = float((~fa["true"]).sum() * 300 / max(n_area, 1))

    # Public-reported hard problems per street / community (the power of family A).
    a1 = ind[ind["indicator"] == "A1"].drop_duplicates(["unit_type", "unit_id"])
    power = {
        (t, s_code.get(u) if t == "street" else c_code.get(u)): n
        for t, u, n in zip(a1["unit_type"], a1["unit_id"], a1["n"])
    }
    # Communities not tested (street not flagged) still need their volume for the "powered" rule: use the counts.
    level_of = {(t, c): lv for t, c, lv in zip(units["unit_type"], units["code"], units["unit_level"])}

    recall_rows = []
    for _, r in truth[truth["behaviour"].str.startswith("G")].iterrows():
        ut, code, b = r["unit_type"], r["unit_id"], r["behaviour"]
        lv = level_of.get((ut, code), "not_tested")
        row = {
            "unit_type": ut,
            "unit_id": code,
            "behaviour": b,
            "strength": _strength(b, r["params"]),
            "strong": _is_strong(b, r["params"]),
            "level": lv,
            "found": lv in FLAGGED,
            "public_hard": power.get((ut, code)),
        }
        if ut == "community":
            row["street_level"] = level_of.get(("street", c_street.get(code)), "not_tested")
            row["found_via_street"] = row["street_level"] in FLAGGED
        recall_rows.append(row)
    out["planted"] = recall_rows

    conf = []
    for _, r in truth[truth["behaviour"].isin(CONFOUNDERS)].iterrows():
        ut, code = r["unit_type"], r["unit_id"]
        also_gaming = code in g_street_any if ut == "street" else (code in g_comms or c_street.get(code) in g_streets)
        lv = level_of.get((ut, code), "not_tested")
        conf.append(
            {
                "unit_type": ut,
                "unit_id": code,
                "behaviour": r["behaviour"],
                "level": lv,
                "flagged": lv in FLAGGED,
                "also_gaming": bool(also_gaming),
            }
        )
    out["confounders"] = conf

    # Rank of a planted street-wide policy (G3) among the streets by the hard-case family's p (lowest = rank 1).
    st = units[units["unit_type"] == "street"].copy()
    fam_a = flags[(flags["unit_type"] == "street") & (flags["family"] == "A")].set_index("unit_id")["family_p"]
    st["rank"] = st["unit_id"].map(fam_a).rank(method="min", na_option="bottom")
    g3 = gaming.loc[(gaming["unit_type"] == "street") & (gaming["behaviour"] == "G3"), "unit_id"]
    out["g3_rank"] = {
        code: int(st.loc[st["code"] == code, "rank"].iloc[0]) if (st["code"] == code).any() else None for code in g3
    }
    # The same rank by A1 alone (share of the public-reported hard problems patrol also logged): the league-table
    # reading of "hard cases not reported". Family A also holds A1F, where a G5 street (logs only after 12345) is
    # far more extreme than a street-wide drop, so by family p a G3 street can rank 3rd behind other hiders.
    a1 = ind[(ind["unit_type"] == "street") & (ind["indicator"] == "A1")].set_index("unit_id")["z"]
    st["rank_a1"] = st["unit_id"].map(a1).rank(method="min", na_option="bottom")
    out["g3_rank_a1"] = {
        code: int(st.loc[st["code"] == code, "rank_a1"].iloc[0]) if (st["code"] == code).any() else None for code in g3
    }
    out["n_streets"] = int(len(st))
    s, e = report.window
    out["matching"] = fq.match_rule_check(engine, s, e)
    return out


# --- several worlds ---------------------------------------------------------------------------------------------------
def summarise(results: list[dict]) -> dict:
    """Aggregate per-world results into the figures of the issue's targets."""
    planted = pd.DataFrame([dict(r, world=i) for i, res in enumerate(results) for r in res["planted"]])
    conf = pd.DataFrame([dict(r, world=i) for i, res in enumerate(results) for r in res["confounders"]])
    summary: dict = {"worlds": len(results)}
    per_b = {}
    for b, g in planted.groupby("behaviour"):
        d = {"units": int(len(g)), "recall": float(g["found"].mean())}
        if "found_via_street" in g and g["found_via_street"].notna().any():
            d["recall_via_street"] = float(g["found_via_street"].fillna(False).astype(bool).mean())
        strong = g[g["strong"]]
        if len(strong):
            d["recall_strong"] = float(strong["found"].mean())
            powered = strong[strong["public_hard"].fillna(0) >= 100]
            d["recall_strong_powered"] = float(powered["found"].mean()) if len(powered) else None
            d["n_strong_powered"] = int(len(powered))
        per_b[b] = d
    summary["recall_by_behaviour"] = per_b
    area = planted[planted["unit_type"].isin(("street", "community")) & planted["strong"]]
    powered = area[area["public_hard"].fillna(0) >= 100]
    summary["recall_strong_area"] = float(area["found"].mean()) if len(area) else None
    summary["recall_strong_powered_area"] = float(powered["found"].mean()) if len(powered) else None
    summary["n_strong_powered_area"] = int(len(powered))
    for utype, _key in (("street", "street"), ("community", "community"), ("verifier", "G6"), ("app_reporter", "G7")):
        fl = sum(r["precision"][utype]["flagged"] for r in results)
        tf = sum(r["precision"][utype]["true_flags"] for r in results)
        summary[f"precision_{utype}"] = tf / fl if fl else None
        summary[f"flags_{utype}"] = fl
    summary["area_fdr_by_world"] = [r["area_fdr"] for r in results]
    summary["false_flags_per_cycle"] = [r["false_flags_per_cycle"] for r in results]
    summary["false_flags_per_300_units"] = float(np.mean([r["false_flags_per_300_units"] for r in results]))
    if len(conf):
        clean = conf[~conf["also_gaming"]]
        summary["confounders_flagged"] = {
            b: {"units": int(len(g)), "flagged": int(g["flagged"].sum())} for b, g in clean.groupby("behaviour")
        }
    ranks = [v for r in results for v in r["g3_rank"].values()]
    summary["g3_ranks"] = ranks
    summary["g3_bottom2_share"] = float(np.mean([v is not None and v <= 2 for v in ranks])) if ranks else None
    ranks_a1 = [v for r in results for v in r.get("g3_rank_a1", {}).values()]
    summary["g3_ranks_a1"] = ranks_a1
    summary["g3_bottom2_share_a1"] = float(np.mean([v is not None and v <= 2 for v in ranks_a1])) if ranks_a1 else None
    summary["matching"] = [r["matching"] for r in results]
    summary["flag_seconds"] = [r["flag_seconds"] for r in results]
    return summary


def run_worlds(
    seeds: list[int],
    preset: str = "tiny",
    end: datetime = datetime(2024, 6, 30, 23, 0),
    workdir: str | None = None,
    **overrides,
) -> list[dict]:
    """Build one small world per seed (SQLite files in a temp folder), evaluate each, return the results."""
    from seed import build_world  # the judge may build worlds; the method never imports seed

    results = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for s in seeds:
            url = f"sqlite:///{Path(tmp) / f'world-{s}.db'}"
            writer = make_engine(url, read_only=False, timeout_s=3600)
            build_world(writer, preset=preset, seed=s, end=end, **overrides)
            writer.dispose()
            reader = make_engine(url, timeout_s=600)
            res = evaluate_db(reader)
            res["seed"] = s
            results.append(res)
            reader.dispose()
    return results


def format_table(summary: dict) -> str:
    """A plain-text table of the summary for the terminal."""
    lines = [
        f"worlds: {summary['worlds']}",
        "",
        f"{'behaviour':<10}{'units':>6}{'recall':>8}{'strong':>8}{'powered':>9}{'n_pow':>7}{'via street':>11}",
    ]
    for b, d in sorted(summary["recall_by_behaviour"].items()):
        f = lambda x: "—" if x is None else f"{x:.2f}"  # noqa: E731
        lines.append(
            f"{b:<10}{d['units']:>6}{f(d['recall']):>8}{f(d.get('recall_strong')):>8}"
            f"{f(d.get('recall_strong_powered')):>9}{d.get('n_strong_powered', 0):>7}"
            f"{f(d.get('recall_via_street')):>11}"
        )
    lines += [
        "",
        f"precision street {summary['precision_street']} ({summary['flags_street']} flags), community "
        f"{summary['precision_community']} ({summary['flags_community']}), verifier (G6) "
        f"{summary['precision_verifier']} ({summary['flags_verifier']}), app reporter (G7) "
        f"{summary['precision_app_reporter']} ({summary['flags_app_reporter']})",
        f"realised FDR (streets+communities) per world: {[round(x, 2) for x in summary['area_fdr_by_world']]}",
        f"false flags per cycle: {summary['false_flags_per_cycle']} "
        f"(≈ {summary['false_flags_per_300_units']:.2f} per 300 units)",
        f"strong gaming recall (area units): {summary['recall_strong_area']}; where ≥ 100 public hard "
        f"problems: {summary['recall_strong_powered_area']} (n={summary['n_strong_powered_area']})",
        f"confounders flagged (units without gaming): {summary.get('confounders_flagged')}",
        f"G3 street-wide policy rank among streets: {summary['g3_ranks']} "
        f"(bottom-2 share {summary['g3_bottom2_share']}); by A1 alone {summary.get('g3_ranks_a1')} "
        f"(bottom-2 share {summary.get('g3_bottom2_share_a1')})",
        f"flag computation seconds per world: {summary['flag_seconds']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m seed.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="evaluate this seeded database")
    ap.add_argument("--worlds", type=int, help="build and evaluate this many small worlds (SQLite, temp folder)")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument(
        "--seeds", help="comma-separated seeds (default 301..300+worlds: the reporting seeds of docs/flags.md)"
    )
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if args.db:
        engine = make_engine(args.db, timeout_s=600)
        results = [evaluate_db(engine)]
        engine.dispose()
    else:
        n = args.worlds or 3
        seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(range(301, 301 + n))
        results = run_worlds(seeds[:n] if args.worlds else seeds, preset=args.preset)
    summary = summarise(results)
    print(format_table(summary))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"summary": summary, "worlds": results}, ensure_ascii=False, indent=1, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
