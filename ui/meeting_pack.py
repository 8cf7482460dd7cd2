"""周例会材料: the weekly meeting pack as PDF (fpdf2, CJK font embedded, charts as PNG images drawn with matplotlib)
and as XLSX (one sheet per section, written by ``core.exports``: no cell becomes a formula), built from the screen model ``reports.weekly.build`` — the same
agenda, in the same order, as the page.

Every word comes from the ``pack`` catalog in the language asked for (Chinese, the meeting's language, by default;
English when the viewer's interface is English); data names (departments, categories) follow the language where the
database has both. The CJK font comes from the system (Debian ``fonts-noto-cjk``; ``GRIDSCOPE_CJK_FONT`` overrides
the path); without one, ``MissingCJKFont`` says what to install instead of printing boxes (tofu).

Also here, the number formats the page shares with the pack (``fmt_value``, ``fmt_delta``) and ``download``: the
deferred builder behind the page's download buttons.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

import pandas as pd
from sqlalchemy import Engine

from core import exports
from core import i18n as messages
from reports import weekly
from reports.weekly import WeeklyModel, WeeklyParams

# Searched in order; a .ttc is a collection, the Simplified Chinese face is picked by name.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
ROWS_PER_LIST = 15  # rows of each case list per department in the PDF (the XLSX has them all)
TOP_DEPARTMENTS = 15  # bars of the overdue chart
TOP_MAJORS = 2  # major categories with their own heat map in the PDF
PACKS_KEPT = 4  # built packs kept per process (a meeting downloads the same pack a few times)


class MissingCJKFont(RuntimeError):
    """No font with Chinese glyphs was found: the PDF would show boxes instead of text."""


class _Text:
    """The pack's words in one language: ``t("key", **values)``, plus the data-name column to show."""

    def __init__(self, lang: str | None):
        self.lang = lang if lang in messages.LANGUAGES else messages.DEFAULT_LANGUAGE

    def __call__(self, key: str, **values) -> str:
        return messages.translate("pack", key, self.lang, **values)

    def column(self, frame: pd.DataFrame, name: str):
        """``name`` or, in English when the frame has it, ``name_en`` (department, category names)."""
        english = f"{name}_en"
        return frame[english] if self.lang == "en" and english in frame else frame.get(name, pd.Series(dtype=object))

    def week_label(self, week: date) -> str:
        return self("week_label", start=f"{week:%Y-%m-%d}", end=f"{week + timedelta(days=6):%Y-%m-%d}")

    @property
    def weekdays(self) -> list[str]:
        return self("weekdays").split(",")

    def status(self, code: str) -> str:
        return messages.domain_label("statuses", code, self.lang)


# --- fonts -----------------------------------------------------------------------------------------------------------
def find_cjk_font(lang: str | None = None) -> tuple[str, int]:
    """(path, face index) of a system font with Simplified Chinese glyphs; raises ``MissingCJKFont``."""
    override = os.environ.get("GRIDSCOPE_CJK_FONT")
    for path in ([override] if override else []) + list(FONT_CANDIDATES):
        if path and Path(path).is_file():
            return path, _sc_face(path)
    raise MissingCJKFont(_Text(lang)("missing_font"))


def _sc_face(path: str) -> int:
    """Index of the Simplified Chinese face of a collection (0 for a single font)."""
    if not path.lower().endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as coll:
        names = [f["name"].getDebugName(4) or "" for f in coll.fonts]
    for i, name in enumerate(names):
        if name.endswith(" SC") or "SC " in name or "Simplified" in name:
            return i
    return 0


# --- charts (matplotlib, object API: no pyplot global state in a server) ---------------------------------------------
def _figure(width_in: float, height_in: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=130)


