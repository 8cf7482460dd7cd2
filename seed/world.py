"""The synthetic world: true problems, the channels that observe them, and the planted behaviour.

Causes first, observations second (issue 3): problems arise per grid and category with random effects, land use,
season and storms; patrol, 12345, app, cameras, sensors and superiors each observe a problem with their own chance;
the same problem seen by several channels becomes several cases, linked only here (``problem`` index), never in the
``cases`` table. Gaming (G1–G7) changes only what patrol logs or how checks are done; the innocent look-alikes
(C1–C4) change the problems themselves or a channel's propensity, for every channel alike.

Everything is numpy arrays, one chunk (calendar month) at a time, from a Generator derived from (seed, chunk).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from seed.config import DISTRICT_CODE, WorldConfig
from seed.geography import POINTS_PER_GRID, Geography
from seed.taxonomy import (
    CATEGORIES,
    DEPARTMENTS,
    HARD_ONLY_DEPARTMENT,
    MAJORS,
    PADDING_CODES,
    STORM_BOOST,
    STREET_OFFICE,
)

# Channel codes used in the arrays (index into CHANNEL_KEYS).
CHANNEL_KEYS = ("patrol", "hotline", "app", "video", "sensor", "superior", "media")
PATROL, HOTLINE, APP, VIDEO, SENSOR, SUPERIOR, MEDIA = range(7)
LAND_USES = ("residential", "commercial", "public", "green", "industrial", "rural")
# How much more often a category of each ``place`` arises on each land use (rows: place; columns: LAND_USES).
PLACE_MULT = {
    "urban": (1.0, 1.6, 1.0, 0.5, 0.5, 0.25),
    "rural": (0.6, 0.4, 0.5, 1.0, 0.8, 2.5),
    "industrial": (0.5, 0.7, 0.6, 0.4, 3.0, 1.2),
    "road": (1.0, 1.3, 1.0, 0.8, 1.2, 0.8),
    "any": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
LU_ACTIVITY = np.array([1.0, 2.0, 0.8, 0.4, 1.2, 0.6])
# Hour-of-day profile of problems arising (quiet nights, busy daytime and evenings).
ARISE_HOURS = np.array(
    [
        0.3,
        0.2,
        0.15,
        0.15,
        0.2,
        0.4,
        0.8,
        1.1,
        1.3,
        1.4,
        1.4,
        1.4,
        1.3,
        1.3,
        1.4,
        1.4,
        1.4,
        1.4,
        1.3,
        1.2,
        1.1,
        0.9,
        0.6,
        0.4,
    ]
)
# 12345 calls: peaks in the evening (docs/domain.md §5).
HOTLINE_HOURS = np.array(
    [
        0.2,
        0.1,
        0.05,
        0.05,
        0.05,
        0.1,
        0.4,
        0.8,
        1.1,
        1.2,
        1.2,
        1.1,
        1.0,
        1.0,
        1.1,
        1.1,
        1.1,
        1.2,
        1.4,
        1.7,
        1.9,
        1.8,
        1.3,
        0.6,
    ]
)


def _dt64(d: datetime) -> np.int64:
    return np.int64(np.datetime64(d, "s").astype(np.int64))


@dataclass
class Plan:
    """The planted behaviour, drawn from the seed: what the world does and what seed_truth records."""

    truth: list[dict] = field(default_factory=list)
    # hard-case withholding: (street index or -1, community index or -1, rate, start s, end s, mode)
    hiding: list[tuple] = field(default_factory=list)
    padding: list[tuple] = field(default_factory=list)  # (street index, size, mode)
    campaigns: list[tuple] = field(default_factory=list)  # (street index, reduction, start s, end s)
    storms: list[tuple] = field(default_factory=list)  # (start s, end s) of storm days
    fake_verifiers: set = field(default_factory=set)  # verifier indices
    farmers: list[dict] = field(default_factory=list)  # reward-farming app reporters


class World:
    """Reference data, random effects and planted behaviour of one seeded world (no database access)."""

    def __init__(
        self, cfg: WorldConfig, seed: int, start: datetime, end: datetime, geo: Geography, rng: np.random.Generator
    ):
        self.cfg, self.seed, self.start, self.end, self.geo = cfg, seed, start, end, geo
        self.start_s, self.end_s = _dt64(start), _dt64(end)
        self._build_reference(rng)
        self._build_effects(rng)
        self.plan = self._plan_behaviour(rng)
        self._calibrate()

    # --- reference tables -------------------------------------------------------------------------------------------
    def _build_reference(self, rng):
        geo = self.geo
        self.n_streets, self.n_comms, self.n_grids = len(geo.streets), len(geo.communities), len(geo.grids)
        self.departments = []
        for i, (code, (name, name_en, kind)) in enumerate(DEPARTMENTS.items()):
            self.departments.append(dict(id=i + 1, code=code, name=name, name_en=name_en, kind=kind, street_id=None))
        self.street_office_id = np.empty(self.n_streets, dtype=np.int64)
        for s, st in enumerate(geo.streets):
            did = len(self.departments) + 1
            self.departments.append(
                dict(
                    id=did,
                    code=f"JZ{st['code'][-3:]}",
                    name=f"{st['name']}办事处",
                    name_en=f"Street office {st['code'][-3:]}",
                    kind="street",
                    street_id=st["id"],
                )
            )
            self.street_office_id[s] = did
        dept_id = {d["code"]: d["id"] for d in self.departments}
        self.categories = []
        for i, c in enumerate(CATEGORIES):
            major_kind, major_name, major_en = MAJORS[c.major_code]
            self.categories.append(
                dict(
                    id=i + 1,
                    code=c.code,
                    kind=c.kind,
                    major_code=c.major_code,
                    major_name=major_name,
                    minor_name=c.minor_name,
                    major_name_en=major_en,
                    minor_name_en=c.minor_name_en,
                    difficulty=c.difficulty,
                    multi_department=c.difficulty == "complex",
                    # Street-office categories go to the office of the case's street: no single default department.
                    default_department_id=None if c.department == STREET_OFFICE else dept_id[c.department],
                    time_limit_work_hours=c.limit_hours,
                )
            )
        code_idx = {c.code: i for i, c in enumerate(CATEGORIES)}
        C = len(CATEGORIES)
        self.n_cats = C
        self.cat_hard = np.array([c.difficulty == "complex" for c in CATEGORIES])
        self.cat_limit_h = np.array([c.limit_hours for c in CATEGORIES])
        self.cat_dept = np.array(
            [-1 if c.department == STREET_OFFICE else dept_id[c.department] for c in CATEGORIES], dtype=np.int64
        )
        self.cat_recode = np.array([code_idx[c.recode_to] if c.recode_to else i for i, c in enumerate(CATEGORIES)])
        self.cat_patrol = np.array([c.patrol for c in CATEGORIES])
        self.cat_hotline = np.array([c.hotline for c in CATEGORIES])
        self.cat_app = np.array([c.app for c in CATEGORIES])
        self.cat_camera = np.array([c.camera for c in CATEGORIES])
        self.cat_sensor = np.array([c.sensor for c in CATEGORIES])
        self.cat_street_order = np.array(
            [c.major_code in ("11", "12", "15") and c.difficulty == "simple" for c in CATEGORIES]
        )
        self.padding_cats = np.array([code_idx[c] for c in PADDING_CODES])
        self.ads_cat = code_idx["1201"]
        self.storm_boost = np.ones(C)
        for code, boost in STORM_BOOST.items():
            self.storm_boost[code_idx[code]] = boost
        season = np.array([c.season for c in CATEGORIES])
        self.cat_summer = (season == "summer") | (season == "storm")
        self.cat_winter = season == "winter"
        self.cat_weekend = np.array([c.major_code == "15" for c in CATEGORIES])

        g = geo.grids
        self.grid_street = np.array([x["street_id"] - 1 for x in g])
        self.grid_comm = np.array([x["community_id"] - 1 for x in g])
        self.grid_lu = np.array([LAND_USES.index(x["land_use"]) for x in g])
        self.grid_pop = np.array([x["population"] for x in g], dtype=float)
        self.grid_area = np.array([x["area_km2"] for x in g])
        self.grid_urban = np.array([x["kind"] == "urban" for x in g])
        self.comm_street = np.array([c["street_id"] - 1 for c in geo.communities])
        self.street_codes = [s["code"] for s in geo.streets]
        self.comm_codes = [c["code"] for c in geo.communities]
        self.grid_codes = [x["code"] for x in g]
        # 网格员: one per grid; the id names community and grid as staff numbers do.
        self.inspector_ids = np.array([f"W{code[6:]}" for code in self.grid_codes], dtype=object)

    def _build_effects(self, rng):
        """Random effects and coverage: the world's honest heterogeneity."""
        G, C, S, M = self.n_grids, self.n_cats, self.n_streets, self.n_comms
        place = np.array([PLACE_MULT[c.place] for c in CATEGORIES])  # [C, 6]
        activity = (self.grid_pop / 1000) ** 0.7 * LU_ACTIVITY[self.grid_lu] + 0.8 * np.sqrt(self.grid_area)
        re = rng.normal(0, 0.25, G) + rng.normal(0, 0.2, M)[self.grid_comm] + rng.normal(0, 0.15, S)[self.grid_street]
        weight = np.array([c.weight for c in CATEGORIES]) * np.where(self.cat_hard, self.cfg.hard_scale, 1.0)
        # Problem intensity per grid × category (relative; scaled to cases_per_day by _calibrate).
        self.rate = (
            (activity * np.exp(re))[:, None]
            * weight[None, :]
            * place[:, self.grid_lu].T
            * np.exp(rng.normal(0, 0.3, (G, C)))
        )
        # Patrol diligence per community (C3 plants the extreme honest ones below), lower for rural grids.
        self.comm_diligence = np.exp(rng.normal(0, 0.08, M))
        self.grid_patrol = np.where(self.grid_urban, 1.0, 0.92)
        # Hotline propensity: population density and income (C2 plants the extreme honest ones below).
        self.comm_income = np.exp(rng.normal(0, 0.25, M))
        self.street_hotline = np.ones(S)
        self.app_adoption = np.where(self.grid_urban, 1.0, 0.4) * np.exp(rng.normal(0, 0.3, G))
        cam_p = np.array([0.45, 0.8, 0.5, 0.2, 0.35, 0.05])[self.grid_lu]
        self.grid_camera = rng.random(G) < cam_p
        self.grid_sensor = rng.random(G) < np.where(self.grid_urban, 0.35, 0.1)
        # Verifiers (核查员) per street, sized so that honest ones can really travel to every check.
        share = self.rate.sum(axis=1)
        street_share = np.bincount(self.grid_street, weights=share, minlength=S) / share.sum()
        n_ver = np.maximum(2, np.ceil(street_share * self.cfg.cases_per_day * 0.75 / 10)).astype(int)
        self.verifier_street = np.repeat(np.arange(S), n_ver)
        self.verifier_ids = np.array(
            [f"V{self.street_codes[s][-3:]}{k + 1:02d}" for s in range(S) for k in range(n_ver[s])], dtype=object
        )
        self.street_verifiers = [np.flatnonzero(self.verifier_street == s) for s in range(S)]
        # Department profiles: late-disposal chance for simple and complex cases; a weak tail; H1.
        D = len(self.departments)
        self.dept_late = np.empty((D + 1, 2))
        self.dept_return = np.exp(rng.normal(0, 0.3, D + 1))
        base = rng.uniform(0.008, 0.03, D + 1)
        self.dept_late[:, 0] = base
        self.dept_late[:, 1] = np.minimum(base * 4.0, 0.2)
        self.dept_profile = {}

    # --- planted behaviour ------------------------------------------------------------------------------------------
    def _plan_behaviour(self, rng) -> Plan:
        cfg, plan = self.cfg, Plan()
        span = self.end_s - self.start_s
        t0, t1 = self.start, self.end

        def rec(unit_type, unit_id, behaviour, params, start=t0, end=t1):
            plan.truth.append(
                dict(
                    unit_type=unit_type,
                    unit_id=str(unit_id),
                    behaviour=behaviour,
                    params_json=json.dumps(params, ensure_ascii=False, sort_keys=True),
                    start_at=start,
                    end_at=end,
                )
            )

        # Departments first (always planted: the ranking needs them).
        dept_codes = [d["code"] for d in self.departments]
        h1 = dept_codes.index(HARD_ONLY_DEPARTMENT) + 1
        self.hard_only_id = h1
        candidates = [d["id"] for d in self.departments if d["id"] != h1]
        weak = set(rng.choice(candidates, size=min(cfg.weak_departments, len(candidates)), replace=False).tolist())
        for d in self.departments:
            did = d["id"]
            if did in weak:
                self.dept_late[did, 0] = rng.uniform(0.10, 0.18)
                self.dept_late[did, 1] = min(self.dept_late[did, 0] * 1.5, 0.3)
                beh = "W1"
            elif did == h1:
                # Average speed: the median department's chances; its lower raw rate is case mix only.
                self.dept_late[did] = np.median(self.dept_late[[c for c in candidates if c not in weak]], axis=0)
                beh = "H1"
            else:
                beh = "N"
            rec(
                "department",
                d["code"],
                beh,
                {
                    "late_simple": round(float(self.dept_late[did, 0]), 4),
                    "late_complex": round(float(self.dept_late[did, 1]), 4),
                    "return_factor": round(float(self.dept_return[did]), 3),
                },
            )
        if not cfg.plant:
            return plan

        streets = list(rng.permutation(self.n_streets))
        take = lambda: int(streets.pop())  # noqa: E731 - each street gets at most one street-level behaviour
        code = self.street_codes

        for rate in cfg.g1_rates:
            s = take()
            plan.hiding.append((s, -1, rate, self.start_s, self.end_s, "G1"))
            rec("street", code[s], "G1", {"rate": rate, "mode": "half dropped, half recoded as simple"})
        s = take()
        plan.hiding.append((s, -1, cfg.g3_rate, self.start_s, self.end_s, "G3"))
        rec("street", code[s], "G3", {"rate": cfg.g3_rate, "mode": "hard cases not reported (dropped)"})
        s = take()
        mid = self.start_s + int(span * rng.uniform(0.35, 0.55))
        mid = mid - mid % 86400  # local midnight: epoch seconds of naive local times
        mid_dt = datetime(1970, 1, 1) + timedelta(seconds=int(mid))
        plan.hiding.append((s, -1, cfg.g4_rate, mid, self.end_s, "G4"))
        rec("street", code[s], "G4", {"rate": cfg.g4_rate, "mode": "G1 from mid-period"}, start=mid_dt)
        s = take()
        plan.hiding.append((s, -1, cfg.g5_drop, self.start_s, self.end_s, "G5"))
        rec("street", code[s], "G5", {"rate": cfg.g5_drop, "mode": "hard cases logged only after a 12345 call"})
        for i, size in enumerate(cfg.g2_sizes):
            s = take()
            mode = "period_end" if i % 2 == 0 else "spread"
            plan.padding.append((s, size, mode))
            rec("street", code[s], "G2", {"size": size, "mode": mode, "categories": list(PADDING_CODES)})
        # Community-level G1 inside streets without a street-level behaviour.
        free_comms = np.flatnonzero(np.isin(self.comm_street, streets))
        for c in rng.choice(free_comms, size=min(cfg.g1_communities, len(free_comms)), replace=False):
            plan.hiding.append((-1, int(c), 0.5, self.start_s, self.end_s, "G1"))
            rec("community", self.comm_codes[c], "G1", {"rate": 0.5, "mode": "half dropped, half recoded as simple"})
        # G6: fake verification by a few verifiers.
        for v in rng.choice(len(self.verifier_ids), size=min(cfg.g6_verifiers, len(self.verifier_ids)), replace=False):
            plan.fake_verifiers.add(int(v))
            rec(
                "verifier",
                self.verifier_ids[v],
                "G6",
                {"mode": "instant checks (1-4 min after disposal), no travel, 100 % pass"},
            )
        # G7: reward-farming app reporters: they post ads at a few spots and report them again and again.
        urban = np.flatnonzero(self.grid_urban)
        for _ in range(cfg.g7_farmers):
            grid = int(rng.choice(urban))
            spots = rng.choice(POINTS_PER_GRID, size=int(rng.integers(1, 4)), replace=False)
            rid = f"A{grid + 1:05d}-{int(rng.integers(5000, 9999)):04d}"
            per_day = float(rng.uniform(0.8, 2.0))
            plan.farmers.append(dict(grid=grid, spots=spots, reporter=rid, per_day=per_day))
            rec(
                "app_reporter",
                rid,
                "G7",
                {
                    "grid": self.grid_codes[grid],
                    "spots": len(spots),
                    "reports_per_day": round(per_day, 2),
                    "category": "1201",
                },
            )

        # --- innocent look-alikes (must not be flagged) --------------------------------------------------------------
        for _ in range(min(cfg.c1_streets, len(streets))):
            s = take()
            a = self.start_s + int(span * rng.uniform(0.2, 0.45))
            a -= a % 86400
            b = min(self.end_s, a + int(span * rng.uniform(0.3, 0.45)))
            plan.campaigns.append((s, cfg.c1_reduction, a, b))
            rec(
                "street",
                code[s],
                "C1",
                {
                    "reduction": cfg.c1_reduction,
                    "mode": "clean-up campaign: fewer simple appearance/order problems, seen by every channel",
                },
                start=datetime(1970, 1, 1) + timedelta(seconds=int(a)),
                end=datetime(1970, 1, 1) + timedelta(seconds=int(b)),
            )
        for i in range(min(cfg.c2_streets, len(streets))):
            s = take()
            factor = 0.5 if i % 2 == 0 else 1.7
            self.street_hotline[s] = factor
            rec("street", code[s], "C2", {"hotline_factor": factor, "mode": "income-driven 12345 propensity"})
        # honest look-alikes live outside gaming units, so the truth stays unambiguous
        gaming_streets = {h[0] for h in plan.hiding if h[0] >= 0} | {p[0] for p in plan.padding}
        gaming_comms = {h[1] for h in plan.hiding if h[1] >= 0}
        honest_comms = [
            c for c in range(self.n_comms) if self.comm_street[c] not in gaming_streets and c not in gaming_comms
        ]
        for i, c in enumerate(rng.choice(honest_comms, size=min(cfg.c3_communities, len(honest_comms)), replace=False)):
            factor = 0.7 if i % 2 == 0 else 1.12
            self.comm_diligence[c] = factor
            rec(
                "community",
                self.comm_codes[c],
                "C3",
                {"patrol_diligence": factor, "mode": "honest diligence difference, all difficulties"},
            )
        # C4: storms in summer (and at least one in every world), bursts of 积水/倒树.
        day0 = self.start_s - self.start_s % 86400
        days = np.arange(day0, self.end_s, 86400)
        month = (days.astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12) + 1
        p = np.where((month >= 6) & (month <= 9), 0.06, 0.01)
        storm_days = list(days[rng.random(len(days)) < p])
        if not storm_days and len(days) > 10:
            storm_days = [days[int(rng.integers(5, len(days) - 3))]]
        for d in storm_days:
            plan.storms.append((int(d), int(d) + 2 * 86400))
            rec(
                "district",
                DISTRICT_CODE,
                "C4",
                {"mode": "storm: 道路积水/倒伏树木 bursts on 2 days", "boost": {k: v for k, v in STORM_BOOST.items()}},
                start=datetime(1970, 1, 1) + timedelta(seconds=int(d)),
                end=datetime(1970, 1, 1) + timedelta(seconds=int(d) + 2 * 86400),
            )
        return plan

    # --- calibration --------------------------------------------------------------------------------------------------
    def _patrol_p(self, g, c):
        return np.minimum(
            self.cat_patrol[c] * self.comm_diligence[self.grid_comm[g]] * self.grid_patrol[g] * self.cfg.patrol_scale,
            0.97,
        )

    def _hotline_p(self, g, c):
        f = (
            self.comm_income[self.grid_comm[g]] ** 0.8
            * self.street_hotline[self.grid_street[g]]
            * np.where(self.grid_urban[g], 1.0, 0.7)
        )
        return self.cat_hotline[c] * f * self.cfg.hotline_scale

    def _app_p(self, g, c):
        return self.cat_app[c] * self.app_adoption[g] * self.cfg.app_scale

    def _video_p(self, g, c):
        return self.cat_camera[c] * self.grid_camera[g] * self.cfg.video_scale

    def _sensor_p(self, g, c):
        return self.cat_sensor[c] * self.grid_sensor[g]

    def _calibrate(self):
        """Scale problem intensity so the expected recorded cases a day match ``cases_per_day``."""
        G, C = self.rate.shape
        g = np.repeat(np.arange(G), C)
        c = np.tile(np.arange(C), G)
        per_problem = (
            self._patrol_p(g, c)
            + np.minimum(self._hotline_p(g, c), 0.95)
            + self._app_p(g, c)
            + self._video_p(g, c)
            + self._sensor_p(g, c)
            + 0.01 * self.cat_hard[c]
        )
        expected = (self.rate.ravel() * per_problem).sum() / self.rate.sum()
        self.problems_per_day = self.cfg.cases_per_day / expected
        self.rate_flat = self.rate.ravel() / self.rate.sum()

    # --- one chunk of the world -----------------------------------------------------------------------------------------
    def day_weights(self, day_s: int) -> np.ndarray:
        """Per (grid, category) intensity of problems on the local day starting at ``day_s`` (epoch seconds)."""
        d = np.datetime64(int(day_s), "s")
        doy = (d - d.astype("datetime64[Y]")).astype("timedelta64[D]").astype(int)
        weekday = (d.astype("datetime64[D]").astype(int) + 3) % 7  # 0 = Monday
        cat = np.ones(self.n_cats)
        cat[self.cat_summer] *= 1 + 0.25 * np.cos(2 * np.pi * (doy - 200) / 365)
        cat[self.cat_winter] *= 1 + 0.25 * np.cos(2 * np.pi * (doy - 15) / 365)
        if weekday >= 5:
            cat[self.cat_weekend] *= 1.15
        boost = np.ones(self.n_cats)
        for a, b in self.plan.storms:  # overlapping storms do not compound
            if a <= day_s < b:
                boost = np.maximum(boost, np.where(day_s == a, self.storm_boost, 1 + (self.storm_boost - 1) * 0.3))
        cat *= boost
        w = self.rate_flat.reshape(self.n_grids, self.n_cats) * cat[None, :]
        for s, reduction, a, b in self.plan.campaigns:
            if a <= day_s < b:
                rows = self.grid_street == s
                w[np.ix_(rows, self.cat_street_order)] *= 1 - reduction
        return w

    def problems(self, day_from: int, day_to: int, rng) -> dict:
        """True problems arising on local days [day_from, day_to) (epoch seconds at local midnight)."""
        parts = []
        for day in range(int(day_from), int(day_to), 86400):
            w = self.day_weights(day).ravel()
            total = w.sum()
            n = rng.poisson(self.problems_per_day * total)
            idx = np.searchsorted(np.cumsum(w), rng.random(n) * total, side="right")
            idx = np.minimum(idx, len(w) - 1)
            hours = rng.choice(24, size=n, p=ARISE_HOURS / ARISE_HOURS.sum())
            t = day + hours * 3600 + rng.integers(0, 3600, n)
            parts.append((idx, t))
        idx = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        t = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        n = len(idx)
        return dict(
            grid=idx // self.n_cats,
            cat=idx % self.n_cats,
            t=t.astype(np.int64),
            salience=rng.lognormal(-0.32, 0.8, n),
            point=rng.integers(0, POINTS_PER_GRID, n),
        )

    def observe(self, pr: dict, cal, rng) -> dict:
        """Turn problems into cases: each channel's own chance, timing and actors; planted patrol behaviour."""
        n = len(pr["t"])
        g, c, t, sal = pr["grid"], pr["cat"], pr["t"], pr["salience"]
        hard = self.cat_hard[c]
        street, comm = self.grid_street[g], self.grid_comm[g]
        weekend = ((t // 86400 + 3) % 7) >= 5

        # patrol: most within working hours; a fifth by extended-hours patrols the same day
        pat = rng.random(n) < self._patrol_p(g, c)
        delay_h = rng.exponential(5.0, n) + 0.1
        t_pat = cal_add(cal, t, delay_h)
        quick = rng.random(n) < 0.2
        t_quick = t + (rng.exponential(2.0, n) * 3600).astype(np.int64) + 300
        hour_q = (t_quick % 86400) // 3600
        t_pat = np.where(quick & (hour_q >= 7) & (hour_q < 20), t_quick, t_pat)

        # 12345: per-problem salience is shared with the app; evening and weekend heavy
        p_hot = np.minimum(self._hotline_p(g, c) * sal * np.where(weekend, 1.2, 1.0), 0.95)
        hot = rng.random(n) < p_hot
        day_call = t + (rng.exponential(10.0, n) * 3600).astype(np.int64) + 600
        call_day = day_call - day_call % 86400
        call_hour = rng.choice(24, size=n, p=HOTLINE_HOURS / HOTLINE_HOURS.sum())
        t_hot = call_day + call_hour * 3600 + rng.integers(0, 3600, n)
        t_hot = np.where(t_hot <= t, t_hot + 86400, t_hot)

        app = rng.random(n) < np.minimum(self._app_p(g, c) * np.sqrt(sal), 0.9)
        t_app = t + (rng.exponential(4.0, n) * 3600).astype(np.int64) + 300
        vid = rng.random(n) < self._video_p(g, c)
        t_vid = t + rng.integers(60, 1800, n)
        sen = rng.random(n) < self._sensor_p(g, c)
        t_sen = t + rng.integers(30, 900, n)
        sup = rng.random(n) < 0.01 * hard * np.minimum(sal, 3)
        t_sup = cal_add(cal, t, rng.exponential(16.0, n) + 2)
        med = rng.random(n) < 0.002 * hard * np.minimum(sal, 4)
        t_med = t + (rng.exponential(24.0, n) * 3600).astype(np.int64) + 3600

        # planted patrol behaviour -----------------------------------------------------------------------------
        rep_cat = c.copy()
        u = rng.random(n)
        half = rng.random(n) < 0.5
        for s, cm, rate, a, b, mode in self.plan.hiding:
            unit = (street == s) if s >= 0 else (comm == cm)
            active = unit & hard & pat & (t >= a) & (t < b)
            if mode == "G5":
                called = hot & (t_hot < t_pat + 3 * 86400)
                drop = active & ~called & (u < rate)
                # logged only once the hotline has called: after the call
                t_pat = np.where(active & called, np.maximum(t_pat, t_hot + rng.integers(1800, 4 * 3600, n)), t_pat)
                pat &= ~drop
            elif mode == "G3":
                pat &= ~(active & (u < rate))
            else:  # G1 / G4: half dropped, half recoded as a simple look-alike
                hide = active & (u < rate)
                rep_cat = np.where(hide & ~half, self.cat_recode[c], rep_cat)
                pat &= ~(hide & half)

        chans = [
            (PATROL, pat, t_pat),
            (HOTLINE, hot, t_hot),
            (APP, app, t_app),
            (VIDEO, vid, t_vid),
            (SENSOR, sen, t_sen),
            (SUPERIOR, sup, t_sup),
            (MEDIA, med, t_med),
        ]
        prob = np.concatenate([np.flatnonzero(m) for _, m, _ in chans])
        cases = dict(
            problem=prob,
            channel=np.concatenate([np.full(m.sum(), ch, dtype=np.int8) for ch, m, _ in chans]),
            t=np.concatenate([tt[m] for _, m, tt in chans]),
            grid=g[prob],
            point=pr["point"][prob],
            cat=np.concatenate([(rep_cat if ch == PATROL else c)[m] for ch, m, _ in chans]),
            padding=np.zeros(len(prob), dtype=bool),
            farmer=np.full(len(prob), -1),
        )
        return cases

    def padding_cases(self, cases: dict, chunk_from: int, chunk_to: int, month_end: int, cal, rng) -> dict:
        """G2 冲量: fabricated simple patrol cases, dumped in the period's last 3 days or spread over it."""
        out = []
        for s, size, mode in self.plan.padding:
            mine = (cases["channel"] == PATROL) & (self.grid_street[cases["grid"]] == s) & ~self.cat_hard[cases["cat"]]
            n = rng.poisson(size * mine.sum())
            if n == 0:
                continue
            grids = np.flatnonzero(self.grid_street == s)
            w = self.rate[grids].sum(axis=1)
            g = rng.choice(grids, size=n, p=w / w.sum())
            if mode == "period_end":
                lo = max(chunk_from, month_end - 3 * 86400)
                if lo >= chunk_to:
                    continue
                day = lo + rng.integers(0, max(1, (chunk_to - lo) // 86400), n) * 86400
            else:
                day = chunk_from + rng.integers(0, max(1, (chunk_to - chunk_from) // 86400), n) * 86400
            t = cal_add(cal, day, rng.uniform(0.2, 7.8, n))
            out.append(
                dict(
                    problem=np.full(n, -1),
                    channel=np.full(n, PATROL, dtype=np.int8),
                    t=t,
                    grid=g,
                    point=rng.integers(0, POINTS_PER_GRID, n),
                    cat=rng.choice(self.padding_cats, n),
                    padding=np.ones(n, dtype=bool),
                    farmer=np.full(n, -1),
                )
            )
        return _concat(out)

    def farmer_cases(self, chunk_from: int, chunk_to: int, rng) -> dict:
        """G7: reward farmers' app reports of the ads they posted themselves, at the same few spots."""
        out = []
        days = (chunk_to - chunk_from) / 86400
        for i, f in enumerate(self.plan.farmers):
            n = rng.poisson(f["per_day"] * days)
            t = chunk_from + rng.integers(0, int(chunk_to - chunk_from), n)
            hour = (t % 86400) // 3600
            t = np.where((hour < 7) | (hour > 21), t + 10 * 3600, t)
            out.append(
                dict(
                    problem=np.full(n, -2),
                    channel=np.full(n, APP, dtype=np.int8),
                    t=t,
                    grid=np.full(n, f["grid"]),
                    point=rng.choice(f["spots"], n),
                    cat=np.full(n, self.ads_cat),
                    padding=np.zeros(n, dtype=bool),
                    farmer=np.full(n, i),
                )
            )
        return _concat(out)


def _concat(parts: list[dict]) -> dict | None:
    if not parts:
        return None
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def cal_add(cal, t_s: np.ndarray, hours) -> np.ndarray:
    """``hours`` working hours after epoch-second times ``t_s`` (vectorised), as epoch seconds."""
    w = cal.work_seconds(np.asarray(t_s, dtype=np.int64).astype("datetime64[s]"))
    return cal.from_work_seconds(w + np.round(np.asarray(hours) * 3600).astype(np.int64)).astype(np.int64)
