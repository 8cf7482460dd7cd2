"""Keep a seeded world running: new cases arrive and open ones move through the lifecycle.

    python -m seed.live --db URL [--speed 60] [--interval 5] [--once | --ticks N]

On start it catches up the gap between the data's last timestamp and now (at most ``--catch-up-hours``, default
48), then ticks every ``--interval`` seconds. Each tick is one short transaction (SQLite WAL readers never wait
long), inserts the new cases with their ``report`` events, moves open cases one stage on with ``case_events``
rows, and bumps ``cases.updated_at``.

Time model: timestamps are always real local time (never in the future). ``--speed`` multiplies how much world
happens per real second: arrivals ×speed, and stage progress ×speed. At speed 1 stages progress only in working
hours, exactly like the seed; above 1 they progress around the clock (a third of the clock rate, 8 of 24 hours,
times speed) so a wall display keeps moving at night too.

Arrivals are drawn from the last 7 days of cases (same mix of places, categories and channels, with their planted
behaviour), stage delays are memoryless with the seed's mean stage times.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, func, insert, select, update

from core.clock import local_now
from core.domain import OPEN_STATUSES
from data_access.engine import make_engine
from data_access.schema import Case, CaseEvent, Category, DatasetInfo, Department
from seed.build import load_calendar

log = logging.getLogger("seed.live")

# Mean time in a stage (working hours); in_disposal is a share of the category's time limit.
STAGE_MEAN_H = {"pending_verify": 1.5, "pending_register": 0.4, "pending_dispatch": 0.5, "pending_check": 1.2}
DISPOSAL_SHARE_OF_LIMIT = 0.4
CANCEL_P, RETURN_P, PARK_P_HARD, REWORK_P, SELF_HANDLE_P = 0.07, 0.03, 0.02, 0.03, 0.14
PUBLIC_VERIFY = ("hotline", "app", "video", "sensor", "media")
MUTABLE = [
    "status",
    "registered_at",
    "dispatched_at",
    "deadline_at",
    "department_id",
    "disposed_at",
    "disposal_work_hours",
    "verified_at",
    "closed_at",
    "parked_at",
    "verifier_id",
    "inspector_id",
    "satisfaction",
    "return_count",
    "rework_count",
    "updated_at",
]
TEMPLATE_COLUMNS = [
    "channel",
    "category_id",
    "grid_id",
    "community_id",
    "street_id",
    "lat",
    "lon",
    "address",
    "description",
    "reporter_id",
    "inspector_id",
]


class LiveWorld:
    def __init__(self, engine: Engine, speed: float = 1.0, seed: int | None = None):
        self.engine, self.speed = engine, float(speed)
        self.cal = load_calendar(engine)
        with engine.connect() as conn:
            info = dict(conn.execute(select(DatasetInfo.key, DatasetInfo.value)).all())
            cats = pd.DataFrame(
                conn.execute(
                    select(
                        Category.id, Category.difficulty, Category.default_department_id, Category.time_limit_work_hours
                    )
                ).all(),
                columns=["id", "difficulty", "dept", "limit"],
            ).set_index("id")
            offices = dict(
                conn.execute(select(Department.street_id, Department.id).where(Department.kind == "street")).all()
            )
            self.next_case = (conn.execute(select(func.max(Case.id))).scalar() or 0) + 1
            self.next_event = (conn.execute(select(func.max(CaseEvent.id))).scalar() or 0) + 1
            last = conn.execute(select(func.max(Case.updated_at))).scalar()
            since = (last or local_now()) - timedelta(days=7)
            tpl = pd.DataFrame(
                conn.execute(
                    select(*[getattr(Case, c) for c in TEMPLATE_COLUMNS], Case.reported_at, Case.verifier_id).where(
                        Case.reported_at >= since
                    )
                ).all(),
                columns=TEMPLATE_COLUMNS + ["reported_at", "verifier_id"],
            )
            self.open = pd.DataFrame(
                conn.execute(
                    select(
                        Case.id,
                        Case.channel,
                        Case.category_id,
                        Case.street_id,
                        Case.grid_id,
                        *[getattr(Case, c) for c in MUTABLE],
                    ).where(Case.status.in_(OPEN_STATUSES))
                ).all(),
                columns=["id", "channel", "category_id", "street_id", "grid_id"] + MUTABLE,
            )
        if tpl.empty:
            raise RuntimeError("seed.live needs a seeded database (python -m seed ...) with cases in the last 7 days")
        self.cats, self.offices = cats, offices
        self.clock = last or local_now()
        self.rng = np.random.default_rng([int(info.get("seed", seed or 1)), int(self.clock.timestamp())])
        self.templates = tpl.drop(columns=["reported_at", "verifier_id"]).reset_index(drop=True)
        hours = pd.to_datetime(tpl["reported_at"]).dt.hour.to_numpy()
        span_h = max(
            (pd.Timestamp(tpl["reported_at"].max()) - pd.Timestamp(tpl["reported_at"].min())) / pd.Timedelta(hours=1),
            1.0,
        )
        self.per_hour = len(tpl) / span_h
        prof = np.bincount(hours, minlength=24).astype(float)
        self.hour_profile = prof / prof.mean() if prof.mean() > 0 else np.ones(24)
        self.verifiers = tpl.dropna(subset=["verifier_id"]).groupby("street_id")["verifier_id"].unique().to_dict()
        self.stats = {"new": 0, "moved": 0, "events": 0, "ticks": 0}

    # --- one step of the world ---------------------------------------------------------------------------------------
    def step(self, t1: datetime) -> dict:
        t0 = self.clock
        if t1 <= t0:
            return {"new": 0, "moved": 0}
        new_cases, new_events = self._arrivals(t0, t1)
        changed, move_events = self._advance(t0, t1)
        events = new_events + move_events
        events = [
            {"department_id": None, "note": None, "actor_id": None, **e, "id": self.next_event + i}
            for i, e in enumerate(events)
        ]
        self.next_event += len(events)
        with self.engine.begin() as conn:  # one short transaction per tick
            if new_cases:
                conn.execute(insert(Case), new_cases)
            if changed:
                stmt = (
                    update(Case).where(Case.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in MUTABLE})
                )
                conn.execute(stmt, [{"b_id": r["id"], **{f"b_{c}": r[c] for c in MUTABLE}} for r in changed])
            if events:
                conn.execute(insert(CaseEvent), events)
        self.clock = t1
        out = {"new": len(new_cases), "moved": len(changed), "events": len(events)}
        return out

    def _elapsed_hours(self, t0: datetime, t1: datetime) -> float:
        if self.speed == 1.0:
            return float(self.cal.work_hours_between(t0, t1))
        return (t1 - t0).total_seconds() / 3600 * self.speed / 3

    def _when(self, lo: datetime, t1: datetime) -> datetime:
        """A moment in (lo, t1]: in working time at speed 1, anywhere otherwise."""
        if self.speed == 1.0:
            a, b = self.cal.work_seconds(np.array([lo, t1], dtype="datetime64[s]"))
            if b > a:
                w = int(self.rng.integers(a + 1, b + 1))
                at = self.cal.from_work_seconds(np.array([w]))[0].astype(datetime)
                return min(max(at, lo + timedelta(seconds=1)), t1)
        span = max(int((t1 - lo).total_seconds()), 1)
        return lo + timedelta(seconds=int(self.rng.integers(1, span + 1)))

    def _arrivals(self, t0: datetime, t1: datetime):
        hours = (t1 - t0).total_seconds() / 3600
        mid = t0 + (t1 - t0) / 2
        n = int(self.rng.poisson(self.per_hour * hours * self.speed * self.hour_profile[mid.hour]))
        cases, events, still_open = [], [], []
        rows = self.templates.iloc[self.rng.integers(0, len(self.templates), n)].to_dict("records")
        span = max(int((t1 - t0).total_seconds()), 1)
        for r in rows:
            at = t0 + timedelta(seconds=int(self.rng.integers(1, span + 1)))
            cid = self.next_case
            self.next_case += 1
            public = r["channel"] in PUBLIC_VERIFY
            cat = self.cats.loc[r["category_id"]]
            self_handle = (
                r["channel"] == "patrol" and cat["difficulty"] == "simple" and self.rng.random() < SELF_HANDLE_P
            )
            status = "pending_verify" if public else "pending_register"
            case = dict(
                id=cid,
                case_no=f"SJ{at:%Y%m%d}{cid:08d}",
                reported_at=at,
                updated_at=at,
                status=status,
                closed_at=None,
                return_count=0,
                rework_count=0,
                extension_count=0,
                escalated=False,
                **{k: _py(v) for k, v in r.items()},
            )
            if r["channel"] != "patrol":
                case["inspector_id"] = None
            events.append(
                dict(
                    case_id=cid,
                    at=at,
                    action="report",
                    from_status=None,
                    to_status=status,
                    actor_id=r["reporter_id"] or r["inspector_id"],
                )
            )
            if self_handle:
                done = at + timedelta(minutes=int(self.rng.integers(5, 40)))
                done = min(done, t1)
                case.update(status="self_handled", closed_at=done, updated_at=done)
                events.append(
                    dict(
                        case_id=cid,
                        at=done,
                        action="self_handle",
                        from_status="pending_register",
                        to_status="self_handled",
                        actor_id=r["inspector_id"],
                        note="监督员自行处置",
                    )
                )
            else:
                still_open.append(
                    {
                        **{c: case.get(c) for c in MUTABLE},
                        "id": cid,
                        "channel": r["channel"],
                        "category_id": r["category_id"],
                        "street_id": r["street_id"],
                        "grid_id": r["grid_id"],
                    }
                )
            cases.append(case)
        if still_open:
            add = pd.DataFrame(still_open, columns=self.open.columns)
            self.open = add if self.open.empty else pd.concat([self.open, add], ignore_index=True)
        return cases, events

    def _advance(self, t0: datetime, t1: datetime):
        if self.open.empty:
            return [], []
        hours = self._elapsed_hours(t0, t1)
        if hours <= 0:
            return [], []
        op = self.open
        limit = self.cats["limit"].reindex(op["category_id"]).to_numpy()
        mean = np.where(
            op["status"] == "in_disposal",
            np.maximum(limit * DISPOSAL_SHARE_OF_LIMIT, 0.2),
            op["status"].map(STAGE_MEAN_H).fillna(1.0).to_numpy(),
        )
        moves = np.flatnonzero(self.rng.random(len(op)) < 1 - np.exp(-hours / mean))
        changed, events, gone = [], [], []
        for i in moves:
            row = op.iloc[i].to_dict()
            lo = max(pd.Timestamp(row["updated_at"]).to_pydatetime(), t0)
            at = self._when(lo, t1)
            evs = self._transition(row, at)
            events.extend(evs)
            row["updated_at"] = at
            changed.append(row)
            for c in MUTABLE:
                op.at[op.index[i], c] = row[c]
            if row["status"] not in OPEN_STATUSES:
                gone.append(op.index[i])
        self.open = op.drop(index=gone).reset_index(drop=True)
        out = []
        for r in changed:
            r = {k: _py(v) for k, v in r.items()}
            for k in ("id", "department_id", "return_count", "rework_count"):
                r[k] = None if r[k] is None else int(r[k])
            out.append(r)
        return out, events

    def _transition(self, row: dict, at: datetime) -> list[dict]:
        rng, status, cat = self.rng, row["status"], self.cats.loc[row["category_id"]]
        ev = lambda action, to, actor=None, dept=None, note=None: dict(  # noqa: E731
            case_id=int(row["id"]),
            at=at,
            action=action,
            from_status=status,
            to_status=to,
            actor_id=actor,
            department_id=dept,
            note=note,
        )
        if status == "pending_verify":
            if rng.random() < CANCEL_P:
                row.update(status="cancelled", closed_at=at)
                return [ev("cancel", "cancelled", note="核实: 问题不存在或不属受理范围")]
            row.update(status="pending_register")
            return [ev("verify", "pending_register", row.get("inspector_id"))]
        if status == "pending_register":
            row.update(status="pending_dispatch", registered_at=at)
            return [ev("register", "pending_dispatch", "CC01")]
        if status == "pending_dispatch":
            dept = cat["dept"] if pd.notna(cat["dept"]) else self.offices.get(int(row["street_id"]))
            deadline = self.cal.add_work_hours(at, float(cat["limit"]))
            action = "redispatch" if (row.get("return_count") or 0) > 0 else "dispatch"
            row.update(status="in_disposal", dispatched_at=at, department_id=int(dept), deadline_at=deadline)
            return [ev(action, "in_disposal", "CC01", int(dept))]
        if status == "in_disposal":
            dept = _py(row["department_id"])
            if rng.random() < RETURN_P:
                row.update(
                    status="pending_dispatch",
                    return_count=int(row.get("return_count") or 0) + 1,
                    department_id=None,
                    deadline_at=None,
                )
                return [ev("return", "pending_dispatch", "CC01", dept, "非本单位职责")]
            if cat["difficulty"] == "complex" and rng.random() < PARK_P_HARD:
                row.update(status="parked", parked_at=at)
                return [ev("park", "parked", "CC01", dept, "长期无法解决, 挂账")]
            first = _py(row["dispatched_at"]) or at
            row.update(
                status="pending_check",
                disposed_at=at,
                disposal_work_hours=round(float(self.cal.work_hours_between(first, at)), 3),
            )
            return [ev("dispose", "pending_check", "CC01", dept)]
        if status == "pending_check":
            dept = _py(row["department_id"])
            pool = self.verifiers.get(int(row["street_id"]))
            verifier = str(rng.choice(pool)) if pool is not None and len(pool) else None
            if rng.random() < REWORK_P:
                row.update(status="in_disposal", rework_count=int(row.get("rework_count") or 0) + 1)
                return [ev("check_fail", "in_disposal", verifier, dept, "核查不通过, 返工")]
            sat = None
            if row["channel"] in ("hotline", "app"):
                sat = str(rng.choice(["satisfied", "basic", "unsatisfied"], p=[0.79, 0.13, 0.08]))
            row.update(status="closed", verified_at=at, closed_at=at, verifier_id=verifier, satisfaction=sat)
            return [
                ev("check_pass", "pending_check", verifier, dept),
                dict(ev("close", "closed", "CC01", dept), from_status="pending_check"),
            ]
        return []

    # --- catch-up and loop ------------------------------------------------------------------------------------------
    def catch_up(self, now: datetime, max_hours: float = 48.0, step_minutes: int = 15) -> dict:
        """Simulate the gap since the data's last timestamp (at most ``max_hours``) at real speed."""
        if now - self.clock > timedelta(hours=max_hours):
            self.clock = now - timedelta(hours=max_hours)
        speed, self.speed = self.speed, 1.0
        total = {"new": 0, "moved": 0, "events": 0}
        try:
            t = self.clock
            while t < now:
                t = min(t + timedelta(minutes=step_minutes), now)
                for k, v in self.step(t).items():
                    total[k] = total.get(k, 0) + v
        finally:
            self.speed = speed
        return total


