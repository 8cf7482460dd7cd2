"""选择性上报预警: flags for suspected selective reporting — flag list, evidence cards, funnel plots, reviews.

A flag is "worth a look" (疑似 / 建议核查), never proof: the card lists the innocent explanations to rule out first.
The worker computes the flags once an hour and stores them; this page reads the stored result
(``ui.flags_cache.flag_bundle``), asks the screen models of ``reports.reporting`` what to show and lays it out.
Reviews are the page's only write. ``?flag=unit_type:unit_id:family`` opens a flag's card.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.clock import local_now
from reports import reporting as rp
from ui import flag_figures as ff
from ui import flags_cache as fc
from ui.access import require_page
from ui.db import get_engine, get_writer
from ui.flag_figures import FT, family_text, unit_text
from ui.i18n import catalog
from ui.live import live_cache, panel, resilient
from ui.params import choice_param
from ui.safe import plain
from ui.shell import current_filters

require_page("reporting")  # 权限: stops here unless the viewer's role may see this page

T = catalog("reporting")


# --- cached loaders: the screen models over the stored result (``stamp``: its computed_at, so a new one is new) ----
@live_cache(ttl=30)
def flag_list(stamp, street_id: int | None) -> rp.FlagList:
    return rp.flag_list(get_engine(), rp.ReportingParams(street_id=street_id), bundle=fc.flag_bundle(), now=local_now())


@live_cache(ttl=600)
def evidence_card(stamp, flag: str) -> rp.EvidenceCard | None:
    return rp.evidence_card(get_engine(), rp.ReportingParams(flag=flag), bundle=fc.flag_bundle(), now=local_now())


@live_cache(ttl=600)
def flag_cases(stamp, flag: str) -> pd.DataFrame:
    return rp.flag_cases(get_engine(), rp.ReportingParams(flag=flag), bundle=fc.flag_bundle(), now=local_now())


@live_cache(ttl=30)
def review_history(flag: str) -> pd.DataFrame:
    return rp.review_history(get_engine(), rp.ReportingParams(flag=flag), now=local_now())


@live_cache(ttl=600)
def funnel(stamp, params: rp.FunnelParams) -> rp.FunnelModel:
    return rp.funnel(get_engine(), params, bundle=fc.flag_bundle(), now=local_now())


# --- the evidence card ----------------------------------------------------------------------------------------------
def cases_section(card: rp.EvidenceCard, stamp) -> None:
    st.markdown(f"**{T('cases', n=rp.CASES_LIMIT)}** · {T('cases_' + card.cases_kind)}")
    loaded = resilient(flag_cases, stamp, card.flag_id)
    if not loaded.ok or loaded.value.empty:
        st.caption(T("cases_none") if loaded.ok else plain(loaded.error or "—"))
        return
    table = ff.cases_table(loaded.value)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(36 + 35 * len(table), 290),
        column_config={T("open_case"): st.column_config.LinkColumn(display_text=T("view"))},
    )


def review_section(card: rp.EvidenceCard, bundle) -> None:
    st.markdown(f"**{T('review')}**")
    from ui.auth import current_user

    user = current_user()
    # Who: the signed-in user when there are logins; in the demo (no login) a typed name, remembered per session.
    signed_in = user.name if user is not None and user.source not in ("demo", "kiosk") and user.name else None
    with st.form(f"review_{card.flag_id}", clear_on_submit=True, border=False):
        if signed_in:
            st.caption(T("reviewer_signed_in", name=plain(signed_in)))
            reviewer = signed_in
        else:
            reviewer = st.text_input(
                T("reviewer"),
                value=st.session_state.get("flag_reviewer", ""),
                max_chars=rp.REVIEWER_MAX,
                help=T("reviewer_help"),
            )
        decision = st.radio(T("decision"), rp.REVIEW_STATUSES, format_func=ff.status_text, horizontal=True)
        note = st.text_area(T("note"), max_chars=rp.NOTE_MAX, height=90, help=T("note_help", n=rp.NOTE_MAX))
        submitted = st.form_submit_button(T("submit"), icon=":material/rate_review:")
    if submitted:
        if not signed_in:
            st.session_state["flag_reviewer"] = (reviewer or "").strip()[: rp.REVIEWER_MAX]
        outcome, detail = rp.save_review(
            get_writer(),
            rp.ReportingParams(flag=card.flag_id),
            bundle=bundle,
            status=decision,
            note=note,
            reviewer=reviewer,
            now=local_now(),
        )
        if outcome == "saved":
            flag_list.clear()
            review_history.clear()
            fc.forget_reviews()  # the wall's cache of reviews too
            st.toast(T("saved"), icon=":material/check:")
        else:
            st.error(T(outcome, error=plain(detail)), icon=":material/error:")
    past = resilient(review_history, card.flag_id)
    st.markdown(f"**{T('past')}**")
    if not past.ok or past.value.empty:
        st.caption(T("past_none") if past.ok else plain(past.error or "—"))
        return
    st.dataframe(
        ff.review_table(past.value), hide_index=True, width="stretch", height=min(36 + 35 * len(past.value), 220)
    )


def evidence_section(card: rp.EvidenceCard, bundle, stamp) -> None:
    with st.container(border=True):
        badge = {"red": "red", "amber": "orange"}.get(card.level, "gray")
        kind = f" · {FT(card.unit_type)}" if card.unit_type in rp.AREA_TYPES else ""
        st.markdown(
            f":{badge}-badge[{FT(card.level)}] **{plain(unit_text(card.unit_type, card.name, card.shown_id))}**"
            f"{kind} · {family_text(card.family)}"
        )
        st.markdown(f"##### {T('title_' + card.level, family=FT('fam_' + card.family))}")
        st.markdown(f"**{T('observed')}**  \n{ff.observed_text(card)}")
        st.markdown(f"**{T('chance')}**  \n{T('chance_' + card.chance)}")
        st.caption(ff.stats_text(card))
        st.markdown(f"**{T('trend')}**")
        if len(card.trend) >= 2:
            st.plotly_chart(
                ff.make_indicator_trend_figure(card.trend, card.value_kind, height=190),
                width="stretch",
                config={"displayModeBar": False},
                key=f"trend_{card.flag_id}",
            )
        else:
            st.caption(T("trend_none"))
        with panel():
            cases_section(card, stamp)
        st.markdown(f"**{T('innocent')}**")
        st.warning(T(f"innocent_{card.family}") + " " + T("not_proof"), icon=":material/fact_check:")
        with panel():
            review_section(card, bundle)


def funnel_tab(model: rp.FlagList, family: str, pick: str | None, stamp) -> None:
    indicators = model.funnel_indicators(family)
    first_ind, first_type = model.funnel_default(family, pick)
    left, right = st.columns([2, 1])
    ind = left.selectbox(
        T("indicator"),
        indicators,
        index=indicators.index(first_ind),
        key=f"funnel_ind_{family}",
        format_func=ff.indicator_text,
    )
    types = model.funnel_unit_types(family, ind)
    unit_type = (
        right.radio(
            T("unit_type"),
            types,
            index=types.index(first_type) if first_type in types else 0,
            format_func=FT,
            horizontal=True,
            key=f"funnel_type_{family}",
        )
        if len(types) > 1
        else types[0]
    )
    loaded = resilient(funnel, stamp, rp.FunnelParams(family, ind, unit_type, pick))
    if not loaded.ok:
        st.caption(plain(loaded.error or "—"))
        return
    if not loaded.value.proportion:
        st.caption(T("standardised"))
    st.plotly_chart(
        ff.make_funnel_figure(loaded.value, height=400),
        width="stretch",
        config={"displayModeBar": False},
        key=f"funnel_{family}",
    )


# --- page -------------------------------------------------------------------------------------------------------------
st.subheader(T("title"))
st.caption(T("intro"))
try:
    bundle = fc.flag_bundle(block=True)
    loaded = resilient(flag_list, bundle.computed_at, current_filters().street_id)
    if not loaded.ok:
        raise RuntimeError(loaded.error or "—")
except Exception as err:  # noqa: BLE001 - the page says why, never a traceback
    st.error(
        T("unavailable", error=plain(str(err).splitlines()[0][:200] if str(err) else type(err).__name__)),
        icon=":material/warning:",
    )
    st.stop()
fc.show_freshness(bundle)
stamp, model = bundle.computed_at, loaded.value
start, end = model.window
st.caption(
    T(
        "window",
        start=f"{start:%Y-%m-%d}",
        end=f"{end:%Y-%m-%d}",
        days=(end - start).days,
        at=f"{model.computed_at:%Y-%m-%d %H:%M}",
    )
)
m = st.columns(4)
m[0].metric(T("m_red"), model.n_red, help=T("m_red_help"))
m[1].metric(T("m_amber"), model.n_amber, help=T("m_amber_help"))
m[2].metric(T("m_reviewed"), model.n_reviewed)
m[3].metric(T("m_insufficient"), len(model.thin))

left, right = st.columns([1.1, 1], gap="medium")
pick = None
with left:
    st.markdown(f"**{T('list')}**")
    if model.people_hidden:
        st.caption(T("people_hidden"))
    flags = model.flags
    if flags.empty:
        st.info(T("no_flags"), icon=":material/info:")
    else:
        if model.personal:
            st.caption(T("personal"))
        picked = st.dataframe(
            ff.flag_table(flags),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            height=min(38 + 35 * len(flags), 460),
            selection_mode="single-row",
            key="flag_list",
        )
        keys = list(flags["flag_id"])
        rows = list(picked.selection.rows) if picked and picked.selection else []
        # A row clicked in the list drives the picker (once per click, so the picker stays usable).
        if rows and rows != st.session_state.get("_flag_rows_applied"):
            st.session_state["flag_pick"] = keys[rows[0]]
        st.session_state["_flag_rows_applied"] = rows
        if "flag_pick" not in st.session_state:  # a shared link (?flag=) opens its card
            st.session_state["flag_pick"] = choice_param("flag", keys) or keys[0]
        elif st.session_state["flag_pick"] not in keys:  # e.g. another street chosen meanwhile
            st.session_state["flag_pick"] = keys[0]
        pick = st.selectbox(
            T("pick"), keys, format_func=ff.flag_labels(flags).get, key="flag_pick", help=T("pick_hint")
        )
        st.query_params["flag"] = pick  # the URL holds the flag id, not the picker's words
    # The funnels sit under the list (on the open flag's family): the evidence card on the right is the long column.
    st.markdown(f"**{T('funnels')}**")
    st.caption(T("funnel_hint"))
    if model.families:
        tabs = st.tabs([family_text(f) for f in model.families], default=family_text(model.funnel_family(pick)))
        for tab, fam in zip(tabs, model.families):
            with tab, panel():
                funnel_tab(model, fam, pick, stamp)
with right:
    card = resilient(evidence_card, stamp, pick) if pick else None
    if card is not None and card.ok:
        st.markdown(f"**{T('card')}**")
        evidence_section(card.value, bundle, stamp)
with st.expander(f"{T('insufficient')} · {model.thin_counts['street'] + model.thin_counts['community']}"):
    st.caption(T("insufficient_hint"))
    c = model.thin_counts
    st.markdown(
        T(
            "insufficient_counts",
            street=c["street"],
            community=c["community"],
            verifier=c["verifier"],
            app=c["app_reporter"],
        )
    )
    if len(model.thin):
        st.dataframe(
            ff.thin_table(model.thin), hide_index=True, width="stretch", height=min(36 + 35 * len(model.thin), 260)
        )
with st.expander(T("method")):
    st.markdown(T("method_text"))
