"""Roles and sign-in (issue 10, "Access"): which pages each role gets, pages refusing to render when reached anyway,
street and department scopes, the wall without personal data, local argon2 accounts, the proxy header and the
kiosk token. Pages run in AppTest over a small world built in code (SQLite)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.clock import local_now
from data_access.engine import make_engine
from data_access.migrate import upgrade
from tests.builders import add_case, make_reference
from tests.conftest import clear_app_caches
from ui import access, auth

ROOT = Path(__file__).resolve().parent.parent
PHONE = "13912345678"  # a reporter's phone number: personal data the wall must never show
ROLES = {"boss": "leader", "wang": "department_head:2", "li": "street_head:1", "screen": "wall", "guest": "visitor"}


def _clear():
    clear_app_caches()


@pytest.fixture
def world(tmp_path, monkeypatch):
    """2 streets, 3 departments; cases in both streets for departments 1 and 2 (ids in the returned dict)."""
    url = f"sqlite:///{tmp_path / 'access.db'}"
    engine = make_engine(url, read_only=False)
    upgrade(engine)
    make_reference(engine)
    now = local_now()
    cases = {}
    for grid, dept in ((11, 1), (11, 2), (31, 1), (31, 2)):  # grid 11: street 1, grid 31: street 2
        cases[(grid, dept)] = add_case(
            engine,
            grid_id=grid,
            department_id=dept,
            reported_at=now - timedelta(hours=5),
            dispatched_at=now - timedelta(hours=5),
            channel="hotline",
            deadline_at=now + timedelta(hours=4),
            reporter_id=PHONE,
            address=f"地址{grid}-{dept}",
            events=[dict(at=now - timedelta(hours=5), action="report", to_status="pending_verify", actor_id=PHONE)],
        )
    engine.dispose()
    monkeypatch.setenv("GRIDSCOPE_DB_URL", url)
    _clear()
    yield {"url": url, "cases": cases}
    _clear()


@pytest.fixture
def proxy(monkeypatch):
    """Proxy mode with a stand-in for the reverse proxy: ``proxy("li")`` makes the next runs arrive as user li."""
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "proxy")
    monkeypatch.setenv("GRIDSCOPE_AUTH_ROLES", json.dumps(ROLES))
    headers = {}
    monkeypatch.setattr(auth, "request_headers", lambda: dict(headers))

    def as_user(name: str | None):
        headers.clear()
        if name:
            headers["x-forwarded-user"] = name

    return as_user


def app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def page(name: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def registered(at: AppTest) -> set[str]:
    """The registered pages by file stem (the sign-in gate, a function, as 'login')."""
    return {
        Path(info["script_path"]).stem
        if str(info.get("script_path", "")).endswith(".py") and "/pages/" in str(info["script_path"])
        else "login"
        for info in at._registered_pages.values()
    }


def rendered_text(at: AppTest) -> str:
    """Everything a viewer could read: text elements and every dataframe cell."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "text",
        "title",
        "header",
        "subheader",
        "metric",
        "info",
        "warning",
        "error",
        "success",
        "toast",
        "table",
    ):
        for el in getattr(at, kind, []):
            parts.append(str(getattr(el, "value", "")))
            parts.append(str(getattr(el, "label", "")))
    for df in at.dataframe:
        parts.append(df.value.to_csv())
    parts += [el.proto.body for el in at.get("html")]  # the wall's panels (st.html)
    return "\n".join(parts)


# --- the table -----------------------------------------------------------------------------------------------------------
def test_every_role_has_an_entry_and_only_known_pages():
    from ui.shell import PAGE_TITLES

    assert set(access.PAGE_ACCESS) == set(auth.ROLES)
    for role, pages in access.PAGE_ACCESS.items():
        if pages != access.ALL_PAGES:
            assert pages <= set(PAGE_TITLES.keys()), role
            assert "wall" in pages, role  # the default page exists for everybody
    assert not {"backlog", "reporting", "weekly", "data_quality"} & access.PAGE_ACCESS["wall"]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("leader", ("leader", None, None)),
        ("department_head:3", ("department_head", 3, None)),
        ("street_head:12", ("street_head", None, 12)),
        ("wall", ("wall", None, None)),
        ("admin", None),
        ("leader:1", None),
        ("street_head:", None),
        ("street_head:1 OR 1=1", None),
        ("department_head:²", None),
        (None, None),
        (7, None),
    ],
)
def test_role_specs(spec, expected):
    user = auth.parse_role("x", spec, "test")
    assert (None if user is None else (user.role, user.department_id, user.street_id)) == expected


