"""Who may see what (权限): the ONE table of roles → pages, and the checks every page runs first.

- ``app.py`` registers only the pages a viewer's role allows (``allowed_pages``): the others do not exist for them
  (``st.navigation`` only serves registered pages).
- Each page starts with ``require_page("<key>")``: it refuses to render (``st.stop``) when reached anyway, and
  narrows the page's URL parameters to the viewer's scope: a street head only ever sees their street (the global
  street filter is forced), a department head only opens case files of their own department.
- ``scope_of(user)`` is what each role may see INSIDE a page, as a ``reports.access.Scope`` the screen models and
  panels filter by (flags of a street head's street only, case lists of a department head's department only, counts
  and no case lists or personal ids for the wall kiosk). Pages ask ``viewer_scope()``; never a role name.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from reports import access as scope
from reports.access import COUNTS_ONLY, DISTRICT, Scope
from ui.auth import User, current_user, role_label
from ui.db import get_engine
from ui.i18n import catalog
from ui.live import live_cache, resilient
from ui.params import int_param
from ui.safe import plain

ALL_PAGES = "*"
# Role → page keys of app.PAGES. Leaders see everything, also pages added later; every other role sees only what
# is listed (a new page stays hidden from them until it is added here).
PAGE_ACCESS: dict[str, frozenset[str] | str] = {
    "leader": ALL_PAGES,
    # all rankings (部门考评); case files of their own department only (forced in require_page)
    "department_head": frozenset({"wall", "departments", "backlog"}),
    # their street only: the street filter is forced
    "street_head": frozenset({"wall", "map", "backlog"}),
    # read-only kiosk: no forms; counts and aggregates only, no case lists or files, no personal ids (scope_of)
    "wall": frozenset({"wall", "map", "departments"}),
}

T = catalog("access")


def scope_of(user: User | None) -> Scope:
    """THE role → scope rule (what a viewer sees inside the pages PAGE_ACCESS lets them open): leaders the district,
    a department head case lists and files of their department (all rankings and counts stay visible), a street
    head their street, the wall kiosk (and anything unknown) counts and aggregates only."""
    if user is None:
        return COUNTS_ONLY
    if user.role == "leader":
        return DISTRICT
    if user.role == "department_head" and user.department_id is not None:
        return Scope(department_id=user.department_id)
    if user.role == "street_head" and user.street_id is not None:
        return Scope(street_id=user.street_id)
    return COUNTS_ONLY


def viewer_scope() -> Scope:
    """The signed-in viewer's scope (``scope_of(current_user())``)."""
    return scope_of(current_user())


def may_see(user: User | None, page: str) -> bool:
    allowed = PAGE_ACCESS.get(user.role) if user else None
    return allowed == ALL_PAGES or (allowed is not None and page in allowed)


def allowed_pages(pages: dict, user: User | None) -> dict:
    """The subset of app.py's PAGES this user may open (order kept)."""
    return {key: page for key, page in pages.items() if may_see(user, key)}


def _scoped_notice(name: str, value) -> None:
    st.toast(T("scoped", name=plain(name), value=plain(str(value)[:40])), icon=":material/lock:")


def force_street(user: User | None) -> None:
    """Before the sidebar filters are built: a street head's URL always names their own street."""
    if user is None or user.street_id is None:
        return
    wanted = st.query_params.get("street")
    if wanted not in (None, "", str(user.street_id)):
        _scoped_notice("street", wanted)
    st.query_params["street"] = str(user.street_id)
    _force_filters(user)


def _force_filters(user: User) -> None:
    from ui.shell import current_filters

    if user.street_id is not None:
        st.session_state["filters"] = replace(current_filters(), street_id=user.street_id)


# --- scope lookups (cached; a failed lookup denies) ------------------------------------------------------------------
@live_cache(ttl=600, max_entries=64)
def _units_of_street(street_id: int) -> dict:
    return scope.units_of_street(get_engine(), street_id)


@live_cache(ttl=600, max_entries=256)
def _case_owner(case_id: int) -> dict | None:
    """The street and department of one case (None when it does not exist)."""
    return scope.case_owner(get_engine(), case_id)


MAX_ID = 999_999_999  # ids in URLs (?community=, ?grid=, ?case=): 1 … 9 digits


def id_param(name: str) -> int | None:
    """A unit or case id from the URL (``?grid=``, ``?case=`` …) through the one parser (``ui.params``), for the
    scope checks and the pages alike, so a page opens exactly what the check saw. A value that is not an id is
    ignored with the usual notice and dropped from the URL."""
    value = int_param(name, 1, MAX_ID)
    if value is None and st.query_params.get(name) not in (None, ""):
        st.query_params.pop(name, None)
    return value


def department_scope(user: User | None) -> int | None:
    """The one department whose cases ``user`` may list (a department head's), else None (no restriction)."""
    return scope_of(user).department_id


def case_allowed(user: User, case_id: int) -> bool:
    """May ``user`` open the case file of ``case_id``? Leaders yes, the wall never, the others within their scope."""
    allowed = scope_of(user)
    if allowed == DISTRICT:
        return True
    if not allowed.case_lists:
        return False
    owner = resilient(_case_owner, case_id)
    return owner.ok and scope.covers_case(allowed, owner.value)  # unknown case or database down: deny


def _scope_backlog(user: User) -> None:
    if user.role == "street_head":
        units = resilient(_units_of_street, user.street_id)
        for name, kind in (("community", "communities"), ("grid", "grids")):
            value = id_param(name)
            if value is not None and not (units.ok and value in units.value[kind]):
                _scoped_notice(name, value)
                st.query_params.pop(name, None)
    case_id = id_param("case")
    if case_id is not None and not case_allowed(user, case_id):
        _scoped_notice("case", case_id)
        st.query_params.pop("case", None)


def _scope_departments(user: User) -> None:
    if user.role != "department_head":
        return
    from ui.reference import department_table

    depts = resilient(department_table)
    own = depts.value.loc[depts.value["id"] == user.department_id, "code"] if depts.ok else []
    if len(own) == 0:  # cannot tell which department is theirs: show nothing rather than someone else's
        st.error(T("forbidden", role=role_label(user.role)), icon=":material/block:")
        st.stop()
    code = str(own.iloc[0])
    if st.query_params.get("dept") not in (None, code):
        _scoped_notice("dept", st.query_params.get("dept"))
    st.query_params["dept"] = code
    st.session_state.pop("url_dept", None)  # the picker (ui.params.url_selectbox) starts again from ?dept= (their own)


SCOPES = {"backlog": _scope_backlog, "departments": _scope_departments}


def require_page(page: str) -> User:
    """First line of every page: stop unless the viewer's role may see ``page``; narrow the URL to their scope."""
    user = current_user()
    if user is None:
        st.warning(T("not_signed_in"), icon=":material/lock:")
        st.stop()
    if not may_see(user, page):
        st.error(T("forbidden", role=role_label(user.role) or "—"), icon=":material/block:")
        st.stop()
    if user.role != "leader":
        if user.street_id is not None:
            _force_filters(user)
        scope = SCOPES.get(page)
        if scope is not None:
            scope(user)
    return user
