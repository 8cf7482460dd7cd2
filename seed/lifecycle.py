"""Vectorised case lifecycle (docs/domain.md §2): every case's stage times, its events, and its state at world end.

Stage times after the report run on the working-hour clock (``WorkCalendar.work_seconds``): a delay of d working
hours is ``from_work_seconds(w + d·3600)``, so every 立案/派遣/处置/核查 timestamp falls inside working hours and
deadlines are honest working-hour deadlines. Each case's whole future is drawn at once; what happened after the
world's end is cut off, which leaves a realistic backlog (some overdue, some 挂账) at the end.
"""

from __future__ import annotations

import numpy as np

from seed.world import APP, HOTLINE, MEDIA, PATROL, SENSOR, SUPERIOR, VIDEO, World

NEVER = np.int64(2**62)  # "did not happen" on the epoch-second axis (always after the world's end)

STATUS_KEYS = (
    "pending_verify",
    "pending_register",
    "pending_dispatch",
    "in_disposal",
    "pending_check",
    "closed",
    "self_handled",
    "parked",
    "force_closed",
    "cancelled",
)
(S_VERIFY, S_REGISTER, S_DISPATCH, S_DISPOSAL, S_CHECK, S_CLOSED, S_SELF, S_PARKED, S_FORCE, S_CANCELLED) = range(10)
ACTION_KEYS = (
    "report",
    "verify",
    "cancel",
    "self_handle",
    "register",
    "dispatch",
    "return",
    "redispatch",
    "escalate",
    "extend",
    "park",
    "force_close",
    "dispose",
    "check_fail",
    "check_pass",
    "close",
)
A = {k: i for i, k in enumerate(ACTION_KEYS)}
SATISFACTION_KEYS = ("satisfied", "basic", "unsatisfied")
OPERATORS = np.array([f"CC{i:02d}" for i in range(1, 9)], dtype=object)  # command-centre operators (受理/立案/派遣)
# 核实 finds nothing / not in scope: 作废 share per channel
CANCEL_P = {PATROL: 0.0, HOTLINE: 0.07, APP: 0.05, VIDEO: 0.12, SENSOR: 0.15, SUPERIOR: 0.0, MEDIA: 0.05}
PUBLIC_VERIFY = (HOTLINE, APP, VIDEO, SENSOR, MEDIA)  # reports confirmed on site (核实) before 立案


def _wadd(cal, w, hours):
    return w + np.round(np.asarray(hours, dtype=float) * 3600).astype(np.int64)