def _py(v):
    """numpy / pandas scalars → plain Python values for the DBAPI."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    return v


def run(
    engine: Engine,
    speed: float = 1.0,
    interval: float = 5.0,
    ticks: int | None = None,
    catch_up_hours: float = 48.0,
    now=local_now,
) -> dict:
    """Catch up, then tick until ``ticks`` ticks are done or SIGINT/SIGTERM arrives. Returns the totals."""
    world = LiveWorld(engine, speed=speed)
    caught = world.catch_up(now(), max_hours=catch_up_hours)
    log.info("caught up: %s", caught)
    stop = {"flag": False}

    def _stop(signum, _frame):
        stop["flag"] = True

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)} if _main_thread() else {}
    try:
        done = 0
        while not stop["flag"] and (ticks is None or done < ticks):
            if done or ticks is None:
                _sleep(interval, stop)
            if stop["flag"]:
                break
            out = world.step(now())
            for k, v in out.items():
                world.stats[k] += v
            world.stats["ticks"] += 1
            done += 1
            log.info("tick %d: %s", done, out)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return {"caught_up": caught, **world.stats}


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _sleep(seconds: float, stop: dict) -> None:
    end = time.monotonic() + seconds
    while not stop["flag"] and time.monotonic() < end:
        time.sleep(min(0.2, max(end - time.monotonic(), 0)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m seed.live", description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: setting db_url)")
    ap.add_argument("--speed", type=float, default=1.0, help="world time per real time (e.g. 60)")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between ticks")
    ap.add_argument("--once", action="store_true", help="catch up, run one tick and exit")
    ap.add_argument("--ticks", type=int, help="run this many ticks and exit")
    ap.add_argument("--catch-up-hours", type=float, default=48.0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = make_engine(args.db, read_only=False)
    try:
        totals = run(
            engine,
            speed=args.speed,
            interval=args.interval,
            ticks=1 if args.once else args.ticks,
            catch_up_hours=args.catch_up_hours,
        )
    finally:
        engine.dispose()
    print(f"seed.live stopped: {totals}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
