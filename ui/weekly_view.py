"""The 周例会 page's presentation: the weekly model's frames and codes as display tables and a figure, worded from
the ``weekly`` catalog in the viewer's language (the meeting pack words the same model from ``pack``:
``ui.meeting_pack``). Pure functions of the model: no Streamlit calls, no queries."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reports import weekly as rw
from ui.i18n import catalog, label, name_column
from ui.meeting_pack import fmt_delta, fmt_value
from ui.safe import plain

T = catalog("weekly")


def points(value: str) -> str:
    """A change of a rate in percentage points ("+0.4 pp")."""
    return T("delta_pp", value=value)


def metric(row) -> tuple[dict, str]:
    """``st.metric`` arguments and the caption (vs the 4-week average) of one row of ``Headline.changes``."""
    return (
        {
            "label": T(f"k_{row.key}"),
            "value": fmt_value(row.key, row.value),
            "delta": fmt_delta(row.key, row.delta_prev, points),
            "help": T(f"h_{row.key}"),
            "delta_color": "inverse" if row.key in rw.LOWER_IS_BETTER else "normal",
        },
        T("avg4", value=fmt_value(row.key, row.avg4), delta=fmt_delta(row.key, row.delta_avg, points) or "—"),
    )


def agenda_table(departments: pd.DataFrame) -> pd.DataFrame:
    d = departments
    return pd.DataFrame(
        {
            T("department"): d[name_column("name")],
            T("overdue"): d["overdue"],
            T("disposed"): d["disposed"],
            T("ontime_rate"): d["ontime_rate"].map(lambda v: fmt_value("ontime_rate", v)),
            T("returned"): d["returned"],
            T("reworked"): d["reworked"],
            T("escalated"): d["escalated"],
            T("repeats"): d["repeats"],
            T("open_items"): d["open_items"],
        }
    )


def department_summary(row) -> str:
    return T(
        "dept_summary",
        overdue=int(row["overdue"]),
        rate=fmt_value("ontime_rate", row["ontime_rate"]),
        returned=int(row["returned"]),
        reworked=int(row["reworked"]),
        escalated=int(row["escalated"]),
        repeats=int(row["repeats"]),
    )


def case_tables(cases: dict[str, pd.DataFrame], repeat_days: int) -> list[tuple[str, pd.DataFrame]]:
    """(heading, table) of one department's overdue cases, returned/reworked/escalated cases and repeats."""
    od, ev, rp = cases["overdue"], cases["events"], cases["repeats"]
    cat = name_column("category")
    return [
        (
            T("overdue_cases"),
            pd.DataFrame(
                {
                    T("case_no"): od["case_no"],
                    T("category"): od[cat],
                    T("address"): od["address"],
                    T("deadline"): od["deadline"],
                    T("days_overdue"): od["days_overdue"],
                }
            ),
        ),
        (
            T("event_cases"),
            pd.DataFrame(
                {
                    T("case_no"): ev["case_no"],
                    T("step"): ev["action"].map(lambda a: label("actions", a)),
                    T("at"): ev["at"],
                    T("category"): ev[cat],
                    T("note"): ev["note"],
                }
            ),
        ),
        (
            T("repeat_cases", n=repeat_days),
            pd.DataFrame(
                {
                    T("new_case"): rp.get("case_no", []),
                    T("first_case"): rp.get("first_case_no", []),
                    T("closed_at"): rp.get("first_closed_at", []),
                    T("category"): rp.get(cat, []),
                    T("grid"): rp.get("grid", []),
                    T("address"): rp.get("address", []),
                    T("days_after"): rp.get("days_after", []),
                }
            ),
        ),
    ]


def places_table(places: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            T("grid"): places["grid"],
            T("address"): places["address"],
            T("cases"): places["n"],
            T("top_category"): places[name_column("top_category")],
        }
    )


def make_heat_figure(grid: pd.DataFrame) -> go.Figure:
    """Weekday × hour heat map of a ``reports.weekly.heat_grid``."""
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(range(24)),
            y=T("weekdays").split(","),
            colorscale="Oranges",
            hovertemplate="%{y} %{x}:00 · %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(autorange="reversed"),
        xaxis=dict(dtick=2, ticksuffix=":00"),
    )
    return fig


def flags_table(flags: pd.DataFrame) -> pd.DataFrame:
    """The new flags (``FlagsSection.flags``): unit, family, level, what (e.g. 疑似隐瞒复杂案件)."""
    family = flags["family"].map(lambda c: T(f"fam_{c}"))
    return pd.DataFrame(
        {
            T("unit"): flags["unit"],
            T("family"): family,
            T("level"): flags["level"].map(lambda c: T(f"level_{c}")),
            T("what"): [T(f"flag_title_{lv}", family=f) for lv, f in zip(flags["level"], family)],
        }
    )


def item_status(r) -> str:
    if r.status_in_week == "done":
        return T("st_done")
    text = T("st_carried", n=int(r.weeks_open)) if r.carried else T("st_new")
    return text + (f" · {T('st_late')}" if r.overdue else "")


def items_table(items: pd.DataFrame, names: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            T("item_id"): items["id"],
            T("department"): items["department_id"].map(names),
            T("text"): items["text"],
            T("due"): items["due_date"],
            T("status"): [item_status(r) for r in items.itertuples()],
            T("from_week"): items["created_week"],
            T("linked"): items["linked_case_nos"].map(", ".join),
            T("done_note"): items["done_note"],
        }
    )


def history_table(hist: pd.DataFrame) -> pd.DataFrame:
    """``reports.weekly.item_history`` with its coded notes and recorders worded."""
    return pd.DataFrame(
        {
            T("item_id"): hist["item_id"],
            T("at"): hist["at"],
            T("week"): hist["week"],
            T("step"): hist["action"].map(lambda a: T(f"h_{a}")),
            T("note"): [
                T(f"note_{k}", **a) if k else n for k, a, n in zip(hist["note_key"], hist["note_args"], hist["note"])
            ],
            T("who"): [T(f"who_{k}") if isinstance(k, str) else w for k, w in zip(hist["who_key"], hist["who"])],
        }
    )


def rejected(err: rw.ActionItemError) -> str:
    """Why an action item input was refused, in the viewer's language."""
    return T(f"err_{err.code}", field=T(f"field_{err.field}"), **{k: plain(v) for k, v in err.values.items()})