def _to_s(cal, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Working-clock values → epoch seconds where ``mask`` (NEVER elsewhere)."""
    out = np.full(len(w), NEVER, dtype=np.int64)
    if mask.any():
        out[mask] = cal.from_work_seconds(w[mask]).astype(np.int64)
    return out


def simulate(world: World, cases: dict, ids: np.ndarray, cal, rng, end_s: int) -> tuple[dict, dict]:
    """Lifecycle of ``cases`` (sorted by report time) with ids ``ids``; returns (case columns, events)."""
    n = len(ids)
    ch, cat, grid, t0 = cases["channel"], cases["cat"], cases["grid"], cases["t"].astype(np.int64)
    street = world.grid_street[grid]
    hard = world.cat_hard[cat]
    limit = world.cat_limit_h[cat]
    u = lambda: rng.random(n)  # noqa: E731
    pub = np.isin(ch, PUBLIC_VERIFY)
    w0 = cal.work_seconds(t0.astype("datetime64[s]"))

    # actors
    inspector = world.inspector_ids[grid]
    vpick = np.array([world.street_verifiers[s][0] for s in range(world.n_streets)])
    vcount = np.array([len(world.street_verifiers[s]) for s in range(world.n_streets)])
    verifier = vpick[street] + (rng.random(n) * vcount[street]).astype(int)
    fake = np.isin(verifier, list(world.plan.fake_verifiers)) if world.plan.fake_verifiers else np.zeros(n, bool)
    operator = OPERATORS[rng.integers(0, len(OPERATORS), n)]

    # departments: the category's department, or the street office of the case's street
    dept = np.where(world.cat_dept[cat] > 0, world.cat_dept[cat], world.street_office_id[street])

    # --- branches -------------------------------------------------------------------------------------------------
    p_self = np.where(cases["padding"], 0.5, world.cfg.self_handle_share / 0.93)
    self_h = (ch == PATROL) & ~hard & (u() < p_self)
    cancel = ~self_h & (u() < np.vectorize(CANCEL_P.get)(ch) * np.where(cases["farmer"] >= 0, 0.1, 1.0))
    flow = ~self_h & ~cancel  # cases that enter 立案/派遣
    ret = flow & (u() < np.where(hard, 0.10, 0.025) * world.dept_return[dept])
    ret2 = ret & (u() < 0.1)  # bounced twice
    ext = flow & (u() < np.where(hard, 0.12, 0.012))
    park = flow & hard & (u() < 0.03)
    esc = flow & hard & ~park & (u() < 0.15)
    late = flow & (u() < world.dept_late[dept, hard.astype(int)] * np.where(esc, 1.3, 1.0))
    force = flow & hard & late & ~park & (u() < 0.08)
    rework = flow & ~park & ~force & ~fake & (u() < np.where(hard, 0.05, 0.025))

    # --- stage times (working clock) ----------------------------------------------------------------------------------
    t_self = t0 + rng.integers(300, 2400, n)
    w_ver = _wadd(cal, w0, 0.1 + rng.exponential(1.5, n))
    w_reg = _wadd(cal, np.where(pub, w_ver, w0), 0.05 + rng.exponential(0.4, n))
    w_disp0 = _wadd(cal, w_reg, 0.05 + rng.exponential(0.5, n))
    w_ret = _wadd(cal, w_disp0, 0.2 + rng.exponential(3.0, n))
    w_ret2 = _wadd(cal, w_ret, 0.5 + rng.exponential(3.0, n))  # second bounce (from the redispatched dept)
    w_disp = np.where(ret, _wadd(cal, np.where(ret2, w_ret2, w_ret), 0.1 + rng.exponential(1.0, n)), w_disp0)
    # disposal time D from the latest dispatch: on time (within the effective limit) or late
    eff_limit = limit * np.where(ext, 2.0, 1.0)
    on_time_d = np.where(ext, limit * rng.uniform(0.9, 1.95, n), limit * rng.beta(1.3, 2.6, n))
    late_d = eff_limit * (1.02 + rng.exponential(0.45, n))
    D = np.maximum(np.where(late, late_d, on_time_d), 0.03)
    w_final = _wadd(cal, w_disp, D)
    w_ext = _wadd(cal, w_disp, D * rng.uniform(0.1, 0.3, n))
    w_esc = _wadd(cal, w_disp, D * rng.uniform(0.05, 0.3, n))
    w_park = _wadd(cal, w_disp, D * rng.uniform(0.35, 0.9, n))
    w_first = _wadd(cal, w_disp, D * rng.uniform(0.35, 0.7, n))
    check_delay = np.where(fake, rng.uniform(1 / 60, 4 / 60, n), 0.2 + rng.exponential(1.0, n))
    w_fail = w_first + np.minimum(np.round(check_delay * 3600).astype(np.int64), (w_final - w_first) // 2)
    w_check = _route_checks(
        world, cal, _wadd(cal, w_final, check_delay), verifier, fake, grid, cases["point"], flow & ~park & ~force
    )
    w_close = _wadd(cal, w_check, 0.02 + rng.exponential(0.3, n))

    S = lambda w, m: _to_s(cal, w, m)  # noqa: E731
    t_ver = S(w_ver, pub & ~self_h)
    t_reg = S(w_reg, flow)
    t_disp0 = S(w_disp0, flow)
    t_ret = S(w_ret, ret)
    t_ret2 = S(w_ret2, ret2)
    t_redisp1 = S(_wadd(cal, w_ret, 0.1), ret2)  # first redispatch of a twice-bounced case
    t_disp = S(w_disp, flow)
    t_ext = S(w_ext, ext & ~park & ~force)
    t_esc = S(w_esc, esc)
    t_park = S(w_park, park)
    t_force = S(w_final, force)
    disposed_ok = flow & ~park & ~force
    t_first = S(w_first, rework)
    t_fail = S(w_fail, rework)
    t_final = S(w_final, disposed_ok)
    t_check = S(w_check, disposed_ok)
    t_close = S(w_close, disposed_ok)
    t_self = np.where(self_h, t_self, NEVER)
    t_cancel = np.where(cancel, np.where(pub, t_ver, t0 + 600), NEVER)
    t_ver = np.where(cancel, NEVER, t_ver)

    # wrong departments for 回退: another department of the same kind of work
    n_dept = len(world.departments)
    wrong = 1 + (dept - 1 + rng.integers(1, n_dept, n)) % n_dept
    wrong2 = 1 + (dept - 1 + rng.integers(1, n_dept, n)) % n_dept
    # the hard-only department (H1) is never sent simple cases, not even by mistake
    office = world.street_office_id[street]
    wrong = np.where((wrong == world.hard_only_id) & ~hard, np.where(office != dept, office, 1 + dept % n_dept), wrong)
    wrong2 = np.where(
        (wrong2 == world.hard_only_id) & ~hard, np.where(office != dept, office, 1 + dept % n_dept), wrong2
    )

    # --- events --------------------------------------------------------------------------------------------------
    reporter_actor = np.where(ch == PATROL, inspector, cases["reporter"])
    ev = []

    def add(mask, at, action, frm, to, actor, dept_col=None, note=None):
        m = mask & (at <= end_s)
        if m.any():
            ev.append(
                (
                    np.flatnonzero(m),
                    at[m],
                    action,
                    frm if np.isscalar(frm) else frm[m],
                    to if np.isscalar(to) else to[m],
                    actor[m],
                    None if dept_col is None else dept_col[m],
                    note,
                )
            )

    first_status = np.where(pub, S_VERIFY, S_REGISTER)
    add(np.ones(n, bool), t0, A["report"], -1, first_status, reporter_actor)
    add(self_h, t_self, A["self_handle"], S_REGISTER, S_SELF, inspector, note="监督员自行处置")
    add(cancel, t_cancel, A["cancel"], first_status, S_CANCELLED, inspector, note="核实: 问题不存在或不属受理范围")
    add(pub & flow, t_ver, A["verify"], S_VERIFY, S_REGISTER, inspector)
    add(flow, t_reg, A["register"], S_REGISTER, S_DISPATCH, operator)
    add(flow, t_disp0, A["dispatch"], S_DISPATCH, S_DISPOSAL, operator, np.where(ret, wrong, dept))
    add(ret, t_ret, A["return"], S_DISPOSAL, S_DISPATCH, operator, np.where(ret, wrong, dept), note="非本单位职责")
    add(ret2, t_redisp1, A["redispatch"], S_DISPATCH, S_DISPOSAL, operator, wrong2)
    add(ret2, t_ret2, A["return"], S_DISPOSAL, S_DISPATCH, operator, wrong2, note="非本单位职责")
    add(ret, t_disp, A["redispatch"], S_DISPATCH, S_DISPOSAL, operator, dept)
    add(esc, t_esc, A["escalate"], S_DISPOSAL, S_DISPOSAL, operator, dept, note="街镇无法解决, 提交区级协调")
    add(ext & ~park & ~force, t_ext, A["extend"], S_DISPOSAL, S_DISPOSAL, operator, dept, note="申请延期获批")
    add(park, t_park, A["park"], S_DISPOSAL, S_PARKED, operator, dept, note="长期无法解决, 挂账")
    add(force, t_force, A["force_close"], S_DISPOSAL, S_FORCE, operator, dept, note="强制结案")
    add(rework, t_first, A["dispose"], S_DISPOSAL, S_CHECK, operator, dept)
    add(
        rework,
        t_fail,
        A["check_fail"],
        S_CHECK,
        S_DISPOSAL,
        world.verifier_ids[verifier],
        dept,
        note="核查不通过, 返工",
    )
    add(disposed_ok, t_final, A["dispose"], S_DISPOSAL, S_CHECK, operator, dept)
    add(disposed_ok, t_check, A["check_pass"], S_CHECK, S_CHECK, world.verifier_ids[verifier], dept)
    add(disposed_ok, t_close, A["close"], S_CHECK, S_CLOSED, operator, dept)
    # the department column of dispatch-like events is a full-length array only where given
    events = _stack_events(ev, ids)

    # --- the case row as of the world's end ---------------------------------------------------------------------------
    def upto(t):
        return np.where(t <= end_s, t, NEVER)

    last_dispatch = np.maximum.reduce(
        [
            np.where(upto(t_disp0) < NEVER, t_disp0, -1),
            np.where(upto(t_redisp1) < NEVER, t_redisp1, -1),
            np.where(upto(t_disp) < NEVER, t_disp, -1),
        ]
    )
    dispatched = last_dispatch >= 0
    dept_now = np.where(
        upto(t_disp) < NEVER, dept, np.where(upto(t_redisp1) < NEVER, wrong2, np.where(ret, wrong, dept))
    )
    returned_now = (upto(t_ret) < NEVER).astype(int) + (upto(t_ret2) < NEVER).astype(int)
    # a bounced case waiting for redispatch has no department (and no deadline) for now
    waiting = dispatched & (
        (upto(t_ret) < NEVER) & (upto(t_redisp1) == NEVER) & (upto(t_disp) == NEVER)
        | (upto(t_ret2) < NEVER) & (upto(t_disp) == NEVER)
    )
    dispatched &= ~waiting
    last_dispatch = np.where(dispatched, last_dispatch, NEVER)
    deadline = np.full(n, NEVER)
    if dispatched.any():
        wl = cal.work_seconds(last_dispatch[dispatched].astype("datetime64[s]"))
        deadline[dispatched] = cal.from_work_seconds(wl + np.round(limit[dispatched] * 3600).astype(np.int64)).astype(
            np.int64
        )
    ext_now = upto(t_ext) < NEVER
    ext_deadline = np.full(n, NEVER)
    if ext_now.any():
        wd = cal.work_seconds(deadline[ext_now].astype("datetime64[s]"))
        ext_deadline[ext_now] = cal.from_work_seconds(wd + np.round(limit[ext_now] * 3600).astype(np.int64)).astype(
            np.int64
        )
    disposed = np.where(upto(t_final) < NEVER, t_final, upto(t_first))
    disposed = np.where((upto(t_fail) < NEVER) & (upto(t_final) == NEVER), NEVER, disposed)  # back in 返工
    first_w = cal.work_seconds(np.where(t_disp0 < NEVER, t_disp0, t0).astype("datetime64[s]"))
    disp_w = cal.work_seconds(np.where(disposed < NEVER, disposed, t0).astype("datetime64[s]"))
    closed = np.minimum.reduce([upto(t_close), upto(t_self), upto(t_cancel), upto(t_force)])
    public_voice = np.isin(ch, (HOTLINE, APP))
    sat_u = rng.random(n)
    late_now = disposed_ok & late
    p_sat = np.where(late_now, 0.5, 0.8)
    p_basic = np.where(late_now, 0.25, 0.13)
    satisfaction = np.where(sat_u < p_sat, 0, np.where(sat_u < p_sat + p_basic, 1, 2))
    has_sat = public_voice & (upto(t_close) < NEVER)

    cols = dict(
        id=ids,
        channel=ch,
        cat=cat,
        grid=grid,
        point=cases["point"],
        t0=t0,
        reporter=np.where(ch == PATROL, None, cases["reporter"]),
        inspector=np.where((ch == PATROL) | (pub & (t_ver < NEVER)) | (pub & cancel), inspector, None),
        verifier=np.where(upto(t_check) < NEVER, world.verifier_ids[verifier], None),
        registered=upto(t_reg),
        dispatched=last_dispatch,
        disposed=disposed,
        verified=upto(t_check),
        closed=closed,
        parked=upto(t_park),
        deadline=deadline,
        ext_deadline=ext_deadline,
        disposal_wh=np.where(disposed < NEVER, (disp_w - first_w) / 3600.0, np.nan),
        department=np.where(dispatched, dept_now, 0),
        return_count=returned_now,
        rework_count=(upto(t_fail) < NEVER).astype(int),
        extension_count=ext_now.astype(int),
        escalated=upto(t_esc) < NEVER,
        satisfaction=np.where(has_sat, satisfaction, -1),
    )
    return cols, events


def _stack_events(ev: list, ids: np.ndarray) -> dict:
    """Concatenate per-action event arrays and order them by (case, time, lifecycle order)."""
    idx = np.concatenate([e[0] for e in ev])
    at = np.concatenate([e[1] for e in ev])
    k = [len(e[0]) for e in ev]
    action = np.repeat([e[2] for e in ev], k).astype(np.int8)
    frm = np.concatenate([np.broadcast_to(e[3], (len(e[0]),)) for e in ev]).astype(np.int8)
    to = np.concatenate([np.broadcast_to(e[4], (len(e[0]),)) for e in ev]).astype(np.int8)
    actor = np.concatenate([e[5] for e in ev])
    dept = np.concatenate([np.zeros(len(e[0]), np.int64) if e[6] is None else e[6] for e in ev])
    notes = np.array([e[7] for e in ev], dtype=object)
    note = np.repeat(notes, k)
    order = np.lexsort((action_rank(action), at, idx))
    return dict(
        case_id=ids[idx[order]],
        at=at[order],
        action=action[order],
        frm=frm[order],
        to=to[order],
        actor=actor[order],
        dept=dept[order],
        note=note[order],
        case_idx=idx[order],
    )


_RANK = np.array([ACTION_KEYS.index(a) for a in ACTION_KEYS])


def action_rank(action: np.ndarray) -> np.ndarray:
    """Tie-break for events at the same second: lifecycle order."""
    return _RANK[action]


def _route_checks(
    world: World,
    cal,
    w_want: np.ndarray,
    verifier: np.ndarray,
    fake: np.ndarray,
    grid: np.ndarray,
    point: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """Honest verifiers travel: each check waits for the previous one plus the trip (20 km/h + 5 min on site).

    Fake verifiers (G6) are left at their instant times, which makes their travel impossible."""
    w = w_want.copy()
    sel = np.flatnonzero(mask & ~fake)
    if not len(sel):
        return w
    order = sel[np.lexsort((w_want[sel], verifier[sel]))]
    xy = world.geo.point_xy[grid[order], point[order]]
    v = verifier[order]
    want = w_want[order]
    dist = np.r_[0.0, np.hypot(*(xy[1:] - xy[:-1]).T)]
    trip = np.round((dist / 20.0 * 3600) + 300).astype(np.int64)
    out = want.copy()
    prev_v, prev_t = -1, 0
    # A scan in plain Python: one step per check, fast enough (≈1 s per million checks).
    out_list, want_list, trip_list, v_list = out.tolist(), want.tolist(), trip.tolist(), v.tolist()
    for i in range(len(out_list)):
        if v_list[i] == prev_v:
            t = max(want_list[i], prev_t + trip_list[i])
        else:
            t = want_list[i]
        out_list[i] = t
        prev_v, prev_t = v_list[i], t
    w[order] = np.array(out_list, dtype=np.int64)
    return w
