"""The seeded world (seed/): reference data, lifecycle integrity, planted behaviour and docs/domain.md §5 calibration.

One ``tiny`` world (18 streets, 90 communities, 270 grids, 60 summer days, ~100 k cases) is built once on SQLite
for the behaviour and calibration checks. The generator does not depend on the dialect — ``test_seed_determinism``
proves a PostgreSQL build is row-for-row identical — and the integrity checks run on both dialects.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from core import settings
from core.workcal import WorkCalendar
from data_access.engine import make_engine
from tests.test_seed_support import build, frame, fresh_url

END = datetime(2025, 8, 20, 17, 30)  # a summer window: storms, two month-ends for padding


@pytest.fixture(scope="module")
def tiny(request, tmp_path_factory):
    url = fresh_url("sqlite", request, tmp_path_factory)
    summary = build(url, preset="tiny", seed=1, end=END)
    engine = make_engine(url, read_only=True, timeout_s=120)
    yield engine, summary
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def small(request, tmp_path_factory):
    """A three-week world on each dialect for the integrity checks."""
    url = fresh_url(request.param, request, tmp_path_factory)
    summary = build(url, preset="tiny", seed=5, end=END, days=12, cases_per_day=900)
    engine = make_engine(url, read_only=True, timeout_s=120)
    yield engine, summary
    engine.dispose()


def _cases(engine) -> pd.DataFrame:
    c = frame(
        engine,
        "SELECT c.*, k.difficulty, k.code AS cat_code, k.major_code, k.major_name, k.minor_name, "
        "k.kind, k.time_limit_work_hours AS limit_h FROM cases c JOIN categories k "
        "ON k.id = c.category_id",
    )
    for col in [x for x in c.columns if x.endswith("_at")]:
        c[col] = pd.to_datetime(c[col], format="ISO8601")
    return c


@pytest.fixture(scope="module")
def world(tiny):
    engine, summary = tiny
    c = _cases(engine)
    truth = frame(engine, "SELECT * FROM seed_truth")
    truth["params"] = truth["params_json"].map(json.loads)
    streets = frame(engine, "SELECT id, code, population FROM streets")
    code2id = dict(zip(streets["code"], streets["id"]))
    planted = {code2id[u] for u in truth.loc[truth["unit_type"] == "street", "unit_id"]}
    clean = [s for s in streets["id"] if s not in planted]
    counted = c[(c["status"] != "cancelled") & c["duplicate_of"].isna()]
    return dict(
        engine=engine,
        summary=summary,
        cases=c,
        counted=counted,
        truth=truth,
        streets=streets,
        code2id=code2id,
        clean=clean,
    )


def _street(world, behaviour, **params):
    t = world["truth"]
    rows = t[(t["behaviour"] == behaviour) & (t["unit_type"] == "street")]
    for k, v in params.items():
        rows = rows[rows["params"].map(lambda p, k=k, v=v: p.get(k) == v)]
    assert len(rows) >= 1, f"no street planted with {behaviour} {params}"
    return rows.iloc[0], world["code2id"][rows.iloc[0]["unit_id"]]


# --- reference data ---------------------------------------------------------------------------------------------------
def test_reference_counts_and_taxonomy(small):
    engine, summary = small
    n = {
        t: frame(engine, f"SELECT count(*) AS n FROM {t}")["n"][0]
        for t in ("streets", "communities", "grids", "departments", "categories")
    }
    assert (n["streets"], n["communities"], n["grids"]) == (18, 90, 270)
    assert 25 <= n["departments"] <= 35
    cats = frame(engine, "SELECT * FROM categories")
    assert len(cats) >= 80 and cats["major_code"].nunique() >= 12
    assert cats["code"].str.fullmatch(r"\d{4,5}").all()
    assert cats["minor_name_en"].notna().all() and cats["major_name_en"].notna().all()
    assert set(cats["kind"]) == {"component", "event"} and set(cats["difficulty"]) == {"simple", "complex"}
    assert {"暴露垃圾", "机动车乱停放", "乱堆物堆料", "非法小广告", "违法搭建", "路面塌陷", "施工扰民"} <= set(
        cats["minor_name"]
    )
    assert (cats["time_limit_work_hours"] > 0).all()
    depts = frame(engine, "SELECT * FROM departments")
    assert depts["name_en"].notna().all() and (depts["kind"] == "street").sum() == 18
    info = dict(frame(engine, "SELECT key, value FROM dataset_info").values)
    assert info["origin"] == "seed:tiny" and info["seed"] == "5"
    assert info["world_end"] == "2025-08-20 17:30:00" and "seeded_at" in info


def test_cases_are_consistent_with_the_geography(small):
    engine, _ = small
    bad = frame(
        engine,
        "SELECT count(*) AS n FROM cases c JOIN grids g ON g.id = c.grid_id "
        "WHERE g.community_id <> c.community_id OR g.street_id <> c.street_id",
    )
    assert bad["n"][0] == 0
    for column in ("address", "description", "lat", "lon", "case_no"):
        assert frame(engine, f"SELECT count(*) AS n FROM cases WHERE {column} IS NULL")["n"][0] == 0
    c = _cases(engine)
    assert c["lat"].between(30.85, 31.2).all() and c["lon"].between(121.0, 121.45).all()
    assert c.loc[c["channel"] == "patrol", "inspector_id"].notna().all()
    assert c.loc[c["channel"].isin(["hotline", "app"]), "reporter_id"].notna().all()
    assert c.loc[c["verified_at"].notna(), "verifier_id"].notna().all()
    closed_public = c[c["channel"].isin(["hotline", "app"]) & (c["status"] == "closed")]
    assert closed_public["satisfaction"].notna().all()
    assert c.loc[c["channel"] == "patrol", "satisfaction"].isna().all()


# --- lifecycle ---------------------------------------------------------------------------------------------------------
def test_events_tell_each_case_story(small):
    engine, _ = small
    c = _cases(engine).set_index("id")
    ev = frame(engine, "SELECT id, case_id, at, action, from_status, to_status FROM case_events ORDER BY id")
    ev["at"] = pd.to_datetime(ev["at"], format="ISO8601")
    assert 4 <= len(ev) / len(c) <= 8
    assert ev["case_id"].is_monotonic_increasing
    same_case = ev["case_id"].eq(ev["case_id"].shift())
    assert not (same_case & (ev["at"] < ev["at"].shift())).any()  # time order inside each case
    first = ev.groupby("case_id").first()
    last = ev.groupby("case_id").last()
    assert (first["action"] == "report").all()
    assert (first["at"] == c.loc[first.index, "reported_at"]).all()
    assert (last["to_status"] == c.loc[last.index, "status"]).all()
    assert (last["at"] == c.loc[last.index, "updated_at"]).all()
    # every event continues from the status the previous one left
    prev = ev["to_status"].shift().where(same_case)
    chained = prev.isna() | (prev == ev["from_status"])
    assert chained.all(), ev[~chained].head()
    assert set(ev["action"]) >= {
        "report",
        "verify",
        "register",
        "dispatch",
        "return",
        "redispatch",
        "extend",
        "dispose",
        "check_fail",
        "check_pass",
        "close",
        "self_handle",
        "park",
        "cancel",
        "escalate",
    }


def test_stage_times_are_ordered_and_in_working_hours(small):
    engine, _ = small
    c = _cases(engine)
    order = ["reported_at", "registered_at", "dispatched_at", "disposed_at", "verified_at"]
    for a, b in zip(order, order[1:]):
        both = c[a].notna() & c[b].notna()
        assert (c.loc[both, a] <= c.loc[both, b]).all(), (a, b)
    days = frame(engine, "SELECT day, is_workday FROM workdays")
    workday = dict(zip(pd.to_datetime(days["day"]).dt.date, days["is_workday"].astype(bool)))
    periods = [(8 * 60 + 30, 12 * 60), (13 * 60, 17 * 60 + 30)]
    for col in ("registered_at", "dispatched_at", "disposed_at", "verified_at", "deadline_at"):
        t = c[col].dropna()
        assert len(t) > 0
        minute = t.dt.hour * 60 + t.dt.minute + t.dt.second / 60
        inside = np.zeros(len(t), dtype=bool)
        for lo, hi in periods:
            inside |= ((minute >= lo) & (minute <= hi)).to_numpy()
        on_workday = t.dt.date.map(workday).to_numpy()
        assert (inside & on_workday).mean() == 1.0, col


def test_deadlines_follow_the_working_calendar(small):
    engine, _ = small
    c = _cases(engine)
    d = c[c["dispatched_at"].notna() & c["deadline_at"].notna()].sample(2000, random_state=1)
    rows = frame(engine, "SELECT day, is_workday FROM workdays").to_dict("records")
    for r in rows:
        r["day"] = pd.Timestamp(r["day"]).date()
    cal = WorkCalendar.from_rows(rows, settings.get("work_hours"))
    expect = cal.add_work_hours(d["dispatched_at"].to_numpy().astype("datetime64[s]"), d["limit_h"].to_numpy())
    assert (expect == d["deadline_at"].to_numpy().astype("datetime64[s]")).all()
    ext = c[c["extended_deadline_at"].notna()]
    assert len(ext) and (ext["extended_deadline_at"] > ext["deadline_at"]).all()
    assert (ext["extension_count"] >= 1).all()


def test_world_end_leaves_a_realistic_backlog(small):
    engine, summary = small
    c = _cases(engine)
    end = summary["end"]
    assert c["reported_at"].max() <= end and c["updated_at"].max() <= end
    open_ = c[
        c["status"].isin(["pending_verify", "pending_register", "pending_dispatch", "in_disposal", "pending_check"])
    ]
    assert 0.005 * len(c) < len(open_) < 0.1 * len(c)
    due = open_["extended_deadline_at"].fillna(open_["deadline_at"])
    assert (due < end).sum() >= 10  # some overdue
    assert (due >= end).sum() >= 10  # most not
    assert (c["status"] == "parked").sum() >= 5 and c.loc[c["status"] == "parked", "parked_at"].notna().all()
    assert c.loc[c["status"].isin(["closed", "self_handled", "force_closed", "cancelled"]), "closed_at"].notna().all()
    assert c.loc[c["status"] == "self_handled", "department_id"].isna().all()


def test_duplicates_are_only_command_centre_merges(small):
    engine, _ = small
    c = _cases(engine).set_index("id")
    dup = c[c["duplicate_of"].notna()]
    assert len(dup) > 0 and (dup["status"] == "cancelled").all()
    target = c.loc[dup["duplicate_of"].astype(int)]
    assert (target.index.to_numpy() < dup.index.to_numpy()).all()
    assert (target["grid_id"].to_numpy() == dup["grid_id"].to_numpy()).all()
    assert (target["category_id"].to_numpy() == dup["category_id"].to_numpy()).all()
    assert dup["channel"].isin(["hotline", "app"]).all()
    # the truth link between all other reports of one problem is not in the table
    assert "problem_id" not in c.columns


# --- planted behaviour: present in seed_truth and visible in the data ------------------------------------------------
def test_every_behaviour_is_recorded(world):
    t = world["truth"]
    assert set(t["behaviour"]) >= {"G1", "G2", "G3", "G4", "G5", "G6", "G7", "C1", "C2", "C3", "C4", "W1", "H1"}
    assert set(t.loc[t["behaviour"] == "G1", "unit_type"]) == {"street", "community"}
    assert sorted(
        t.loc[(t["behaviour"] == "G1") & (t["unit_type"] == "street"), "params"].map(lambda p: p["rate"])
    ) == [0.15, 0.3, 0.5]
    assert {p["mode"] for p in t.loc[t["behaviour"] == "G2", "params"]} == {"period_end", "spread"}
    assert (t.loc[t["behaviour"] == "W1", "unit_type"] == "department").all()
    g4 = t[t["behaviour"] == "G4"].iloc[0]
    assert pd.Timestamp(g4["start_at"]) > pd.Timestamp(world["summary"]["start"]) + pd.Timedelta(days=10)
    assert t["params_json"].notna().all()


def _hard_ratio(world):
    """Per street: patrol hard cases / hard cases the public reported (hotline, app, video)."""
    c = world["counted"]
    hard = c[c["difficulty"] == "complex"]
    pat = hard[hard["channel"] == "patrol"].groupby("street_id").size()
    pub = hard[hard["channel"].isin(["hotline", "app", "video"])].groupby("street_id").size()
    return pat / pub


def test_hard_case_hiding_is_visible_against_the_public_channels(world):
    ratio = _hard_ratio(world)
    typical = ratio[world["clean"]].median()
    _, g1 = _street(world, "G1", rate=0.5)
    _, g3 = _street(world, "G3")
    assert ratio[g1] < 0.75 * typical
    assert ratio[g3] < 0.6 * typical
    # half of the hidden G1 cases were recoded as a simple look-alike, not dropped: patrol volume barely moves
    c = world["counted"]
    pat = c[c["channel"] == "patrol"].groupby("street_id").size()
    pub = c[c["channel"].isin(["hotline", "app", "video"])].groupby("street_id").size()
    assert (pat / pub)[g1] > 0.5 * (pat / pub)[world["clean"]].median()


def test_mid_period_gaming_starts_at_its_start(world):
    row, g4 = _street(world, "G4")
    start = pd.Timestamp(row["start_at"])
    pat = world["counted"][world["counted"]["channel"] == "patrol"]

    def hard_share(df):
        return (df["difficulty"] == "complex").mean()

    mine, clean = pat[pat["street_id"] == g4], pat[pat["street_id"].isin(world["clean"])]
    drop = hard_share(mine[mine["reported_at"] >= start]) / hard_share(mine[mine["reported_at"] < start])
    base = hard_share(clean[clean["reported_at"] >= start]) / hard_share(clean[clean["reported_at"] < start])
    assert drop < 0.75 * base


def test_padding_shows_as_period_end_bunching_and_excess_volume(world):
    pat = world["counted"][world["counted"]["channel"] == "patrol"]
    clean = pat[pat["street_id"].isin(world["clean"])]

    def last3(df):
        return (df["reported_at"].dt.day >= df["reported_at"].dt.days_in_month - 2).mean()

    _, dump = _street(world, "G2", mode="period_end")
    assert last3(pat[pat["street_id"] == dump]) > 1.5 * last3(clean)
    _, spread = _street(world, "G2", mode="spread")
    c = world["counted"]
    simple_patrol = pat[pat["difficulty"] == "simple"].groupby("street_id").size()
    hotline = c[c["channel"] == "hotline"].groupby("street_id").size()
    ratio = simple_patrol / hotline
    assert ratio[spread] > 1.2 * ratio[world["clean"]].median()


def test_hotline_first_logging_g5(world):
    _, g5 = _street(world, "G5")
    c = world["counted"]
    hard = c[c["difficulty"] == "complex"]
    hot = hard[hard["channel"] == "hotline"][["grid_id", "category_id", "reported_at"]]
    pat = hard[hard["channel"] == "patrol"][["id", "street_id", "grid_id", "category_id", "reported_at"]]
    m = pat.merge(hot, on=["grid_id", "category_id"], suffixes=("", "_h"))
    m = m[(m["reported_at_h"] < m["reported_at"]) & (m["reported_at_h"] > m["reported_at"] - pd.Timedelta(days=5))]
    prior = pat["id"].isin(m["id"])
    assert prior[pat["street_id"] == g5].mean() > 1.6 * prior[pat["street_id"].isin(world["clean"])].mean()


def test_fake_verifiers_check_instantly_never_fail_and_teleport(world):
    c, t = world["cases"], world["truth"]
    fake = list(t.loc[t["behaviour"] == "G6", "unit_id"])
    assert len(fake) == 3
    checked = c[c["verified_at"].notna()].copy()
    checked["gap_min"] = (checked["verified_at"] - checked["disposed_at"]).dt.total_seconds() / 60
    gap = checked.groupby("verifier_id")["gap_min"].median()
    assert (gap[fake] < 5).all() and (gap.drop(fake) > 15).all()
    ev = frame(world["engine"], "SELECT actor_id, action FROM case_events WHERE action IN ('check_fail', 'check_pass')")
    fail = ev.groupby("actor_id")["action"].apply(lambda a: (a == "check_fail").mean())
    assert (fail[fake] == 0).all() and (fail.drop(fake) > 0).all()
    checked = checked.sort_values(["verifier_id", "verified_at"])
    same = checked["verifier_id"].eq(checked["verifier_id"].shift())
    km = np.hypot(checked["lat"].diff() * 111, checked["lon"].diff() * 95)
    hours = (checked["verified_at"].diff().dt.total_seconds() / 3600).clip(lower=1 / 3600)
    impossible = (same & (km > 0.5) & (km / hours > 60)).groupby(checked["verifier_id"]).mean()
    assert (impossible[fake] > 0.03).all() and (impossible.drop(fake) < 0.03).all()


def test_reward_farmers_report_the_same_spots_again_and_again(world):
    c, t = world["counted"], world["truth"]
    farmers = set(t.loc[t["behaviour"] == "G7", "unit_id"])
    app = c[c["channel"] == "app"]
    top = set(app["reporter_id"].value_counts().head(len(farmers)).index)
    assert top == farmers
    mine = app[app["reporter_id"].isin(farmers)]
    assert (mine["cat_code"] == "1201").all()
    assert mine.groupby("reporter_id").apply(lambda d: len(d[["lat", "lon"]].drop_duplicates())).max() <= 3


def test_clean_up_campaigns_lower_every_channel(world):
    c = world["counted"]
    street_order = c[c["major_code"].isin(["11", "12", "15"]) & (c["difficulty"] == "simple")]
    days = (world["summary"]["end"] - world["summary"]["start"]).days
    for _, row in world["truth"][world["truth"]["behaviour"] == "C1"].iterrows():
        s = world["code2id"][row["unit_id"]]
        a, b = pd.Timestamp(row["start_at"]), pd.Timestamp(row["end_at"])

        def rate(df, a=a, b=b):
            inside = df["reported_at"].between(a, b, inclusive="left")
            return (inside.sum() / (b - a).days) / ((~inside).sum() / (days - (b - a).days))

        mine = street_order[street_order["street_id"] == s]
        assert rate(mine) < 0.8 * rate(street_order[street_order["street_id"].isin(world["clean"])])
        # the public (12345, app, cameras) sees the clean-up too: it is not a patrol-only drop
        assert rate(mine[mine["channel"].isin(["hotline", "app", "video"])]) < 0.9


def test_income_driven_hotline_differences(world):
    c, t = world["counted"], world["truth"]
    per_1000 = (
        c[c["channel"] == "hotline"].groupby("street_id").size() / world["streets"].set_index("id")["population"] * 1000
    )
    rows = t[t["behaviour"] == "C2"]
    low = [world["code2id"][u] for u, p in zip(rows["unit_id"], rows["params"]) if p["hotline_factor"] < 1]
    high = [world["code2id"][u] for u, p in zip(rows["unit_id"], rows["params"]) if p["hotline_factor"] > 1]
    assert per_1000[high].mean() > 2 * per_1000[low].mean()


def test_honest_diligence_differences(world):
    c, t = world["counted"], world["truth"]
    comms = frame(world["engine"], "SELECT id, code FROM communities")
    code2id = dict(zip(comms["code"], comms["id"]))
    patrol = c[c["channel"] == "patrol"].groupby("community_id").size()
    public = c[c["channel"].isin(["hotline", "app", "video"])].groupby("community_id").size()
    rows = t[t["behaviour"] == "C3"]
    low = [code2id[u] for u, p in zip(rows["unit_id"], rows["params"]) if p["patrol_diligence"] < 1]
    high = [code2id[u] for u, p in zip(rows["unit_id"], rows["params"]) if p["patrol_diligence"] > 1]
    pooled = lambda ids: patrol.reindex(ids).sum() / public.reindex(ids).sum()  # noqa: E731
    assert pooled(low) < 0.85 * pooled(high)
    # honest: the low-diligence communities miss simple and hard problems alike (no hard-only gap)
    hard = c[c["difficulty"] == "complex"]
    hard_patrol = hard[hard["channel"] == "patrol"].groupby("community_id").size()
    hard_public = hard[hard["channel"].isin(["hotline", "app", "video"])].groupby("community_id").size()
    assert (
        hard_patrol.reindex(low).sum() / hard_public.reindex(low).sum()
        > 0.5 * pooled(low) / pooled(high) * hard_patrol.reindex(high).sum() / hard_public.reindex(high).sum()
    )


def test_storms_bring_bursts_of_flooding(world):
    c, t = world["counted"], world["truth"]
    storms = t[t["behaviour"] == "C4"]
    assert len(storms) >= 1
    flooding = c[c["cat_code"] == "1404"]["reported_at"].dt.date.value_counts()
    for start in pd.to_datetime(storms["start_at"]):
        assert flooding.get(start.date(), 0) > 4 * flooding.median()


def test_department_profiles(world):
    c, t = world["cases"], world["truth"]
    d = c[c["disposed_at"].notna() & ~c["status"].isin(["cancelled", "self_handled", "parked"])].copy()
    d["ontime"] = d["disposed_at"] <= d["extended_deadline_at"].fillna(d["deadline_at"])
    depts = frame(world["engine"], "SELECT id, code FROM departments")
    rate = d.groupby("department_id")["ontime"].mean().rename(index=dict(zip(depts["id"], depts["code"])))
    n = d.groupby("department_id").size().rename(index=dict(zip(depts["id"], depts["code"])))
    beh = dict(
        zip(t.loc[t["unit_type"] == "department", "unit_id"], t.loc[t["unit_type"] == "department", "behaviour"])
    )
    weak = [k for k, v in beh.items() if v == "W1"]
    assert len(weak) == 3
    assert rate[weak].between(0.72, 0.92).all()
    normal = [k for k, v in beh.items() if v == "N" and n.get(k, 0) >= 300]
    assert (rate[normal] >= 0.93).mean() >= 0.9  # most departments 95–99 %
    h1 = [k for k, v in beh.items() if v == "H1"][0]
    assert (d.loc[d["department_id"] == depts.set_index("code").loc[h1, "id"], "difficulty"] == "complex").all()
    assert rate[h1] > rate[weak].max()


# --- calibration to docs/domain.md §5 ---------------------------------------------------------------------------------
def test_channel_mix_and_category_mix(world):
    c = world["counted"]
    share = c["channel"].value_counts(normalize=True)
    assert 0.75 <= share["patrol"] <= 0.90
    assert 0.05 <= share["hotline"] <= 0.20
    assert 0.01 <= share["app"] <= 0.05
    assert 0.01 <= share["video"] <= 0.10
    assert 0.85 <= (c["kind"] == "event").mean() <= 0.95
    major = c.groupby("major_name").size() / len(c)
    assert 0.40 <= major["市容环境"] <= 0.65
    assert 0.20 <= major["街面秩序"] <= 0.55
    assert 0.03 <= major["宣传广告"] <= 0.30
    assert set(c["minor_name"].value_counts().head(4).index) == {"暴露垃圾", "机动车乱停放", "乱堆物堆料", "非法小广告"}
    app = c[c["channel"] == "app"]
    assert (app["minor_name"] == "非法小广告").mean() >= 0.5
    assert 0.13 <= (c.loc[c["channel"] == "patrol", "status"] == "self_handled").mean() <= 0.17


def test_disposal_rates(world):
    c = world["cases"]
    end = world["summary"]["end"]
    d = c[c["disposed_at"].notna() & ~c["status"].isin(["cancelled", "self_handled", "parked"])]
    ontime = (d["disposed_at"] <= d["extended_deadline_at"].fillna(d["deadline_at"])).mean()
    assert 0.93 <= ontime <= 0.99
    due = c[(c["status"] != "cancelled") & c["duplicate_of"].isna() & (c["reported_at"] < end - pd.Timedelta(days=14))]
    closure = (
        due["status"].isin(["closed", "self_handled", "force_closed"]).sum() / (~due["status"].isin(["parked"])).sum()
    )
    assert 0.98 <= closure <= 0.999  # 结案率
    assert 0.01 <= (d["rework_count"] > 0).mean() <= 0.05  # 返工率
    assert 0.01 <= (d["extension_count"] > 0).mean() <= 0.05
    assert 0.01 <= (d["return_count"] > 0).mean() <= 0.08
    sat = c["satisfaction"].value_counts(normalize=True)
    assert sat["satisfied"] > 0.6 and sat["unsatisfied"] < 0.2


def test_weekly_time_pattern(world):
    c = world["counted"]
    wd = c["reported_at"].dt.day_of_week
    pat = c[c["channel"] == "patrol"]
    hot = c[c["channel"] == "hotline"]
    assert (pat["reported_at"].dt.day_of_week < 5).mean() > 5 / 7 + 0.05  # weekday-heavy patrol
    assert (hot["reported_at"].dt.day_of_week >= 5).mean() > (pat["reported_at"].dt.day_of_week >= 5).mean()
    evening = hot["reported_at"].dt.hour.between(18, 22).mean()
    assert evening > 5 / 24 * 1.2  # hotline evening peak
    assert len(wd) > 0