def _font_properties(path: str, index: int):
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    # fontManager lists every face of a collection by family name; pick the SC one when present.
    families = {f.name for f in font_manager.fontManager.ttflist if f.fname == path}
    sc = sorted(n for n in families if n.endswith(" SC") and "Mono" not in n)
    if sc:
        return font_manager.FontProperties(family=sc[0])
    return font_manager.FontProperties(fname=path)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def trend_chart(weeks: pd.DataFrame, fp, t: _Text) -> bytes:
    """New and closed cases of the weeks shown, as grouped bars (PNG)."""
    fig = _figure(7.2, 2.4)
    ax = fig.add_subplot()
    x = range(len(weeks))
    ax.bar([i - 0.2 for i in x], weeks["new"], width=0.4, label=t("chart_new"), color="#3b6ea5")
    ax.bar([i + 0.2 for i in x], weeks["closed"], width=0.4, label=t("chart_closed"), color="#7fb069")
    ax.set_xticks(list(x), [f"{w:%m-%d}" for w in weeks["week"]])
    for label in ax.get_xticklabels():
        label.set_fontproperties(fp)
    ax.legend(prop=fp, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_title(t("chart_trend", n=len(weeks)), fontproperties=fp, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def department_chart(departments: pd.DataFrame, fp, t: _Text, top: int = TOP_DEPARTMENTS) -> bytes | None:
    """Horizontal bars of 超期未处置 per department (the top ``top``), or None when nobody is overdue."""
    data = departments[departments["overdue"] > 0].nlargest(top, "overdue").iloc[::-1]
    if data.empty:
        return None
    fig = _figure(7.2, 0.25 * len(data) + 0.8)
    ax = fig.add_subplot()
    ax.barh(range(len(data)), data["overdue"], color="#c0392b")
    ax.set_yticks(range(len(data)), list(t.column(data, "name")))
    for label in ax.get_yticklabels():
        label.set_fontproperties(fp)
    for i, v in enumerate(data["overdue"]):
        ax.text(v, i, f" {int(v)}", va="center", fontsize=7)
    ax.set_title(t("chart_overdue", n=top), fontproperties=fp, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# --- formatting (shared with the page) -------------------------------------------------------------------------------
def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def fmt_value(key: str, value) -> str:
    """A headline or agenda number as shown: rates as 94.7%, counts with thousands separators (one decimal when
    fractional, e.g. an average), "—" when missing."""
    if _missing(value):
        return "—"
    if key in weekly.RATE_KEYS:
        return f"{value:.1%}"
    return f"{value:,.1f}" if abs(value - round(value)) > 1e-9 else f"{int(round(value)):,}"


def fmt_delta(key: str, value, points: Callable[[str], str]) -> str | None:
    """A change as shown: signed counts, rates in percentage points worded by ``points`` ("+0.4 pp"); None when
    missing."""
    if _missing(value):
        return None
    # Rounded first (+ 0.0 turns -0.0 into 0.0): a change too small to show is "+0", not "-0.0".
    if key in weekly.RATE_KEYS:
        return points(f"{round(value * 100, 1) + 0.0:+.1f}")
    shown = round(value, 1) + 0.0
    return f"{shown:+,.1f}" if abs(shown - round(shown)) > 1e-9 else f"{int(round(shown)):+,}"


def _time(value) -> str:
    if _missing(value):
        return "—"
    return pd.Timestamp(value).strftime("%m-%d %H:%M")


# --- the sections as display frames ----------------------------------------------------------------------------------
def headline_table(model: WeeklyModel, t: _Text) -> pd.DataFrame:
    """The headline section: indicator, this week, last week, vs last week, 4-week average, vs that average."""

    def delta(key, value):
        return fmt_delta(key, value, lambda v: t("delta_pp", value=v)) or "—"

    rows = [
        {
            t("col_indicator"): t(f"k_{r['key']}"),
            t("col_this_week"): fmt_value(r["key"], r["value"]),
            t("col_last_week"): fmt_value(r["key"], r["previous"]),
            t("col_vs_last"): delta(r["key"], r["delta_prev"]),
            t("col_avg4"): fmt_value(r["key"], r["avg4"]),
            t("col_vs_avg4"): delta(r["key"], r["delta_avg"]),
        }
        for _, r in model.headline.changes.iterrows()
    ]
    return pd.DataFrame(rows)


def department_overview(model: WeeklyModel, t: _Text) -> pd.DataFrame:
    """One row per department on the agenda, in the agenda's order."""
    d = model.agenda.departments
    return pd.DataFrame(
        {
            t("col_department"): t.column(d, "name"),
            t("col_overdue"): d["overdue"],
            t("col_disposed"): d["disposed"],
            t("col_ontime_rate"): d["ontime_rate"].map(lambda v: fmt_value("ontime_rate", v)),
            t("col_returned"): d["returned"],
            t("col_reworked"): d["reworked"],
            t("col_escalated"): d["escalated"],
            t("col_repeats"): d["repeats"],
            t("col_open_items"): d["open_items"],
        }
    )


def _section_frames(model: WeeklyModel, dept_id: int, t: _Text) -> dict[str, pd.DataFrame]:
    cases = model.agenda.cases_of(dept_id)
    od, ev, rp = cases["overdue"], cases["events"], cases["repeats"]
    items = model.items.items
    mine = items[items["department_id"] == dept_id] if len(items) else items
    return {
        "overdue": pd.DataFrame(
            {
                t("col_case_no"): od["case_no"],
                t("col_category"): t.column(od, "category"),
                t("col_address"): od["address"],
                t("col_deadline"): od["deadline"].map(_time),
                t("col_days_overdue"): od["days_overdue"],
            }
        ),
        "events": pd.DataFrame(
            {
                t("col_case_no"): ev["case_no"],
                t("col_step"): ev["action"].map(lambda a: t(f"action_{a}")),
                t("col_at"): ev["at"].map(_time),
                t("col_category"): t.column(ev, "category"),
                t("col_note"): ev["note"].fillna(""),
            }
        ),
        "repeats": pd.DataFrame(
            {
                t("col_new_case"): rp.get("case_no", []),
                t("col_first_case"): rp.get("first_case_no", []),
                t("col_category"): t.column(rp, "category"),
                t("col_address"): rp.get("address", []),
                t("col_days_after"): rp.get("days_after", []),
            }
        ),
        "items": items_table(mine, t),
    }


def _item_status(row, t: _Text) -> str:
    state = "st_done" if row["status_in_week"] == "done" else "st_late" if row["overdue"] else "st_open"
    return t(state) + (t("st_week_n", n=int(row["weeks_open"])) if row["carried"] else t("st_new_suffix"))


def items_table(items: pd.DataFrame, t: _Text, names: dict | None = None) -> pd.DataFrame:
    """Action items as listed in the pack (with a department column when ``names`` is given)."""
    columns = [
        t("col_item_id"),
        t("col_text"),
        t("col_due"),
        t("col_item_status"),
        t("col_from_week"),
        t("col_linked"),
        t("col_done_note"),
    ]
    if items is None or items.empty:
        return pd.DataFrame(columns=columns[:1] + ([t("col_department")] if names is not None else []) + columns[1:])
    out = pd.DataFrame(
        {
            columns[0]: items["id"].astype(int),
            columns[1]: items["text"],
            columns[2]: items["due_date"].astype(str),
            columns[3]: items.apply(lambda r: _item_status(r, t), axis=1),
            columns[4]: items["created_week"].astype(str),
            columns[5]: items["linked_case_nos"].map(t("list_sep").join),
            columns[6]: items["done_note"].fillna(""),
        }
    )
    if names is not None:
        out.insert(1, t("col_department"), items["department_id"].map(lambda i: names.get(i, str(i))).to_numpy())
    return out


def flags_table(model: WeeklyModel, t: _Text) -> pd.DataFrame:
    """The new flags of the week: unit, family, level, what (e.g. 疑似隐瞒复杂案件)."""
    f = model.flags.flags
    family = f["family"].map(lambda c: t(f"fam_{c}"))
    return pd.DataFrame(
        {
            t("col_unit"): f["unit"],
            t("col_family"): family,
            t("col_level"): f["level"].map(lambda c: t(f"level_{c}")),
            t("col_what"): [t(f"flag_title_{lv}", family=fam) for lv, fam in zip(f["level"], family)],
        }
    )


def _department_names(model: WeeklyModel, t: _Text) -> dict:
    names = model.agenda.names
    return dict(zip(names["department_id"], t.column(names, "name")))


# --- PDF -------------------------------------------------------------------------------------------------------------
class _Pdf:
    """A thin wrapper over fpdf2 with the pack's fonts, headings and tables."""

    def __init__(self, model: WeeklyModel, t: "_Text"):
        from fpdf import FPDF

        path, index = find_cjk_font(t.lang)
        self.t = t
        self.fp = _font_properties(path, index)
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(auto=True, margin=14)
        pdf.set_margins(12, 12, 12)
        pdf.add_font("cjk", "", path, collection_font_number=index)
        # Subsetting a CFF CJK font recomputes every glyph's bounding box on save (seconds); the boxes are not
        # needed for a PDF's embedded subset.
        for font in pdf.fonts.values():
            if getattr(font, "ttfont", None) is not None:
                font.ttfont.recalcBBoxes = False
        label = t.week_label(model.params.week)
        pdf.set_title(t("pdf_title", week=label))
        pdf.set_creator("Gridscope")

        def footer():
            pdf.set_y(-10)
            pdf.set_font("cjk", size=7)
            pdf.set_text_color(120)
            pdf.cell(0, 4, t("footer", week=label, page=pdf.page_no()), align="C")
            pdf.set_text_color(0)

        pdf.footer = footer
        self.pdf = pdf

    def heading(self, text: str, size: float = 14, new_page: bool = False):
        if new_page:
            self.pdf.add_page()
        elif self.pdf.get_y() > self.pdf.h - 40:  # keep a heading with what follows
            self.pdf.add_page()
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def text(self, text: str, size: float = 9, colour: int = 0):
        self.pdf.set_font("cjk", size=size)
        self.pdf.set_text_color(colour)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0)
        self.pdf.ln(1)

    def table(
        self,
        frame: pd.DataFrame,
        widths: tuple[float, ...] | None = None,
        size: float = 8,
        limit: int | None = None,
        empty: str | None = None,
        wrap: tuple[str, ...] = (),
    ):
        """A ruled table: one line per cell (text cut with … to fit), except ``wrap`` columns, which wrap onto up
        to 4 lines. Drawn with plain cells (fpdf2's table() lays every cell out twice: too slow for 30 sections);
        the header repeats after a page break."""
        pdf = self.pdf
        total = len(frame)
        if total == 0:
            self.text(empty or self.t("none"), colour=110)
            return
        shown = frame.head(limit) if limit else frame
        cols = list(shown.columns)
        widths = widths or tuple(186 / len(cols) for _ in cols)
        line = size * 0.48
        pdf.set_font("cjk", size=size)

        def header():
            pdf.set_fill_color(225, 230, 238)
            for col, w in zip(cols, widths):
                pdf.cell(w, line + 1.6, self._fit(str(col), w), border=1, fill=True)
            pdf.ln(line + 1.6)

        header()
        for values in shown.itertuples(index=False):
            texts = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]
            lines = [self._wrap(t, w) if c in wrap else [self._fit(t, w)] for c, t, w in zip(cols, texts, widths)]
            height = max(len(x) for x in lines) * line + 1.6
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
                header()
            x0, y0 = pdf.get_x(), pdf.get_y()
            x = x0
            for cell_lines, w in zip(lines, widths):
                pdf.rect(x, y0, w, height)
                for k, text in enumerate(cell_lines):
                    pdf.set_xy(x, y0 + 0.8 + k * line)
                    pdf.cell(w, line, text)
                x += w
            pdf.set_xy(x0, y0 + height)
        if limit and total > limit:
            pdf.ln(1)
            self.text(self.t("more_rows", total=total, limit=limit), size=7.5, colour=110)
        pdf.ln(2)

    def _fit(self, text: str, width: float) -> str:
        """``text`` cut with … so it fits in a cell ``width`` mm wide (with padding)."""
        room = width - 2 * self.pdf.c_margin - 0.4
        if self.pdf.get_string_width(text) <= room:
            return text
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if self.pdf.get_string_width(text[:mid] + "…") <= room:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo] + "…"

    def _wrap(self, text: str, width: float, max_lines: int = 4) -> list[str]:
        """``text`` broken into lines that fit ``width`` mm (CJK text breaks anywhere), at most ``max_lines``."""
        room = width - 2 * self.pdf.c_margin - 0.4
        out, current = [], ""
        for ch in text.replace("\n", " "):
            if self.pdf.get_string_width(current + ch) > room:
                out.append(current)
                current = ch
                if len(out) == max_lines:
                    break
            else:
                current += ch
        if len(out) < max_lines:
            out.append(current)
        elif current:
            out[-1] = self._fit(out[-1] + current + "……", width)
        return out or [""]

    def heat_map(self, grid: pd.DataFrame, title: str):
        """A weekday × hour grid (``reports.weekly.heat_grid``) of reported cases drawn as vector cells (168
        rectangles: crisper and much faster than an image), with the busiest cell's count as the scale."""
        pdf, t = self.pdf, self.t
        peak = max(int(grid.to_numpy().max()), 1)
        label_w, cell_w, cell_h = 12.0, 7.0, 4.6
        if pdf.get_y() + 7 * cell_h + 16 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 5, t("heat_scale", title=title, peak=peak), new_x="LMARGIN", new_y="NEXT")
        x0, y0 = pdf.l_margin, pdf.get_y() + 1
        pdf.set_font("cjk", size=6.5)
        for h in range(0, 24, 2):
            pdf.set_xy(x0 + label_w + h * cell_w, y0)
            pdf.cell(cell_w * 2, 3, t("hour", h=h))
        y0 += 3.5
        for d in range(7):
            pdf.set_xy(x0, y0 + d * cell_h)
            pdf.set_font("cjk", size=7.5)
            pdf.cell(label_w, cell_h, t.weekdays[d])
            for h in range(24):
                share = grid.iat[d, h] / peak
                # white → dark orange
                pdf.set_fill_color(int(255 - 40 * share), int(255 - 160 * share), int(255 - 235 * share))
                pdf.rect(x0 + label_w + h * cell_w, y0 + d * cell_h, cell_w, cell_h, style="DF")
        pdf.set_xy(x0, y0 + 7 * cell_h + 3)

    def image(self, png: bytes | None, width: float = 186):
        if png is None:
            return
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
        height = width * h / w
        if self.pdf.get_y() + height > self.pdf.h - 16:
            self.pdf.add_page()
        self.pdf.image(io.BytesIO(png), w=width)
        self.pdf.ln(2)


