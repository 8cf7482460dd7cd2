"""AppTest of the flags page (选择性上报预警) and the wall's flags panel on a tiny seeded world (SQLite).

The world is built once per module and the flags are computed once, as the worker does (``reports.flags.
compute_and_store``): the pages only read the stored result. Streamlit's caches and the last-good values are cleared
between tests.
"""

from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine, event, func, select
from streamlit.testing.v1 import AppTest

from core.clock import local_now
from data_access import reviews
from data_access.engine import make_engine
from data_access.schema import FlagReview
from reports import flags
from reports.access import DISTRICT
from tests.conftest import clear_app_caches
from ui import flags_cache

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/reporting.py"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory, tiny_world_url):
    from tests.conftest import copy_world

    url = copy_world(tiny_world_url, tmp_path_factory.mktemp("reporting"))  # reviews are written: a private copy
    flags_cache.clear()
    writer = make_engine(url, read_only=False)
    flags.compute_and_store(writer, local_now())  # the worker's job, once
    writer.dispose()
    yield url
    flags_cache.clear()


@pytest.fixture
def db(seeded_url, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_DB_URL", seeded_url)
    clear_app_caches()
    yield seeded_url
    clear_app_caches()


def _page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE)
    return at.run()


def _widget(elements, label):
    return next(w for w in elements if w.label == label)


def test_page_renders_flags_and_an_evidence_card_without_reading_seed_truth(db):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        at = _page()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert not at.exception
    assert not any("seed_truth" in s for s in statements), "the flags page must never read the planted truth"
    metrics = {m.label: m.value for m in at.metric}
    assert {"疑似", "建议核查", "本期已复核", "数据不足的街镇/社区"} <= set(metrics)
    assert int(metrics["疑似"]) + int(metrics["建议核查"]) > 0  # the tiny world has planted gaming
    assert len(at.dataframe) >= 1  # the flag list
    pick = _widget(at.selectbox, "查看证据卡")
    assert pick.options and pick.value
    text = "\n".join(md.value for md in at.markdown)
    assert "证据卡" in text and "观察到的情况" in text and "请先排除的正常原因" in text
    assert "疑似" in text or "建议核查" in text
    assert any("预警仅提示" in w.value for w in at.warning)  # "worth a look", never an accusation
    assert not any(word in text for word in ("造假者", "违规单位", "处分"))
    assert len(at.tabs) >= 2  # one funnel per family
    # The card's words come from the catalogs (analytics returns codes): title, what was seen, chance.
    card = flags.active_flags(flags_cache.flag_bundle().report.flags).iloc[0]
    family = {"A": "隐瞒复杂案件", "B": "冲量", "C": "核查造假", "D": "刷单套奖"}[card["family"]]
    assert f"疑似{family}" in text or f"建议核查：疑似{family}" in text
    assert "类似单元通常为" in text and "在类似单元中偶然出现的概率低于" in text


def test_a_link_opens_its_flag_and_the_funnel_of_its_family(db):
    active = flags.active_flags(flags_cache.flag_bundle(block=True).report.flags)
    last = active[active["family"] != "A"].iloc[-1]  # not the first tab
    wanted = f"{last['unit_type']}:{reviews.unit_key(last['unit_id'])}:{last['family']}"
    at = _page({"flag": wanted})
    assert not at.exception
    assert _widget(at.selectbox, "查看证据卡").value == wanted
    tab = next(t for t in at.tabs if t.label.startswith(last["family"]))
    assert tab.selectbox[0].value == last["indicator"]  # the funnel starts on the flag's lead indicator
    if len(tab.radio):
        assert tab.radio[0].value == last["unit_type"]
    bad = _page({"flag": "street:no-such:A"})
    assert not bad.exception and _widget(bad.selectbox, "查看证据卡").value != "street:no-such:A"


def test_flags_are_sorted_strongest_first(db):
    bundle = flags_cache.flag_bundle(block=True)
    active = flags.active_flags(bundle.report.flags)
    levels = list(active["level"])
    assert levels == sorted(levels, key=["red", "amber"].index)
    for level in ("red", "amber"):
        q = active.loc[active["level"] == level, "q"].to_numpy()
        assert (q[:-1] <= q[1:]).all()