# --- navigation per role -------------------------------------------------------------------------------------------------
def test_demo_mode_everyone_is_leader_with_a_visible_marker(world):
    at = app()
    assert not at.exception
    assert registered(at) == {"wall", "map", "backlog", "departments", "reporting", "weekly", "data_quality"}
    assert any("未启用登录" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize(
    "name, pages",
    [
        ("boss", {"wall", "map", "backlog", "departments", "reporting", "weekly", "data_quality"}),
        ("wang", {"wall", "departments", "backlog"}),
        ("li", {"wall", "map", "backlog"}),
    ],
)
def test_navigation_registers_only_the_roles_pages(world, proxy, name, pages):
    proxy(name)
    at = app()
    assert not at.exception
    assert registered(at) == pages
    assert any(name in c.value for c in at.sidebar.caption)  # who is signed in is shown
    assert "城市运行态势" in rendered_text(at)  # the default page rendered


def test_unregistered_page_cannot_be_switched_to(world, proxy):
    proxy("li")
    at = app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/data_quality.py")


def test_no_identity_or_no_role_shows_only_the_sign_in_gate(world, proxy):
    for who, message in ((None, "X-Forwarded-User"), ("guest", "尚未分配"), ("stranger", "尚未分配")):
        proxy(who)
        at = app()
        assert not at.exception
        assert registered(at) == {"login"}, who
        assert any(message in e.value for e in at.error), who
        assert "城市运行态势" not in rendered_text(at)


def test_proxy_header_is_ignored_unless_proxy_mode(world, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "local")
    monkeypatch.setattr(auth, "request_headers", lambda: {"x-forwarded-user": "boss"})
    at = app()
    assert registered(at) == {"login"} and at.text_input  # a sign-in form, not boss's dashboard


@pytest.mark.parametrize(
    "name, forbidden",
    [
        ("li", ["data_quality", "departments", "reporting", "weekly"]),
        ("wang", ["data_quality", "map", "reporting", "weekly"]),
    ],
)
def test_pages_refuse_to_render_when_reached_anyway(world, proxy, name, forbidden):
    proxy(name)
    for key in forbidden:
        at = page(key)
        assert not at.exception, key
        assert any("无权查看" in e.value for e in at.error), key
        # nothing but the refusal: the page stopped before its first element
        assert len(at.main.children) <= 2 and not at.dataframe, key


# --- scopes --------------------------------------------------------------------------------------------------------------
def test_street_head_is_held_to_their_street(world, proxy):
    proxy("li")
    at = app({"street": "2"})
    assert not at.exception
    assert at.query_params["street"] == ["1"] or at.query_params["street"] == "1"
    assert any("street=2" in t.value for t in at.toast)
    assert at.session_state["filters"].street_id == 1


def test_street_head_cannot_open_another_streets_grid_or_case(world, proxy):
    proxy("li")
    other = world["cases"][(31, 1)]
    at = app({"grid": "31", "case": str(other)})
    at.switch_page("pages/backlog.py").run()
    assert not at.exception
    text = rendered_text(at)
    assert "地址31-1" not in text and "案件详情" not in text
    assert any("grid=31" in t.value for t in at.toast) and any(f"case={other}" in t.value for t in at.toast)
    own = world["cases"][(11, 2)]
    at = app({"grid": "11", "case": str(own)})
    at.switch_page("pages/backlog.py").run()
    assert "地址11-2" in rendered_text(at) and any("案件详情" in m.value for m in at.markdown)


def test_department_head_opens_only_their_departments_case_files(world, proxy):
    proxy("wang")  # department 2
    for (grid, dept), case_id in world["cases"].items():
        at = app({"grid": str(grid), "case": str(case_id)})
        at.switch_page("pages/backlog.py").run()
        assert not at.exception
        shown = any("案件详情" in m.value for m in at.markdown)
        assert shown == (dept == 2), (grid, dept)


def test_leader_opens_any_case_file(world, proxy):
    proxy("boss")
    case_id = world["cases"][(31, 1)]
    at = app({"grid": "31", "case": str(case_id)})
    at.switch_page("pages/backlog.py").run()
    assert any("案件详情" in m.value for m in at.markdown)


def test_department_head_sees_their_own_department_on_the_scorecard(world, proxy):
    proxy("wang")
    at = app({"dept": "cg"})
    at.switch_page("pages/departments.py").run()
    assert not at.exception
    assert at.query_params.get("dept") in ("lh", ["lh"])  # department 2 = 绿化市容局 (code lh)


# --- the wall: kiosk role, read-only, no personal data ----------------------------------------------------------------------
def test_kiosk_is_the_wall_role_in_demo_mode(world):
    at = app({"embed": "true"})
    assert not at.exception
    assert registered(at) == set(access.PAGE_ACCESS["wall"])


def test_kiosk_needs_the_wall_token_when_sign_in_is_on(world, proxy, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_WALL_TOKEN", "s3cret-wall")
    proxy(None)
    assert registered(app({"embed": "true"})) == {"login"}
    assert registered(app({"embed": "true", "wall_token": "wrong"})) == {"login"}
    at = app({"embed": "true", "wall_token": "s3cret-wall"})
    assert not at.exception and registered(at) == set(access.PAGE_ACCESS["wall"])


def test_wall_role_never_shows_reporter_data(world):
    at = app({"embed": "true", "grid": "11"})
    texts = [rendered_text(at)]
    for key in sorted(access.PAGE_ACCESS["wall"] - {"wall"}):
        at.switch_page(f"pages/{key}.py").run()
        assert not at.exception, key
        texts.append(rendered_text(at))
    assert not any(PHONE in t for t in texts)
    # … while a leader's case file does show it (so the check above can see it when present)
    at = app({"grid": "11", "case": str(world["cases"][(11, 1)])})
    at.switch_page("pages/backlog.py").run()
    assert PHONE in rendered_text(at)


# --- local accounts ---------------------------------------------------------------------------------------------------
def test_local_accounts_store_only_argon2_hashes(tmp_path):
    path = tmp_path / "users.toml"
    auth.add_user("zhang", "correct horse", "department_head", department_id=2, path=path)
    auth.add_user('赵"六', "pw2", "street_head", street_id=1, path=path)
    text = path.read_text()
    assert "correct horse" not in text and "$argon2id$" in text
    assert oct(path.stat().st_mode)[-3:] == "600"
    user = auth.authenticate("zhang", "correct horse", path)
    assert (user.role, user.department_id, user.street_id) == ("department_head", 2, None)
    assert auth.authenticate('赵"六', "pw2", path).street_id == 1
    assert auth.authenticate("zhang", "wrong", path) is None
    assert auth.authenticate("nobody", "correct horse", path) is None
    with pytest.raises(ValueError):
        auth.add_user("x", "pw", "department_head", path=path)  # no department
    with pytest.raises(ValueError):
        auth.add_user("x", "pw", "admin", path=path)
    assert auth.remove_user("zhang", path) and auth.authenticate("zhang", "correct horse", path) is None


def test_cli_add_user(tmp_path, monkeypatch, capsys):
    import io

    path = tmp_path / "u.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert auth.main(["add-user", "boss", "--role", "leader", "--password-stdin", "--file", str(path)]) == 0
    assert auth.authenticate("boss", "s3cret", path).role == "leader"
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    assert auth.main(["add-user", "li", "--role", "street_head", "--password-stdin", "--file", str(path)]) == 2
    assert auth.main(["list", "--file", str(path)]) == 0
    assert re.search(r"boss\tleader", capsys.readouterr().out)


def test_local_sign_in_form_and_sign_out(world, tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    auth.add_user("li", "pw-li", "street_head", street_id=1, path=path)
    monkeypatch.setenv("GRIDSCOPE_AUTH_MODE", "local")
    monkeypatch.setenv("GRIDSCOPE_AUTH_USERS_FILE", str(path))
    at = app()
    assert registered(at) == {"login"}
    at.text_input[0].input("li")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("错误" in e.value for e in at.error) and registered(at) == {"login"}
    at.text_input[0].input("li")
    at.text_input[1].input("pw-li")
    at.button[0].click().run()
    assert not at.exception
    assert registered(at) == {"wall", "map", "backlog"}
    assert at.session_state["filters"].street_id == 1
    at.sidebar.button[0].click().run()  # 退出登录
    assert auth.SESSION_KEY not in at.session_state
    assert "城市运行态势" not in rendered_text(at)  # the page it was on refuses to render
    assert registered(app()) == {"login"}


HOSTILE = ["'; DROP TABLE cases; --", "1 OR 1=1", "２", "-1", "9" * 40, "<script>x</script>", "%00"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_scope_parameters_are_ignored(world, proxy, hostile):
    proxy("li")
    at = app({"street": hostile, "grid": hostile, "case": hostile, "community": hostile, "wall_token": hostile})
    at.switch_page("pages/backlog.py").run()
    assert not at.exception
    assert at.session_state["filters"].street_id == 1
    assert "案件详情" not in rendered_text(at)


# --- scope on every panel (issue 16, finding 6) ----------------------------------------------------------------------
VERIFIER, APP_ACCOUNT = "V7788", "A00623-8056"  # personal ids in flags: a verifier's and an app account's
VIEWERS = {"leader": "boss", "department_head": "wang", "street_head": "li", "wall": None}  # None: the kiosk


def _flag(unit_type, unit_id, street_id, family, level, q):
    return dict(
        unit_type=unit_type,
        unit_id=unit_id,
        street_id=street_id,
        family=family,
        level=level,
        unit_level=level,
        q=q,
        q_family=q,
        family_p=q / 10,
        p=q / 100,
        persistent=False,
        backed=True,
        enough=True,
        indicator=None,
        observed=None,
        expected=None,
    )


@pytest.fixture
def scoped(world):
    """``world`` plus overdue cases with addresses, returns with notes (departments 1 and 2, both streets) and
    stored flags about both streets, a community of street 2, a verifier and an app account."""
    from reports import flags
    from reports.flags import FlagBundle, FlagReport

    engine = make_engine(world["url"], read_only=False)
    now = local_now()
    for grid, dept in ((11, 1), (11, 2), (31, 1), (31, 2)):
        add_case(
            engine,
            grid_id=grid,
            department_id=dept,
            reported_at=now - timedelta(days=2),
            dispatched_at=now - timedelta(days=2),
            deadline_at=now - timedelta(hours=3),
            address=f"超期地址{grid}-{dept}",
            events=[
                dict(
                    at=now - timedelta(days=2),
                    action="report",
                    to_status="pending_verify",
                    department_id=None,
                    note=None,
                ),
                dict(
                    at=now - timedelta(hours=30),
                    action="return",
                    to_status="pending_dispatch",
                    department_id=dept,
                    note=f"退回说明{grid}-{dept}",
                ),
            ],
        )
    for dept in (1, 2, 3):  # disposed within the week: every department is on the scorecard
        add_case(
            engine,
            department_id=dept,
            status="closed",
            reported_at=now - timedelta(days=3),
            dispatched_at=now - timedelta(days=3),
            deadline_at=now,
            disposed_at=now - timedelta(days=2),
        )
    frame = pd.DataFrame(
        [
            _flag("street", 1, 1, "A", "red", 0.001),
            _flag("street", 2, 2, "A", "red", 0.002),
            _flag("community", 3, 2, "B", "amber", 0.01),
            _flag("verifier", VERIFIER, None, "C", "red", 0.003),
            _flag("app_reporter", APP_ACCOUNT, None, "D", "amber", 0.02),
        ]
    )
    start = datetime(now.year, now.month, now.day) - timedelta(days=60)
    report = FlagReport(flags=frame, indicators=frame.iloc[:0], window=(start, start + timedelta(days=60)), config=None)
    flags.store(engine, FlagBundle(report, frame.iloc[:0], start + timedelta(days=60), now.replace(tzinfo=None), 1.0))
    engine.dispose()
    _clear()
    return world


def as_viewer(proxy, role: str, monkeypatch, query: dict | None = None) -> AppTest:
    """The app as ``role`` sees it: signed in through the proxy header, or the kiosk for the wall role."""
    if role == "wall":
        monkeypatch.setenv("GRIDSCOPE_WALL_TOKEN", "t0ken")
        proxy(None)
        query = {"embed": "true", "wall_token": "t0ken", **(query or {})}
    else:
        proxy(VIEWERS[role])
    return app(query)


def flags_panel(at: AppTest) -> str:
    """The wall's flags panel (st.html) and the flags tile of the KPI strip."""
    return "\n".join(el.proto.body for el in at.get("html") if "选择性上报预警" in el.proto.body)


def everything(at: AppTest) -> str:
    """``rendered_text`` plus the map's deck (points and their case numbers travel to the browser)."""
    return rendered_text(at) + "\n".join(el.proto.json for el in at.get("deck_gl_json_chart"))


# what each role's wall flags panel names (street 1 = 测试街道1, street 2 = 测试街道2, community 3 in street 2)
PANEL = {
    "leader": ({"测试街道1", "测试街道2", VERIFIER}, set()),
    "department_head": ({"测试街道1", "测试街道2", VERIFIER}, set()),
    "street_head": ({"测试街道1"}, {"测试街道2", "测试社区3", VERIFIER, "核查员", "APP"}),
    "wall": ({"测试街道1", "测试街道2"}, {VERIFIER, APP_ACCOUNT[:2] + "…" + APP_ACCOUNT[-2:]}),
}


@pytest.mark.parametrize("role", list(VIEWERS))
def test_wall_flags_panel_is_held_to_the_viewers_scope(scoped, proxy, monkeypatch, role):
    at = as_viewer(proxy, role, monkeypatch)
    assert not at.exception
    panel = flags_panel(at)
    shown, hidden = PANEL[role]
    assert all(name in panel for name in shown), (role, panel)
    assert not any(name in panel for name in hidden), (role, panel)
    tile = next(el.proto.body for el in at.get("html") if "疑似 " in el.proto.body and "建议核查 " in el.proto.body)
    red, amber = (1, 0) if role == "street_head" else (3, 2)
    assert f"疑似 {red}" in tile and f"建议核查 {amber}" in tile, (role, tile)


# Never on any page a role may open: other streets' or departments' case lists, addresses, return notes; the wall
# role: no case list, address, note, case number or personal id at all.
FORBIDDEN = {
    "leader": (),
    "department_head": ("超期地址11-1", "超期地址31-1", "退回说明11-1", "退回说明31-1"),
    "street_head": ("地址31-", "退回说明31-", "测试街道2", "测试社区3", VERIFIER),
    "wall": ("地址", "退回说明", "T000", VERIFIER, PHONE),
}


def this_week(dept: str) -> dict:
    """The departments page on ``dept`` for the running week (where the fixture's cases are)."""
    today = local_now().date()
    return {"dept": dept, "period": "week", "start": (today - timedelta(days=today.weekday())).isoformat()}


QUERIES = {  # each page opened where its case lists are
    "wall": {},
    "map": {"grid": "31", "points": "p_7d"},
    "backlog": {"grid": "31"},
    "departments": this_week("cg"),
    "reporting": {},
    "weekly": {},
    "data_quality": {},
}


@pytest.mark.parametrize("role", list(VIEWERS))
def test_no_page_shows_a_role_what_is_outside_its_scope(scoped, proxy, monkeypatch, role):
    pages = access.PAGE_ACCESS[role]
    pages = set(QUERIES) if pages == access.ALL_PAGES else pages
    assert pages <= set(QUERIES), "a page without a scope test"
    for key in sorted(pages):
        at = as_viewer(proxy, role, monkeypatch, QUERIES[key])
        if key != "wall":
            at.switch_page(f"pages/{key}.py").run()
        assert not at.exception, (role, key)
        text = everything(at)
        leaked = [marker for marker in FORBIDDEN[role] if marker in text]
        assert not leaked, (role, key, leaked)


def test_the_checks_above_can_see_what_they_look_for(scoped, proxy, monkeypatch):
    """A leader sees every marker (so their absence above means something)."""
    seen = ""
    for key, query in (("map", {"grid": "31"}), ("departments", this_week("cg")), ("backlog", {"grid": "31"})):
        at = as_viewer(proxy, "leader", monkeypatch, query)
        at.switch_page(f"pages/{key}.py").run()
        seen += everything(at)
    for marker in ("超期地址31-1", "退回说明31-1", "T000", "测试街道2"):
        assert marker in seen, marker


def test_wall_role_sees_counts_not_case_lists_on_the_departments_page(scoped, proxy, monkeypatch):
    at = as_viewer(proxy, "wall", monkeypatch, this_week("lh"))
    at.switch_page("pages/departments.py").run()
    assert not at.exception
    assert not any("地址" in str(df.value.columns) for df in at.dataframe)
    assert {"超期未处置案件（当前）", "本期回退案件"} <= {m.label for m in at.metric}  # the counts stay


def test_wall_role_map_drill_down_shows_counts_only(scoped, proxy, monkeypatch):
    at = as_viewer(proxy, "wall", monkeypatch, {"grid": "11"})
    at.switch_page("pages/map.py").run()
    assert not at.exception
    assert any("网格11" in m.value for m in at.markdown)  # the drill-down line with its counts
    assert not at.dataframe and "地址" not in everything(at)


def test_department_head_cannot_pick_another_departments_case_lists(scoped, proxy, monkeypatch):
    at = as_viewer(proxy, "department_head", monkeypatch, this_week("lh"))
    at.switch_page("pages/departments.py").run()
    picker = next(s for s in at.selectbox if s.key == "url_dept")
    assert set(picker.options) <= {"绿化市容局"}, picker.options  # only their own department on offer
    if "cg" in (picker.options or []):
        picker.set_value("cg").run()
    text = everything(at)
    assert "超期地址11-2" in text and "超期地址11-1" not in text


def test_street_head_map_never_lists_another_streets_grid(scoped, proxy, monkeypatch):
    at = as_viewer(proxy, "street_head", monkeypatch, {"grid": "31"})
    at.switch_page("pages/map.py").run()
    assert not at.exception
    assert "地址31-" not in everything(at)
    at = as_viewer(proxy, "street_head", monkeypatch, {"grid": "11"})
    at.switch_page("pages/map.py").run()
    assert "超期地址11-1" in everything(at)  # their own grid's list


def test_scope_of_every_role_is_decided_in_one_table():
    from reports.access import COUNTS_ONLY, DISTRICT, Scope

    assert access.scope_of(auth.User("b", "leader")) == DISTRICT
    assert access.scope_of(auth.User("w", "department_head", department_id=2)) == Scope(department_id=2)
    assert access.scope_of(auth.User("l", "street_head", street_id=1)) == Scope(street_id=1)
    for user in (auth.User("s", "wall"), auth.User("x", "visitor"), auth.User("y", "street_head"), None):
        assert access.scope_of(user) == COUNTS_ONLY, user  # anything unknown or incomplete: counts only
    assert set(access.PAGE_ACCESS) == {"leader", "department_head", "street_head", "wall"}  # all covered above


def test_flags_in_scope_keeps_a_streets_own_units_only():
    from reports.access import COUNTS_ONLY, DISTRICT, Scope
    from reports.flags import in_scope, shows_person

    frame = pd.DataFrame(
        [_flag("street", 1, 1, "A", "red", 0.1), _flag("street", 2, 2, "A", "red", 0.1)]
        + [_flag("community", 3, 2, "B", "red", 0.1), _flag("community", 1, 1.0, "B", "red", 0.1)]
        + [
            _flag("verifier", VERIFIER, None, "C", "red", 0.1),
            _flag("app_reporter", APP_ACCOUNT, None, "D", "red", 0.1),
        ]
    )
    assert len(in_scope(frame, DISTRICT)) == len(in_scope(frame, COUNTS_ONLY)) == 6
    mine = in_scope(frame, Scope(street_id=1))
    assert list(zip(mine["unit_type"], mine["unit_id"])) == [("street", 1), ("community", 1)]
    assert in_scope(frame.iloc[:0], Scope(street_id=1)).empty
    assert shows_person("street", COUNTS_ONLY) and not shows_person("verifier", COUNTS_ONLY)
    assert shows_person("app_reporter", DISTRICT)