def build_pdf(model: WeeklyModel, lang: str | None = None) -> bytes:
    """The meeting pack as PDF bytes: overview (headline, trend, department table and chart), hotspots (places,
    weekday × hour), new flags, then one section per department on the agenda, then all action items."""
    t = _Text(lang)
    doc = _Pdf(model, t)
    pdf = doc.pdf
    agenda, hot, n = model.agenda, model.hotspots, model.params.repeat_days
    doc.heading(t("pdf_title", week=t.week_label(model.params.week)), size=16, new_page=True)
    doc.text(t("generated", at=f"{model.generated_at:%Y-%m-%d %H:%M}", n=n), size=8, colour=90)
    doc.heading(t("s_overview"), size=12)
    doc.table(headline_table(model, t), widths=(34, 26, 26, 34, 30, 36), size=9)
    doc.image(trend_chart(model.headline.weeks, doc.fp, t), width=170)
    doc.heading(t("s_agenda"), size=12)
    doc.table(department_overview(model, t), widths=(42, 18, 16, 20, 14, 14, 18, 18, 22), size=8)
    doc.image(department_chart(agenda.departments, doc.fp, t), width=170)

    doc.heading(t("s_hotspots"), size=12, new_page=True)
    doc.table(places_table(model, t), widths=(44, 70, 18, 34, 20), size=8, empty=t("no_cases_week"))
    if len(hot.heat):
        doc.heat_map(weekly.heat_grid(hot.heat), t("heat_all"))
        for code, name in zip(hot.majors["major_code"][:TOP_MAJORS], t.column(hot.majors, "major_name")):
            doc.heat_map(weekly.heat_grid(hot.heat, code), t("heat_major", name=name))
    doc.heading(t("s_flags"), size=12)
    if model.flags.state in ("pending", "other_week"):
        doc.text(t(f"flags_{model.flags.state}"), colour=110)
    else:
        doc.table(flags_table(model, t), size=8, empty=t("flags_none"))

    wrap = (t("col_text"), t("col_linked"), t("col_done_note"))
    for _, dept in agenda.departments.iterrows():
        frames = _section_frames(model, int(dept["department_id"]), t)
        name = dept["name_en"] if t.lang == "en" else dept["name"]
        doc.heading(t("dept_heading", name=name), size=13, new_page=True)
        doc.text(
            t(
                "dept_summary",
                overdue=int(dept["overdue"]),
                disposed=int(dept["disposed"]),
                rate=fmt_value("ontime_rate", dept["ontime_rate"]),
                returned=int(dept["returned"]),
                reworked=int(dept["reworked"]),
                escalated=int(dept["escalated"]),
                repeats=int(dept["repeats"]),
            ),
            size=9,
        )
        doc.heading(t("h_overdue_cases"), size=10)
        doc.table(frames["overdue"], widths=(40, 30, 66, 26, 24), limit=ROWS_PER_LIST)
        doc.heading(t("h_events"), size=10)
        doc.table(frames["events"], widths=(40, 28, 24, 30, 64), limit=ROWS_PER_LIST)
        doc.heading(t("h_repeats", n=n), size=10)
        doc.table(frames["repeats"], widths=(40, 40, 28, 56, 22), limit=ROWS_PER_LIST)
        doc.heading(t("h_items"), size=10)
        doc.table(frames["items"], widths=(12, 52, 22, 30, 22, 26, 22), limit=ROWS_PER_LIST, wrap=wrap)

    doc.heading(t("s_items"), size=12, new_page=True)
    doc.table(
        items_table(model.items.items, t, _department_names(model, t)),
        widths=(10, 26, 44, 20, 26, 20, 22, 18),
        empty=t("no_items_week"),
        wrap=wrap,
    )
    return bytes(pdf.output())