def test_a_review_is_stored_and_shown_on_later_views(db):
    at = _page()
    card = _widget(at.selectbox, "查看证据卡").value
    _widget(at.text_input, "复核人").input("王核查")
    _widget(at.radio, "结论").set_value("dismissed")
    _widget(at.text_area, "说明").input("专项整治期间巡查力量调整'); DROP TABLE cases; --")
    _widget(at.button, "保存复核").click()
    at.run()
    assert not at.exception
    assert not at.error
    tables = [d.value for d in at.dataframe]
    assert any("专项整治期间巡查力量调整'); DROP TABLE cases; --" in t.astype(str).to_string() for t in tables)
    engine = make_engine(db)
    with engine.connect() as conn:
        row = conn.execute(
            select(FlagReview.unit_type, FlagReview.unit_id, FlagReview.family, FlagReview.status, FlagReview.reviewer)
        ).one()
    engine.dispose()
    assert f"{row.unit_type}:{row.unit_id}:{row.family}" == card
    assert row.status == "dismissed" and row.reviewer == "王核查"
    # a new viewer of the same flag sees the review and the reviewed count
    st.cache_data.clear()
    later = _page({"flag": card})
    assert not later.exception
    assert _widget(later.selectbox, "查看证据卡").value == card
    assert any("王核查" in d.value.astype(str).to_string() for d in later.dataframe)
    assert {m.label: m.value for m in later.metric}["本期已复核"] == "1"


def test_a_review_without_a_reviewer_is_refused_with_a_message(db):
    at = _page()
    _widget(at.text_area, "说明").input("没有署名")
    _widget(at.button, "保存复核").click()
    at.run()
    assert not at.exception
    assert any("未保存" in e.value for e in at.error)
    engine = make_engine(db)
    with engine.connect() as conn:
        notes = conn.execute(
            select(func.count()).select_from(FlagReview).where(FlagReview.note == "没有署名")
        ).scalar_one()
    engine.dispose()
    assert notes == 0


def test_page_in_english(db):
    at = _page({"lang": "en"})
    assert not at.exception
    assert any("Selective-reporting flags" in h.value for h in at.subheader)
    assert "Suspected" in [m.label for m in at.metric]
    text = "\n".join(md.value for md in at.markdown)
    assert "What was seen" in text and "similar units typically" in text and "By chance in fewer than" in text
    assert "Suspected: " in text or "Worth a look: " in text
    own_words = (
        [h.value for h in at.subheader]
        + [m.label for m in at.metric]
        + [w.value for w in at.warning]
        + [b.label for b in at.selectbox]
        + [e.label for e in at.expander]
    )
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(own_words)), own_words


def _wall_text(at) -> str:
    return "\n".join(
        [md.value for md in at.markdown] + [c.value for c in at.caption] + [el.proto.body for el in at.get("html")]
    )  # the wall's panels (st.html)


def test_wall_shows_the_active_flag_count_and_top_three(db):
    bundle = flags_cache.flag_bundle(block=True)  # stored by the module's fixture: read, never computed
    active = flags_cache.active_flags(bundle.report.flags)
    summary = flags_cache.active_flags_summary(DISTRICT)  # the leader of the wall below (demo mode)
    # a flag dismissed by a reviewer (the review test above) no longer counts as active on the wall
    engine = make_engine(db)
    latest = reviews.latest_reviews(engine, since=bundle.report.window[0])
    engine.dispose()
    dismissed = {(r.unit_type, r.unit_id, r.family) for r in latest.itertuples() if r.status == "dismissed"}
    still = [
        k
        for k in (reviews.flag_key(r["unit_type"], r["unit_id"], r["family"]) for _, r in active.iterrows())
        if k not in dismissed
    ]
    assert summary["total"] == len(still)
    assert len(summary["top"]) == min(3, summary["total"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    text = _wall_text(at)
    assert "选择性上报预警" in text
    assert f"疑似 {summary['red']}" in text and f"建议核查 {summary['amber']}" in text
    for top in summary["top"]:
        assert top["name"] in text and top["reason"] in text


def test_wall_never_computes_and_says_when_no_result_is_stored(tiny_world_url, tmp_path, monkeypatch):
    from tests.conftest import copy_world

    def refuse(*_args, **_kwargs):
        raise AssertionError("a page computed the flags")

    monkeypatch.setattr(flags, "compute_with_history", refuse)
    monkeypatch.setenv("GRIDSCOPE_DB_URL", copy_world(tiny_world_url, tmp_path))  # no worker has run here
    clear_app_caches()
    flags_cache.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception
        text = _wall_text(at)
        assert "尚无预警结果" in text and "python -m worker" in text
        assert "计算中，" not in text
    finally:
        clear_app_caches()
        flags_cache.clear()