# --- XLSX ------------------------------------------------------------------------------------------------------------
def places_table(model: WeeklyModel, t: _Text) -> pd.DataFrame:
    places = model.hotspots.places
    return pd.DataFrame(
        {
            t("col_grid"): places["grid"],
            t("col_address"): places["address"],
            t("col_cases"): places["n"],
            t("col_top_category"): t.column(places, "top_category"),
            t("col_top_n"): places["top_n"],
        }
    )


def xlsx_sheets(model: WeeklyModel, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """The workbook's sheets (name → frame), one per section, every row (the PDF truncates long lists)."""
    t = _Text(lang)
    names = _department_names(model, t)
    agenda, hot = model.agenda, model.hotspots

    def dept(frame):
        return frame["department_id"].map(lambda i: names.get(i, i)) if len(frame) else []

    heat = (
        hot.heat.assign(major=t.column(hot.heat, "major_name"))
        .pivot_table(index=["major", "weekday"], columns="hour", values="n", aggfunc="sum", fill_value=0)
        .reset_index()
        if len(hot.heat)
        else pd.DataFrame()
    )
    if len(heat):
        heat["weekday"] = heat["weekday"].map(lambda i: t.weekdays[int(i)])
        heat = heat.rename(columns={"major": t("col_major"), "weekday": t("col_weekday")})
        heat.columns = [t("hour", h=c) if isinstance(c, int) else c for c in heat.columns]
    od, ev, rp = agenda.overdue, agenda.events, agenda.repeats
    flags = (
        flags_table(model, t)
        if model.flags.state in ("none", "listed")
        else pd.DataFrame({t("col_explain"): [t(f"flags_{model.flags.state}_short")]})
    )
    return {
        t("sheet_overview"): headline_table(model, t).assign(**{t("col_week"): t.week_label(model.params.week)}),
        t("sheet_agenda"): department_overview(model, t),
        t("sheet_overdue"): pd.DataFrame(
            {
                t("col_department"): dept(od),
                t("col_case_no"): od["case_no"],
                t("col_category"): t.column(od, "category"),
                t("col_status"): od["status"].map(t.status),
                t("col_address"): od["address"],
                t("col_reported_at"): od["reported_at"],
                t("col_deadline"): od["deadline"],
                t("col_days_overdue"): od["days_overdue"],
            }
        ),
        t("sheet_events"): pd.DataFrame(
            {
                t("col_department"): dept(ev),
                t("col_case_no"): ev["case_no"],
                t("col_step"): ev["action"].map(lambda a: t(f"action_{a}")),
                t("col_at"): ev["at"],
                t("col_category"): t.column(ev, "category"),
                t("col_note"): ev["note"],
            }
        ),
        t("sheet_repeats"): pd.DataFrame(
            {
                t("col_department"): dept(rp),
                t("col_new_case"): rp.get("case_no", []),
                t("col_reported_at"): rp.get("reported_at", []),
                t("col_first_case"): rp.get("first_case_no", []),
                t("col_first_closed_at"): rp.get("first_closed_at", []),
                t("col_category"): t.column(rp, "category"),
                t("col_grid"): rp.get("grid", []),
                t("col_address"): rp.get("address", []),
                t("col_days_after"): rp.get("days_after", []),
            }
        ),
        t("sheet_places"): places_table(model, t),
        t("sheet_heat"): heat,
        t("sheet_flags"): flags,
        t("sheet_items"): items_table(model.items.items, t, names),
    }


def build_xlsx(model: WeeklyModel, lang: str | None = None) -> bytes:
    """The meeting pack as an XLSX workbook (bytes), one sheet per section (see ``xlsx_sheets``)."""
    return exports.xlsx_bytes(xlsx_sheets(model, lang), fit_widths=True)  # text never becomes a formula


# --- the download buttons --------------------------------------------------------------------------------------------
_packs: "OrderedDict[tuple, bytes]" = OrderedDict()
_packs_lock = threading.Lock()


def download(
    kind: str,
    engine: Engine,
    params: WeeklyParams,
    *,
    now: datetime,
    lang: str | None,
    items: pd.DataFrame,
    flags: pd.DataFrame | None,
) -> Callable[[], bytes]:
    """A deferred builder for ``st.download_button(data=…)``: builds the model and the pack (``kind`` pdf | xlsx)
    when the viewer clicks, outside the page run; the bytes are kept per (database, week, N, language, action-item
    state, flags ready, hour), so a meeting clicking again does not wait again."""
    state = hashlib.sha1(items[["id", "status"]].to_json().encode() if len(items) else b"").hexdigest()[:12]
    key = (kind, str(engine.url), params, lang, state, flags is not None, f"{now:%Y%m%d%H}")

    def build() -> bytes:
        with _packs_lock:
            if key in _packs:
                _packs.move_to_end(key)
                return _packs[key]
        model = weekly.build(engine, params, now=now, flags=flags)
        data = build_pdf(model, lang) if kind == "pdf" else build_xlsx(model, lang)
        with _packs_lock:
            _packs[key] = data
            while len(_packs) > PACKS_KEPT:
                _packs.popitem(last=False)
        return data

    return build
